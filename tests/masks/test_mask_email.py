"""The `email` mask: `****@` + the domain, lower-cased (SPEC 3.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.masks import MaskContext, compile_mask, is_mask_output

EMAIL = compile_mask("email", MaskContext())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane.Doe@Example.com", "****@example.com"),  # SPEC example
        ("jane+tag@mail.example.co.uk", "****@mail.example.co.uk"),  # plus tag, deep domain
        ('"a@b"@example.org', "****@example.org"),  # quoted local part with @: the last @ counts
        ("Jane Doe <jane@Example.com>", "****@example.com"),  # display-name form
        ("  jane@example.com  ", "****@example.com"),  # surrounding blanks
        ("jane@bücher.de", "****@bücher.de"),  # internationalised domain
        ("15551234567@example.com", "****@example.com"),  # digits in the local part
        ("no at sign", "****"),  # no @
        ("jane@", "****"),  # nothing after @
        ("jane@ two words", "****"),  # a "domain" with blanks is free text: all hidden
        (12345, "****"),  # a number has no @
        ("", "****"),  # empty: no @, as SPEC 3.3 says
    ],
)
def test_email_outputs(value: Any, expected: str) -> None:
    assert EMAIL(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,  # null stays null
        "****@example.com",  # already masked
    ],
)
def test_email_returns_the_same_object_when_nothing_changes(value: Any) -> None:
    assert EMAIL(value) is value


@pytest.mark.parametrize("value", [False, {"email": "a@b.c"}, ["a@b.c"]])
def test_email_of_an_unhandled_type_is_redacted(value: Any) -> None:
    assert EMAIL(value) == "****"


local_parts = st.text(
    alphabet=st.characters(categories=["Ll", "Lu", "Nd"], include_characters="._+-"),
    min_size=2,
    max_size=20,
)
labels = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
    min_size=1,
    max_size=12,
)


@settings(derandomize=True, database=None)
@given(local_parts, st.lists(labels, min_size=1, max_size=3), st.sampled_from(["com", "ORG", "io"]))
def test_email_hides_the_local_part(local: str, domain_labels: list[str], tld: str) -> None:
    domain = ".".join([*domain_labels, tld])
    masked = EMAIL(f"{local}@{domain}")
    assert masked == "****@" + domain.lower()
    assert is_mask_output(masked)
    assert local not in masked.split("@")[0]
