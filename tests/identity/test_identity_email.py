"""normalise_email: header forms, folding options, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.identity.email import normalise_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM  ", "jane.doe@example.com"),  # trimmed, lower-cased
        ("Jane Doe <Jane@Example.com>", "jane@example.com"),  # display name
        ('"Doe, Jane" <Jane@Example.com>', "jane@example.com"),  # quoted comma
        ("Doe, Jane <jane@example.com>", "jane@example.com"),  # unquoted comma: one address
        ("<jane@example.com>", "jane@example.com"),
        ("jane@example.com (Jane Doe)", "jane@example.com"),  # RFC 822 comment
        ("=?UTF-8?B?SsOkbmU=?= <jane@example.com>", "jane@example.com"),  # encoded word
        ("Jäne Döe <jane@example.com>", "jane@example.com"),  # raw UTF-8 display name
        ('"jane@evil.com" <real@example.com>', "real@example.com"),  # address in the name
        ("jane+support@example.com", "jane+support@example.com"),  # plus kept by default
        ("j.a.n.e@gmail.com", "j.a.n.e@gmail.com"),  # dots kept by default
        ("jane@sub.example.co.uk", "jane@sub.example.co.uk"),
    ],
)
def test_extraction(raw: str, expected: str) -> None:
    assert normalise_email(raw, fold_gmail=False, strip_plus=False) == expected


@pytest.mark.parametrize(
    ("raw", "fold_gmail", "strip_plus", "expected"),
    [
        ("J.A.N.E@gmail.com", True, False, "jane@gmail.com"),
        ("jane.doe@googlemail.com", True, False, "janedoe@gmail.com"),  # same mailbox
        ("jane.doe@example.com", True, False, "jane.doe@example.com"),  # only Gmail folds
        ("jane.doe+news@gmail.com", True, False, "janedoe+news@gmail.com"),  # dots only
        ("jane+news@example.com", False, True, "jane@example.com"),  # any domain
        ("jane+a+b@example.com", False, True, "jane@example.com"),
        ("+tag@example.com", False, True, "+tag@example.com"),  # nothing before the tag
        ("Jane.Doe+x@GoogleMail.com", True, True, "janedoe@gmail.com"),
        ("...@gmail.com", True, False, "...@gmail.com"),  # nothing left after folding
    ],
)
def test_folding_options(raw: str, fold_gmail: bool, strip_plus: bool, expected: str) -> None:
    assert normalise_email(raw, fold_gmail=fold_gmail, strip_plus=strip_plus) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "garbage",
        "jane",
        "@example.com",  # empty local part
        "jane@",  # no domain
        "jane@localhost",  # domain without a dot
        "jane@@example.com",
        "a@b@example.com",  # two @
        "jane@.example.com",  # empty label
        "jane@example..com",
        "jane@example.com.",
        "Jane <>",
        "jane doe@example.com",  # blank inside
        "jane@example.com, bob@example.com",  # two people: ambiguous
        '"unterminated <jane@example.com>',
        "x" * 1000 + "@example.com",  # too long
    ],
)
def test_garbage(raw: str) -> None:
    assert normalise_email(raw, fold_gmail=True, strip_plus=True) is None


def test_same_address_twice_is_one_address() -> None:
    raw = "Jane <jane@example.com>, JANE@example.com"
    assert normalise_email(raw, fold_gmail=False, strip_plus=False) == "jane@example.com"


@pytest.mark.parametrize("raw", [None, 42, b"jane@example.com", ["jane@example.com"]])
def test_non_text(raw: object) -> None:
    assert normalise_email(raw, fold_gmail=False, strip_plus=False) is None  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.booleans(), st.booleans())
def test_never_raises_and_is_idempotent(raw: str, fold_gmail: bool, strip_plus: bool) -> None:
    result = normalise_email(raw, fold_gmail=fold_gmail, strip_plus=strip_plus)
    if result is not None:
        assert result == result.lower() and result.count("@") == 1
        assert normalise_email(result, fold_gmail=fold_gmail, strip_plus=strip_plus) == result
