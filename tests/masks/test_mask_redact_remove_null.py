"""The `redact`, `remove` and `null` masks (SPEC 3.3)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.masks import REMOVE, MaskContext, compile_mask, is_mask_output

CTX = MaskContext()
VALUES = [
    "Jane Doe",  # a string
    "",  # empty
    14155557890,  # a number
    1.5,  # a float
    True,  # a bool
    {"a": 1},  # an object
    [1, 2],  # an array
]


@pytest.mark.parametrize("value", VALUES)
def test_redact_writes_stars_for_every_type(value: Any) -> None:
    masked = compile_mask("redact", CTX)(value)
    assert masked == "****"
    assert is_mask_output(masked)


def test_redact_keeps_null_and_an_already_redacted_value() -> None:
    redact = compile_mask("redact", CTX)
    already = "****"
    assert redact(None) is None
    assert redact(already) is already


@pytest.mark.parametrize("value", [*VALUES, None])  # null too: decided, the key goes anyway
def test_remove_returns_the_sentinel(value: Any) -> None:
    assert compile_mask("remove", CTX)(value) is REMOVE


@pytest.mark.parametrize("value", [*VALUES, None])
def test_null_returns_none(value: Any) -> None:
    assert compile_mask("null", CTX)(value) is None


def test_remove_sentinel_is_recognisable() -> None:
    assert repr(REMOVE) == "REMOVE"
    assert REMOVE is not None


@pytest.mark.parametrize(
    ("name", "label"),
    [("redact", "redact"), ("remove", "remove"), ("null", "null"), ("phone", "phone")],
)
def test_masks_carry_their_registry_name(name: str, label: str) -> None:
    assert compile_mask(name, CTX).name == label
