"""The naive way to mask, for comparison: what one writes first with off-the-shelf libraries.

Per request: every JSONPath is parsed with jsonpath-ng, `find()` walks the document, and each
match is written back with `full_path.update()`. Free text is masked either with one regex per
text for phones and emails, or (the variant with the gateway's detection quality) with
phonenumbers' `PhoneNumberMatcher` on every text plus the email regex.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonpath_ng.parser import parse
from phonenumbers import Leniency, PhoneNumberMatcher

PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().\-]{6,}\d(?!\w)")
EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
NON_DIGIT = re.compile(r"\D")

Masker = Callable[[Any], Any]


def mask_phone(value: Any) -> Any:
    if value is None:
        return None
    digits = NON_DIGIT.sub("", str(value))
    return f"XXX-XXX-{digits[-4:]}" if len(digits) >= 4 else "XXX-XXX-XXXX"


def mask_email(value: Any) -> Any:
    if not isinstance(value, str):
        return value if value is None else "****"
    return f"****@{value.rpartition('@')[2].lower()}" if "@" in value else "****"


def mask_name(value: Any) -> Any:
    if not isinstance(value, str):
        return value if value is None else "****"
    return " ".join(word[0] + "***" for word in value.split())


def _email_sub(match: re.Match[str]) -> str:
    return str(mask_email(match.group()))


def _phone_sub(match: re.Match[str]) -> str:
    return str(mask_phone(match.group()))


def text_by_regex(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return PHONE.sub(_phone_sub, EMAIL.sub(_email_sub, value))


def text_by_matcher(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = EMAIL.sub(_email_sub, value)
    matches = list(PhoneNumberMatcher(text, "US", leniency=Leniency.VALID))
    for match in reversed(matches):
        masked = f"XXX-XXX-{str(match.number.national_number)[-4:]}"
        text = text[: match.start] + masked + text[match.end :]
    return text


def rules(text: Masker) -> list[tuple[str, Masker]]:
    """The bench's `bench-messages` route, as (expression, function) pairs."""
    return [
        ("$.payload[*].content", text),
        ("$..sender.phone_number", mask_phone),
        ("$..sender.email", mask_email),
        ("$..sender.name", mask_name),
    ]


def transform(doc: Any, pairs: list[tuple[str, Masker]], parsed: dict[str, Any] | None) -> int:
    """Mask `doc` in place; `parsed` holds pre-parsed expressions (None: parse per request)."""
    count = 0
    for expression, masker in pairs:
        path = parsed[expression] if parsed is not None else parse(expression)
        for match in path.find(doc):
            new = masker(match.value)
            if new != match.value:
                match.full_path.update(doc, new)
                count += 1
    return count


def preparse(pairs: list[tuple[str, Masker]]) -> dict[str, Any]:
    return {expression: parse(expression) for expression, _ in pairs}
