"""The phone matcher's parse-and-verify step on `rphonenumbers` (Rust); phonenumbers as fallback.

phonenumbers' matcher spends most of its time in `parse` and `is_valid_number` (pure Python, ~40 µs
a candidate). `rphonenumbers` runs the same functions on the Rust port of libphonenumber in ~3 µs.
It is a young package, so it is trusted only this far:

- the version is pinned (`PINNED`); any other version, a failed import, or a disagreement with
  phonenumbers on the self-check below switches it off for the process (phonenumbers alone then);
- it only answers the two questions "does this candidate parse" and "is the number valid"; the
  matcher's own checks (brackets, page ranges, surrounding letters, `x` characters, required
  national prefix) stay phonenumbers' code, run on a phonenumbers `PhoneNumber` built from the
  Rust result;
- tests/detect/test_phone_differential.py compares the matcher with and without it on a large
  generated corpus, and the run-time self-check compares both on the example numbers of every
  configured region before first use.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from types import ModuleType
from typing import Any, Final

import phonenumbers
from phonenumbers import CountryCodeSource, PhoneNumber, PhoneNumberFormat, PhoneNumberType

PINNED: Final = "0.1.0"
# Operators can switch the Rust engine off without a release (and tests compare both ways).
DISABLE_ENV: Final = "OMNIGATE_PHONE_ENGINE"  # "python" turns the Rust engine off


def _load() -> ModuleType | None:
    if os.environ.get(DISABLE_ENV, "").lower() == "python":
        return None
    try:
        module = importlib.import_module("rphonenumbers")
    except ImportError:
        return None
    if getattr(module, "__version__", None) != PINNED:
        return None
    return module


_ENGINE: Final = _load()


def engine() -> ModuleType | None:
    """The Rust-backed module when it is installed, pinned and enabled; else None."""
    return _ENGINE


@cache
def agrees_for(region: str) -> bool:
    """True when the Rust engine parses and validates like phonenumbers for `region`'s examples.

    The check uses every example number of the region in every format, plus a few invalid
    variants of each (a digit dropped or added), read with `region` as the default region.
    """
    fast = _ENGINE
    if fast is None:
        return False
    for text in _samples(region):
        if _verdict(phonenumbers, text, region) != _verdict(fast, text, region):
            return False
    return True


def _samples(region: str) -> list[str]:
    texts: list[str] = []
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        for fmt in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL,
                    PhoneNumberFormat.NATIONAL):  # fmt: skip
            text = phonenumbers.format_number(number, fmt)
            texts += (text, text[:-1], text + "1")
    return texts


def _verdict(module: Any, text: str, region: str) -> tuple[int, int, bool] | None:
    try:
        number = module.parse(text, region)
    except module.NumberParseException:
        return None
    return number.country_code, number.national_number, bool(module.is_valid_number(number))


def parse_valid(fast: ModuleType, candidate: str, region: str) -> PhoneNumber | None:
    """The candidate as a phonenumbers `PhoneNumber` when the Rust engine finds it valid.

    The number carries what the matcher's remaining checks read: country code and its source,
    national number, leading zeros, extension and the raw input.
    """
    try:
        number = fast.parse(candidate, region, keep_raw_input=True)
    except fast.NumberParseException:
        return None
    if not fast.is_valid_number(number):
        return None
    return PhoneNumber(
        country_code=number.country_code,
        national_number=number.national_number,
        extension=number.extension,
        italian_leading_zero=number.italian_leading_zero,
        number_of_leading_zeros=number.number_of_leading_zeros,
        raw_input=number.raw_input,
        country_code_source=CountryCodeSource.UNSPECIFIED
        if number.country_code_source is None
        else int(number.country_code_source),
        preferred_domestic_carrier_code=number.preferred_domestic_carrier_code,
    )
