"""The `phone` mask: `XXX-XXX-` + the last four digits (SPEC 3.3)."""

from __future__ import annotations

import unicodedata
from typing import Final

from gateway.masks.mask import MaskType, StringMask, no_options_builder

NO_DIGITS: Final = "XXX-XXX-XXXX"
PREFIX: Final = "XXX-XXX-"
_NOT_DIGITS: Final = dict.fromkeys(c for c in range(128) if not chr(c).isdigit())


def mask_phone_text(text: str) -> str:
    """`XXX-XXX-dddd` from the last four decimal digits of `text`; `XXX-XXX-XXXX` with fewer.

    Any Unicode decimal digit counts (phonenumbers reads Arabic-Indic or full-width digits too) and
    is written back as ASCII, so the output always has the shape the write-back guard knows.
    """
    tail = text[-4:]
    if (
        len(tail) == 4 and tail.isdecimal() and tail.isascii()
    ):  # E.164 and most stored forms end in four digits
        return PREFIX + tail
    if text.isascii():
        digits = text.translate(_NOT_DIGITS)
        return PREFIX + digits[-4:] if len(digits) >= 4 else NO_DIGITS
    last: list[str] = []
    for char in reversed(text):
        if char.isdecimal():
            last.append(char)
            if len(last) == 4:
                # PII: only these four digits survive; everything else of the value is dropped.
                return PREFIX + "".join(str(unicodedata.decimal(d)) for d in reversed(last))
    return NO_DIGITS


class PhoneMask(StringMask):
    __slots__ = ()
    name = "phone"
    keeps_blank = False  # SPEC 3.3 defines the output for a value without digits / without `@`

    def mask_str(self, text: str) -> str:
        return mask_phone_text(text)


TYPE: Final = MaskType("phone", frozenset(), no_options_builder(PhoneMask))
