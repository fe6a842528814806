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
from gateway.masks.email import mask_email_text
from gateway.masks.mask import Mask, scalar_text
from gateway.masks.name import mask_name_text
from gateway.masks.phone import mask_phone_text

RECORDED_KINDS: Final = frozenset({"phone", "email", "name", "attributes"})
# One recorded value: (kind, clear text). A list per `DocumentMasker.mask` call.
RECORD: ContextVar[list[tuple[str, str]] | None] = ContextVar("omnigate_known", default=None)
_SEPARATORS: Final = r"[\s.\-/()\u00a0\u2009\u202f]*"
_WORD: Final = re.compile(r"\w{3,}")
_MIN_PHONE_DIGITS: Final = 6  # shorter national numbers would match ordinary digit runs


class RecordingMask:
    """Wraps a rule's mask: each value it changes is recorded (PII: held for one call only)."""

    __slots__ = ("inner", "name")

    def __init__(self, inner: Mask) -> None:
        self.inner = inner
        self.name = inner.name

    def __call__(self, value: Any) -> Any:
        result = self.inner(value)
        if result is not value:
            record = RECORD.get()
            if record is not None:
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
    """The recorded values of one document, compiled into one search."""

    __slots__ = ("_pattern", "_replacements")

    def __init__(self, values: Iterable[tuple[str, str]], region: str) -> None:
        alternatives: dict[str, str] = {}  # pattern -> replacement
        for kind, text in values:
            for pattern, replacement in _patterns(kind, text, region):
                alternatives.setdefault(pattern, replacement)
        ordered = sorted(alternatives, key=len, reverse=True)
        self._replacements = [alternatives[p] for p in ordered]
        self._pattern = re.compile("|".join(f"({p})" for p in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def mask(self, text: str) -> str:
        """`text` with every recurrence replaced; `text` itself when none is in it."""
        pattern = self._pattern
        if pattern is None or pattern.search(text) is None:
            return text
        replacements = self._replacements
        return pattern.sub(lambda m: replacements[(m.lastindex or 1) - 1], text)


def _patterns(kind: str, text: str, region: str) -> list[tuple[str, str]]:
    if kind == "phone":
        return _phone(text, region)
    if kind == "email":
        return _email(text)
    if kind == "name":
        return _name(text)
    return []


def _phone(text: str, region: str) -> list[tuple[str, str]]:
    digits = national_digits(text, region) or re.sub(r"\D", "", text)
    if len(digits) < _MIN_PHONE_DIGITS:
        return []
    code = _country_code(text, region)
    prefix = rf"(?:(?:\+|00|011){_SEPARATORS}{code}{_SEPARATORS}|{code}{_SEPARATORS})?"
    trunk = rf"(?:\(?0\)?{_SEPARATORS})?"
    body = _SEPARATORS.join(digits)
    return [(rf"(?<![\d+]){prefix}{trunk}\(?{body}(?!\d)", mask_phone_text(digits))]


def _country_code(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text.strip().removeprefix("tel:"), region)
    except phonenumbers.NumberParseException:
        return str(phonenumbers.country_code_for_region(region) or 1)
    return str(number.country_code)


def _email(text: str) -> list[tuple[str, str]]:
    address = text.strip()
    if "@" not in address or len(address) < 5:
        return []
    parts = []
    for char in address:
        encoded = "".join(f"%{byte:02x}" for byte in char.encode("utf-8"))
        if char.isalnum():
            parts.append(re.escape(char))
        else:
            parts.append(f"(?:{re.escape(char)}|{encoded})")
    return [(f"(?i:{''.join(parts)})", mask_email_text(address))]


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
