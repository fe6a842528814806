"""Phone numbers to E.164 for the omnichannel identity (SPEC 4).

A phone identifies a person only when it is a *valid* number (phonenumbers' full metadata check).
Channel quirks are repaired here so that one person gets one id whichever channel they write from.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

# Channel address schemes in front of the number: Twilio's `whatsapp:+1...`, RFC 3966 `tel:+1...`.
_SCHEMES = ("whatsapp:", "tel:")

# Fewer digits than this is a short code (3-6 digits, e.g. an SMS keyword service), never a
# person's number; the shortest real international numbers have 7 digits with the country code.
_MIN_DIGITS = 7

# Beyond E.164's 15 digits plus generous punctuation nothing is a phone; bounds parsing work.
_MAX_CHARS = 64

# Brazil: mobiles got a leading 9 in 2012-2016 (8 -> 9 digits). WhatsApp still reports many
# Brazilian wa_ids without it; the old 8-digit mobile ranges start with 6-9 (landlines 2-5).
_BR_OLD_MOBILE_FIRST = frozenset("6789")


def normalise_phone(raw: str | int, region: str, *, international: bool = False) -> str | None:
    """Return `raw` as E.164 (`+14155557890`), or None when it is not a valid personal number.

    `international=True` is for sources that always give full international digits without `+`
    (WhatsApp `from` / `wa_id`, Twilio `WaId`, Telegram contacts); other values are parsed with
    `region` for numbers written without a country code.
    """
    text = _as_text(raw)
    if text is None:
        return None
    text = _strip_scheme(text)
    # PII: alphanumeric sender ids ("MyBrand") and vanity numbers are not a person's number.
    if any(ch.isalpha() for ch in text):
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < _MIN_DIGITS:
        return None
    if international:
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    number = _repair(number)
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _as_text(raw: object) -> str | None:
    if isinstance(raw, bool):  # bool is an int subclass; True is not a phone number
        return None
    if isinstance(raw, int):
        return str(raw) if raw > 0 else None
    if isinstance(raw, str) and len(raw) <= _MAX_CHARS:
        return raw.strip()
    return None


def _strip_scheme(text: str) -> str:
    lowered = text.lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            if scheme == "tel:":
                text = text.split(";", 1)[0]  # RFC 3966 parameters (;ext=, ;phone-context=)
            return text.strip()
    return text


def _repair(number: PhoneNumber) -> PhoneNumber:
    """Known national quirks, applied only when they turn an invalid number into a valid one."""
    if phonenumbers.is_valid_number(number):
        return number
    national = str(number.national_number)
    candidate: str | None = None
    if number.country_code == 55 and len(national) == 10 and national[2] in _BR_OLD_MOBILE_FIRST:
        candidate = national[:2] + "9" + national[2:]  # +55 11 8765-4321 -> +55 11 98765-4321
    elif number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        candidate = national[1:]  # legacy mobile marker: +52 1 55 ... -> +52 55 ...
    elif number.country_code == 52 and len(national) == 12 and national[:2] in ("44", "45"):
        candidate = national[2:]  # legacy national mobile prefixes 044 / 045 (before 2019)
    if candidate is None:
        return number
    repaired = PhoneNumber(country_code=number.country_code, national_number=int(candidate))
    return repaired if phonenumbers.is_valid_number(repaired) else number
