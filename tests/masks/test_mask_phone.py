"""The `phone` mask: `XXX-XXX-` + the last four digits (SPEC 3.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.masks import MaskContext, compile_mask, is_mask_output

PHONE = compile_mask("phone", MaskContext())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1 (415) 555-7890", "XXX-XXX-7890"),  # SPEC example
        ("919876543210", "XXX-XXX-3210"),  # SPEC example
        ("+14155557890", "XXX-XXX-7890"),  # E.164
        ("whatsapp:+14155557890", "XXX-XXX-7890"),  # channel prefix: letters ignored
        ("+44 20 7946 0958 ext. 12", "XXX-XXX-5812"),  # literally the last four digits
        ("123", "XXX-XXX-XXXX"),  # fewer than four digits
        ("call me", "XXX-XXX-XXXX"),  # no digits at all
        ("+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", "XXX-XXX-4567"),  # Arabic-Indic digits come out as ASCII
        ("０９０-１２３４-５６７８", "XXX-XXX-5678"),  # full-width digits
        (14155557890, "XXX-XXX-7890"),  # a number: its decimal string
        (4155557890.0, "XXX-XXX-7890"),  # an integral float reads as the integer
        (12.5, "XXX-XXX-XXXX"),  # a fraction: "12.5" has three digits
        ("", "XXX-XXX-XXXX"),  # empty: fewer than 4 digits, as SPEC 3.3 says
        ("   ", "XXX-XXX-XXXX"),  # blank likewise
        ("XXX-XXX-7890", "XXX-XXX-7890"),  # already masked: unchanged
    ],
)
def test_phone_outputs(value: Any, expected: str) -> None:
    assert PHONE(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,  # null stays null
        "XXX-XXX-7890",  # already masked
    ],
)
def test_phone_returns_the_same_object_when_nothing_changes(value: Any) -> None:
    assert PHONE(value) is value


@pytest.mark.parametrize(
    "value",
    [
        True,  # a bool is not a number here
        {"number": "+14155557890"},  # an object
        ["+14155557890"],  # an array
    ],
)
def test_phone_of_an_unhandled_type_is_redacted(value: Any) -> None:
    assert PHONE(value) == "****"


phone_like = st.text(
    alphabet=st.sampled_from("0123456789 +-().xX/ext٠١٢٣٤٥٦٧٨٩"), min_size=1, max_size=30
)


@settings(derandomize=True, database=None)
@given(phone_like)
def test_phone_keeps_at_most_the_last_four_digits(value: str) -> None:
    masked = PHONE(value)
    if value.isspace():
        assert masked is value
        return
    digits = "".join(str(int(ch)) for ch in value if ch.isdecimal())
    shown = "".join(ch for ch in masked if ch.isdecimal())
    assert shown == (digits[-4:] if len(digits) >= 4 else "")
    assert is_mask_output(masked)
