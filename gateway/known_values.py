"""Known values (SPEC 3.9): what a rule masked in a document is masked wherever it recurs in it.

While the rules run, the clear values that `phone`, `email`, `name` and `attributes` rules masked
are recorded (`recording`, a mask wrapper writing to a per-call list). Afterwards one `KnownValues`
is compiled for the document, only when something was recorded: one combined regular expression
(the longest alternatives first), so each further string costs one search:

- phones: the digits of the national significant number in order, any separators between them,
  with or without the country code (`+`, `00`, `011`) or a national trunk `0` in front;
- emails: case-insensitively, `@` also as `%40` (and any character percent-encoded);
- names: as whole words, case-sensitively: the full name and each word of three letters or more.

Each recurrence is replaced with the mask the rule wrote (`XXX-XXX-7890`, `****@example.com`,
`J*** D***`, a word's `J***`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, Final

import phonenumbers

from gateway.detect import national_digits
from gateway.known_patterns import Alternation, Literals, trie
from gateway.known_screen import KnownScreen, email_windows, holds_window
from gateway.masks.email import mask_email_text
from gateway.masks.mask import Mask, WrappedMask, scalar_text
from gateway.masks.name import mask_name_text
from gateway.masks.phone import mask_phone_text

RECORDED_KINDS: Final = frozenset({"phone", "email", "name", "attributes"})
# One recorded value: (kind, clear text). A list per `DocumentMasker.mask` call.
RECORD: ContextVar[list[tuple[str, str]] | None] = ContextVar("omnigate_known", default=None)
_SEPARATORS: Final = r"[\s.\-/()\u00a0\u2009\u202f]*"
_WORD: Final = re.compile(r"\w{3,}")
_MIN_PHONE_DIGITS: Final = 6  # shorter national numbers would match ordinary digit runs
_QUIRKS: Final = frozenset({"52", "55"})  # Mexico's `1`, Brazil's 9th digit: parsed (SPEC 4)
_NON_DIGIT: Final = re.compile(r"\D+")
_COUNTRY_CODES: Final = frozenset(map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE))
_WORD_RUN: Final = re.compile(r"\w+")


class RecordingMask(WrappedMask):
    """Wraps a rule's mask: each value it changes is recorded (PII: held for one call only)."""

    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        result = self.inner(value)
        if result is not value:
            record = RECORD.get()
            if record is not None:
                if type(value) is str and self.name != "attributes":
                    record.append((self.name, value))  # blank ones are dropped when compiled
                else:
                    _record(record, self.inner, value, result)
        return result


def _record(record: list[tuple[str, str]], mask: Mask, value: Any, result: Any) -> None:
    if mask.name != "attributes":
        text = scalar_text(value)
        if text is not None and text.strip():
            record.append((mask.name, text))
        return
    if not isinstance(value, dict) or not isinstance(result, dict):
        return
    mask_for = getattr(mask, "_mask_for", None)
    for key, clear in value.items():
        if result.get(key, None) is clear or mask_for is None:
            continue
        inner = mask_for(key)
        text = scalar_text(clear)
        if inner is not None and inner.name in ("phone", "email", "name") and text:
            record.append((inner.name, text))


