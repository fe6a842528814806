"""Corpus "PII as people type it": every item must be found (tests/detect/test_corpora.py).

Each item is `(text, pii, regions)`: `pii` is the exact substring the finding must cover, read
with `Detector("US", regions)`. Built deterministically: emails with every legal local-part form
and every disguise SPEC 3.3 names, phones of many countries in international form (`+`, `00`,
`011`), in national form (their region among the text regions), and in every disguise.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

Item = tuple[str, str, tuple[str, ...]]

# RFC 5322 local parts: dot-atoms of every atext character, quoted strings, and RFC 6531 (EAI).
LOCAL_PARTS = (
    "jane", "jane.doe", "o'brien", "patrick.o'brien", "jane+tag", "jane_doe", "jane-doe",
    "j", "x1", "1234567", "a!b", "a#b", "a$b", "a%b", "a&b", "a*b", "a/b", "a=b", "a?b",
    "a^b", "a`b", "a{b}", "a|b", "a~b", "!def!xyz%abc", "customer/department=shipping",
    "user+mailbox/department=shipping", "_somename", "~tilde", "D'Angelo", "JANE.DOE",
    '"john smith"', '"john..doe"', '"a@b"', '"very.unusual.@.unusual.com"', '"x\\"y"',
    "josé", "müller", "用户", "почта", "δοκιμή", "अजय", "θσερ.ναμε",
)  # fmt: skip
DOMAINS = (
    "example.com", "mail.example.co.uk", "sub.example-mail.org", "example.io", "EXAMPLE.COM",
    "müller.de", "例子.广告", "пример.рф", "xn--mller-kva.de", "example.museum",
    "a1.example.technology",
)  # fmt: skip
# The same address, disguised (`{l}` local part, `{d}` domain, `{d1}`/`{d2}` its two halves).
EMAIL_FORMS = (
    "{l}@{d}", "{l}\uff20{d}", "{l}%40{d}", "{l}&#64;{d}", "{l}&#x40;{d}", "{l}&commat;{d}",
    "{l} @ {d}", "{l}@ {d}", "{l}\u200b@{d}", "{l}@\u200b{d}", "{l}\u00ad@{d}",
    "{l} [at] {d1} [dot] {d2}", "{l}(at){d1}(dot){d2}", "{l} (at) {d1} (dot) {d2}",
    "{l}[at]{d1}[dot]{d2}", "{l} [AT] {d1} [DOT] {d2}", "{l} {{at}} {d1} {{dot}} {d2}",
    "{l}[at]{d}",
)  # fmt: skip
SENTENCES = (
    "write to {} please", "{}", "mail: {}.", "(contact {})", "Email:{}", "<{}>",
    "me: {}\nthanks", "«{}»",
)  # fmt: skip

COUNTRIES = (
    "US", "CA", "GB", "DE", "FR", "IN", "BR", "MX", "AU", "JP", "CN", "ES", "IT", "NL", "ZA",
    "NG", "AE", "SG", "AR", "KR", "CH", "SE", "PL", "TR", "ID", "PH", "EG", "KE", "NZ", "IE",
    "PT", "BE", "AT", "CO", "CL", "PK", "BD", "VN", "TH", "IL", "SA", "UA", "RO", "GR", "FI",
)  # fmt: skip
PHONE_FORMS = (
    "call {} now", "{}", "tel: {}", "my cell is {}!", "({})", "WhatsApp {}", "Tel.{}",
    "number:{} thanks", "我的电话是{}，谢谢",
)  # fmt: skip
SPACES = ("\u2009", "\u00a0", "\u202f", " ")


def _email_items() -> list[Item]:
    items: list[Item] = []
    for index, local in enumerate(LOCAL_PARTS):
        for form_index, form in enumerate(EMAIL_FORMS):
            domain = DOMAINS[(index + form_index) % len(DOMAINS)]
            first, _, rest = domain.partition(".")
            address = form.format(l=local, d=domain, d1=first, d2=rest.replace(".", " [dot] "))
            sentence = SENTENCES[(index * 7 + form_index) % len(SENTENCES)]
            items.append((sentence.format(address), address, ()))
    return items


def _numbers(region: str) -> list[phonenumbers.PhoneNumber]:
    kinds = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
    return [n for k in kinds if (n := phonenumbers.example_number_for_type(region, k)) is not None]


def _phone_items() -> list[Item]:
    items: list[Item] = []
    for c_index, region in enumerate(COUNTRIES):
        for n_index, number in enumerate(_numbers(region)):
            seed = c_index * 3 + n_index
            sentence = PHONE_FORMS[seed % len(PHONE_FORMS)]
            intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            space = SPACES[seed % len(SPACES)]
            forms = [
                (intl, ()),  # +44 20 7946 0958
                (e164, ()),  # +442079460958
                ("00" + intl[1:], ()),  # 0044 20 7946 0958
                ("011 " + intl[1:], ()),  # 011 44 20 7946 0958 (from North America)
                (intl.replace(" ", space), ()),  # thin / no-break spaces
                (national, (region,)),  # national form, its region among the text regions
                ("tel:" + e164, ()),
                ("wa.me/" + e164[1:], ()),
                (e164[1:] + "@s.whatsapp.net", ()),
                (_broken(intl), ()),  # across one line break
                (intl.replace(" ", "\u200b "), ()),  # zero-width spaces inside
                (_fullwidth(intl), ()),  # full-width digits and plus
            ]
            for text, regions in forms:
                if text.startswith("tel:"):
                    items.append((sentence.format(text), text[4:], regions))
                elif text.endswith("@s.whatsapp.net"):
                    items.append((text, text.partition("@")[0], regions))
                elif text.startswith("wa.me/"):
                    items.append((f"chat: https://{text}", text[6:], regions))
                else:
                    items.append((sentence.format(text), text, regions))
    return items


def _broken(text: str) -> str:
    """The number with its last space a line break (`+44 20 7946\\n0958`)."""
    head, _, tail = text.rpartition(" ")
    return f"{head}\n{tail}" if head else text


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "+" else c for c in text)


QUIRKS: tuple[Item, ...] = (
    ("ligue +55 11 8765-4321", "+55 11 8765-4321", ()),  # Brazil, mobile without its 9th digit
    ("ligue (11) 8765-4321", "(11) 8765-4321", ("BR",)),  # the same, national
    ("WhatsApp +52 1 55 1234 5678", "+52 1 55 1234 5678", ()),  # Mexico's legacy +52 1
    ("+521 5512345678", "+521 5512345678", ()),  # the same, run together
    ("call 415 555\n7890", "415 555\n7890", ()),  # a US national number over a line break
    ("call 415 555\r\n7890 now", "415 555\r\n7890", ()),  # CRLF
    ("tel:4155557890", "4155557890", ()),
    ("<a href='tel:+442079460958'>call</a>", "+442079460958", ()),
    ("https://api.whatsapp.com/send?phone=5511987654321", "5511987654321", ()),
    ("5511987654321@c.us", "5511987654321", ()),
    ("ring 0044 20 7946 0018 please", "0044 20 7946 0018", ()),  # the example
    ("call +1\u00a0(415)\u00a0555\u20117890", "+1\u00a0(415)\u00a0555\u20117890", ()),
)


def items() -> list[Item]:
    return _email_items() + _phone_items() + list(QUIRKS)
