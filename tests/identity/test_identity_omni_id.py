"""omni_id known answers and the IdentityResolver compiled from `omnichannel:`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.identity import IdentityResolver, Resolved, omni_id

SECRET = "s3cret-for-tests"
ENV = {"OMNIGATE_ID_SECRET": SECRET, "OTHER_SECRET": "another"}


def reference_id(secret: str, text: str) -> str:
    """SPEC 4, written out independently of the implementation."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


def test_known_answer() -> None:
    # A fixed vector, so an accidental change of the scheme (and of every stored id) is caught.
    assert omni_id(b"s3cret-for-tests", "phone", "+14155557890") == reference_id(
        SECRET, "phone:+14155557890"
    )
    assert len(omni_id(b"k", "email", "jane@example.com")) == len("omni_") + 26


@pytest.mark.parametrize(
    ("kind", "value"),
    [("phone", "+14155557890"), ("email", "jane@example.com"), ("phone", "+5511987654321")],
)
def test_matches_reference(kind: Any, value: str) -> None:
    assert omni_id(SECRET.encode(), kind, value) == reference_id(SECRET, f"{kind}:{value}")


def test_kind_and_secret_are_part_of_the_id() -> None:
    assert omni_id(b"a", "phone", "x") != omni_id(b"a", "email", "x")
    assert omni_id(b"a", "phone", "x") != omni_id(b"b", "phone", "x")


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=32), st.text(max_size=40))
def test_shape(secret: bytes, value: str) -> None:
    ident = omni_id(secret, "email", value)
    assert ident.startswith("omni_") and len(ident) == 31
    assert set(ident[5:]) <= set("abcdefghijklmnopqrstuvwxyz234567")


def compile_resolver(**section: Any) -> IdentityResolver:
    resolver = IdentityResolver.compile(section, ENV)
    assert resolver is not None
    return resolver


def test_defaults() -> None:
    resolver = compile_resolver()
    assert resolver.header == "X-Omni-Customer-Id"
    assert resolver.field == "omni_customer_id"
    assert resolver.identify_by == ("phone", "email")
    assert resolver.region == "US"


def test_no_section_means_no_resolver() -> None:
    assert IdentityResolver.compile(None, ENV) is None


def test_resolve_phone_first_then_email() -> None:
    resolver = compile_resolver()
    phone_id = reference_id(SECRET, "phone:+14155557890")
    email_id = reference_id(SECRET, "email:jane@example.com")
    assert resolver.resolve(phone="(415) 555-7890", email="jane@example.com") == Resolved(
        phone_id, "phone"
    )
    assert resolver.resolve(phone="MyBrand", email="Jane <JANE@example.com>") == Resolved(
        email_id, "email"
    )
    assert resolver.resolve(phone="12345") is None
    assert resolver.resolve() is None


def test_identify_by_order_and_subset() -> None:
    email_first = compile_resolver(identify_by=["email", "phone"])
    found = email_first.resolve(phone="+14155557890", email="jane@example.com")
    assert found is not None and found.kind == "email"
    phone_only = compile_resolver(identify_by=["phone"])
    assert phone_only.resolve(email="jane@example.com") is None


def test_region_and_international() -> None:
    resolver = compile_resolver(default_region="GB")
    expected = reference_id(SECRET, "phone:+447911123456")
    assert resolver.resolve(phone="07911 123456") == Resolved(expected, "phone")
    assert resolver.resolve(phone="447911123456", international=True) == Resolved(expected, "phone")


def test_blocked_entries_are_normalised() -> None:
    resolver = compile_resolver(
        default_region="US",
        email={"fold_gmail": True},
        blocked=[
            "(415) 555-7890",
            "Support <Support@Example.com>",
            "j.ane@googlemail.com",
            "+10000000000",  # not a valid number: can never match, not an error
        ],
    )
    assert resolver.resolve(phone="+1 415 555 7890") is None
    assert resolver.resolve(phone="14155557890", international=True) is None
    assert resolver.resolve(email="support@example.com") is None
    assert resolver.resolve(email="jane@gmail.com") is None  # blocked after folding
    # A blocked phone falls through to the next attribute.
    fallback = resolver.resolve(phone="+14155557890", email="bob@example.com")
    assert fallback is not None and fallback.kind == "email"


def test_email_options() -> None:
    plain = compile_resolver()
    folding = compile_resolver(email={"fold_gmail": True, "strip_plus": True})
    assert plain.resolve(email="j.ane+x@gmail.com") != plain.resolve(email="jane@gmail.com")
    assert folding.resolve(email="j.ane+x@gmail.com") == folding.resolve(email="jane@gmail.com")


@pytest.mark.parametrize(
    ("phone", "email"),
    [
        ({"nested": "obj"}, None),
        (["+14155557890"], None),
        (True, None),
        (None, 42),
        (3.14, b"bytes"),
        ("\x00\xff" * 10, "\x00@\x00"),
    ],
)
def test_bad_input_never_raises(phone: Any, email: Any) -> None:
    assert compile_resolver().resolve(phone=phone, email=email) is None


NO_ENV: dict[str, str] = {}
EMPTY_ENV = {"OMNIGATE_ID_SECRET": ""}
NOT_SET = "environment variable OMNIGATE_ID_SECRET is not set"


@pytest.mark.parametrize(
    ("section", "environ", "key", "message"),
    [
        ({}, NO_ENV, ("id_secret_env",), NOT_SET),
        (
            {"id_secret_env": "NOPE"},
            ENV,
            ("id_secret_env",),
            NOT_SET.replace("OMNIGATE_ID_SECRET", "NOPE"),
        ),
        # SECURITY: an empty key would make ids brute-forceable
        ({}, EMPTY_ENV, ("id_secret_env",), "environment variable OMNIGATE_ID_SECRET is empty"),
        ({"default_region": "XX"}, ENV, ("default_region",), "unknown region code 'XX'"),
        ({"identify_by": []}, ENV, ("identify_by",), "must be a non-empty list of: phone, email"),
        ({"identify_by": ["name"]}, ENV, ("identify_by", 0), "must be one of: phone, email"),
        ({"identify_by": ["phone", "phone"]}, ENV, ("identify_by", 1), "phone is listed twice"),
        ({"email": {"fold_gmail": "yes"}}, ENV, ("email", "fold_gmail"), "must be true or false"),
        ({"blocked": "x"}, ENV, ("blocked",), "must be a list of phone numbers or emails"),
        ({"blocked": [{"a": 1}]}, ENV, ("blocked", 0), "must be a phone number or email"),
        ({"header": ""}, ENV, ("header",), "must be a non-empty string"),
    ],
)
def test_config_errors(section: Any, environ: Any, key: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        IdentityResolver.compile(section, environ)
    assert caught.value.key_path == ("omnichannel", *key)
    assert caught.value.message == message


def test_secret_comes_from_the_named_variable() -> None:
    other = IdentityResolver.compile({"id_secret_env": "OTHER_SECRET"}, ENV)
    assert other is not None
    assert other.resolve(phone="+14155557890") == Resolved(
        reference_id("another", "phone:+14155557890"), "phone"
    )