class KnownValues:
    """The recorded values of one document, compiled into a few cheap searches.

    A string costs about one C-level step per kind in the common case: name words by a set test
    of its word runs; emails by a set test of the characters around each `@` (`%40`), and only
    then a trie-shaped regular expression of their literal forms (on the lower-cased text, built
    on first use); phones by a trie of their national numbers over the string's digits, and only
    on a hit by the separators-tolerant expression of the numbers that hit.
    """

    __slots__ = (
        "_email_windows",
        "_emails",
        "_hits",
        "_name_set",
        "_names",
        "_phone_digits",
        "_phones",
        "_short_firsts",
        "_short_names",
    )

    def __init__(self, values: Iterable[tuple[str, str]], region: str) -> None:
        # Each distinct value once (a history repeats its customer's name and address in every
        # message); masks and patterns are made on first use: most documents are cleared by
        # `screen()` without them (compiling ~500 numbers' trie alone costs ~4 ms).
        by_kind: dict[str, dict[str, None]] = {"phone": {}, "email": {}, "name": {}}
        for kind, text in values:
            by_kind.setdefault(kind, {})[text] = None
        names: dict[str, str] = {}
        short_names: dict[str, str] = {}
        short_firsts: set[str] = set()
        emails: dict[str, str] = {}
        self._hits: dict[frozenset[str], Alternation] = {}
        self._phones: dict[str, str] = {}  # national digits -> country code
        for text in by_kind["phone"]:
            digits, code = _parsed(text, region)
            if len(digits) >= _MIN_PHONE_DIGITS:
                self._phones.setdefault(digits, code)
        for text in by_kind["email"]:
            address = text.strip().lower()
            if "@" in address and len(address) >= 5:
                emails.setdefault(address, address)
                emails.setdefault(address.replace("@", "%40"), address)
        for text in by_kind["name"]:
            words = text.split()
            for word in words:
                for part in _WORD.findall(word):
                    if not part.isdigit():
                        names.setdefault(part, part)
            if any(len(word) < 3 for word in words):
                for pattern, replacement in _name(text)[:1]:
                    short_names.setdefault(pattern, replacement)
                    short_firsts.add(words[0])
        self._names = names  # word -> its mask, made on first use
        self._name_set = frozenset(names)
        self._emails = Literals(emails, mask_email_text)
        self._email_windows = email_windows(emails)
        self._short_names = Alternation(short_names)
        self._short_firsts = short_firsts
        self._phone_digits: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self._names or self._emails or self._phones or self._short_names)

    def screen(self) -> KnownScreen:
        """The whole-document test that none of these values recurs (`gateway.residual_screen`)."""
        return KnownScreen(
            self._phones, self._emails.literals(), [*self._names, *self._short_firsts]
        )

    def mask(self, text: str) -> str:
        """`text` with every recurrence replaced; `text` itself when none is in it."""
        if self._phones and len(text) >= _MIN_PHONE_DIGITS:
            digits = _NON_DIGIT.sub("", text)
            if len(digits) >= _MIN_PHONE_DIGITS:
                numbers = self._phone_digits
                if numbers is None:
                    numbers = self._phone_digits = re.compile(trie(sorted(self._phones)))
                hits = frozenset(m.group() for m in numbers.finditer(digits))
                if hits:
                    search = self._hits.get(hits)
                    if search is None:
                        search = self._hits[hits] = Alternation(
                            dict(_phone(d, self._phones[d]) for d in hits)
                        )
                    text = search.sub(text)
        if self._emails and ("@" in text or "%" in text):
            lowered = text.lower()
            # Offsets hold only when lower-casing keeps the length (a few characters change it).
            if len(lowered) == len(text) and self._may_hold_email(lowered):
                text = self._emails.sub(text, lowered)
        if self._short_names:
            text = self._short_names.sub(text)
        if self._names:
            # A name part is all word characters, matched as a whole word: exactly a maximal
            # run of word characters. One C-level findall + set test per string, no trie to
            # build for the document's (often ~500) names.
            words = _WORD.findall(text)
            if words and not self._name_set.isdisjoint(words):
                text = _WORD_RUN.sub(self._masked_word, text)
        return text

    def _masked_word(self, match: re.Match[str]) -> str:
        word = match.group()
        if word not in self._name_set:
            return word
        masked = self._names[word]
        if masked == word:  # first use: the mask is made now
            masked = self._names[word] = mask_name_text(word)
        return masked

    def _may_hold_email(self, lowered: str) -> bool:
        """False when no recorded address can be in `lowered`: each one's `@` (or `%40`) with the
        character before and after it would be (one set test per `@`, no trie to build)."""
        windows = self._email_windows
        if windows is None:
            return True
        return holds_window(lowered, windows, "@") or holds_window(lowered, windows, "%40")


def _phone(digits: str, code: str) -> tuple[str, str]:
    """(pattern, mask) of a recorded phone's national digits and country code."""
    prefix = rf"(?:(?:\+|00|011){_SEPARATORS}{code}{_SEPARATORS}|{code}{_SEPARATORS})?"
    trunk = rf"(?:\(?0\)?{_SEPARATORS})?"
    body = _SEPARATORS.join(digits)
    pattern = rf"(?<![\d+]){prefix}{trunk}\(?{body}(?!\d)"
    return pattern, mask_phone_text(digits)


def _parsed(text: str, region: str) -> tuple[str, str]:
    """The national digits and country code of a phone value (SPEC 4's reading)."""
    value = text.strip()
    for prefix in ("whatsapp:", "tel:"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    if value.startswith("+"):
        # E.164, as chat APIs store phones: country codes are prefix-free, so the first 1-3
        # digits that are one split it exactly, without a parse (~100 us each, per document).
        digits = value[1:]
        if not (digits.isdecimal() and digits.isascii()):
            digits = _NON_DIGIT.sub("", value)
        for size in (1, 2, 3):
            if digits[:size] in _COUNTRY_CODES:
                if digits[:size] not in _QUIRKS:
                    return digits[size:], digits[:size]
                break
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        code = phonenumbers.country_code_for_region(region) or 1
        return _NON_DIGIT.sub("", text), str(code)
    repaired = None if phonenumbers.is_valid_number(number) else national_digits(text, region)
    nsn = repaired or phonenumbers.national_significant_number(number)
    return nsn, str(number.country_code)


def _name(text: str) -> list[tuple[str, str]]:
    words = text.split()
    if not words:
        return []
    found = [(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", mask_name_text(text))]
    for word in words:
        for part in _WORD.findall(word):
            if part.isdigit():
                continue
            found.append((rf"(?<!\w){re.escape(part)}(?!\w)", mask_name_text(part)))
    return found
