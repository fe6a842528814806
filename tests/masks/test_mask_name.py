"""The `name` mask: each word becomes its first character + `***` (SPEC 3.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.masks import MaskContext, compile_mask, is_mask_output

NAME = compile_mask("name", MaskContext())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane Doe", "J*** D***"),  # SPEC example
        ("jane", "j***"),  # one word, case kept
        ("Mary  Ann\tvan der Berg", "M*** A*** v*** d*** B***"),  # any blanks; one space out
        ("  Jane Doe ", "J*** D***"),  # surrounding blanks dropped
        ("Ünal Çelik", "Ü*** Ç***"),  # precomposed accents
        ("U\u0308nal", "U***"),  # decomposed: the first code point only
        ("李 小龙", "李*** 小***"),  # CJK
        ("José 🎉", "J*** 🎉***"),  # emoji word
        ("O'Brien-Smith", "O***"),  # one word
        ("J*** D***", "J*** D***"),  # already masked: unchanged
        (42, "4***"),  # a number: its decimal string
    ],
)
def test_name_outputs(value: Any, expected: str) -> None:
    assert NAME(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,  # null stays null
        "",  # empty: unchanged (decided: no word, nothing to hide)
        " \t ",  # blank likewise
        "J*** D***",  # already masked
    ],
)
def test_name_returns_the_same_object_when_nothing_changes(value: Any) -> None:
    assert NAME(value) is value


@pytest.mark.parametrize("value", [True, {"first": "Jane"}, ["Jane"]])
def test_name_of_an_unhandled_type_is_redacted(value: Any) -> None:
    assert NAME(value) == "****"


words = st.text(alphabet=st.characters(categories=["L", "M", "N", "So"]), min_size=2, max_size=12)


@settings(derandomize=True, database=None)
@given(st.lists(words, min_size=1, max_size=4), st.sampled_from([" ", "  ", "\t", "\u00a0"]))
def test_name_never_shows_more_than_initials(parts: list[str], sep: str) -> None:
    value = sep.join(parts)
    masked = NAME(value)
    assert is_mask_output(masked)
    assert [w[0] for w in value.split()] == [w[0] for w in masked.split()]
    assert all(word not in masked for word in value.split())
