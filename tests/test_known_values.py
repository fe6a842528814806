"""Known values (SPEC 3.9): the compiled search of one document's masked values, row by row."""

from __future__ import annotations

import pytest

from gateway.known_values import KnownValues

VALUES = [
    ("phone", "+1 (415) 555-7890"),
    ("email", "Jane.Doe@Example.com"),
    ("name", "Jane van Doe"),
]
KNOWN = KnownValues(VALUES, "US")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Phones: the national digits in order, any separators, with or without country code.
        ("call 4155557890", "call XXX-XXX-7890"),
        ("call 415.555.7890 now", "call XXX-XXX-7890 now"),
        ("call +1 415 555 7890", "call XXX-XXX-7890"),
        ("call 001-415-555-7890", "call XXX-XXX-7890"),
        ("call (415) 555-7890", "call XXX-XXX-7890"),
        ("id 94155557890", "id 94155557890"),  # more digits around: another number
        # Emails: case-insensitively, and percent-encoded.
        ("mail JANE.DOE@example.COM", "mail ****@example.com"),
        ("next=%2Fu%3Fm%3Djane.doe%40example.com", "next=%2Fu%3Fm%3D****@example.com"),
        ("mail xjane.doe@example.com.evil", "mail x****@example.com.evil"),
        # Names: whole words, case-sensitively; the full name, then words of 3+ letters.
        ("Hi Jane van Doe!", "Hi J*** v*** D***!"),
        ("Jane and Doe", "J*** and D***"),
        ("Janet and jane", "Janet and jane"),  # not whole words / another case
        ("van der Berg", "v*** der Berg"),  # 'van' has three letters
        ("nothing here", "nothing here"),
    ],
)
def test_known_values_rows(text: str, expected: str) -> None:
    assert KNOWN.mask(text) == expected


def test_nothing_recorded_compiles_to_nothing() -> None:
    empty = KnownValues([], "US")
    assert not empty
    assert empty.mask("Jane 4155557890") == "Jane 4155557890"


def test_unchanged_text_is_the_same_object() -> None:
    text = "no values in here"
    assert KNOWN.mask(text) is text


def test_short_values_are_not_searched() -> None:
    # A 3-digit "phone" or a two-letter name word would match ordinary text everywhere.
    known = KnownValues([("phone", "911"), ("name", "Al Bo")], "US")
    assert known.mask("call 911, Al Bo") == "call 911, A*** B***"
