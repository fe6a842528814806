"""The `attributes` mask: keys listed under `attributes:` get their own mask (SPEC 3.3)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.masks import MaskContext, compile_mask

CTX = MaskContext(
    hash_key=b"k",
    attributes={
        "user_name": "name",
        "user_number": "phone",
        "user_email": "email",
        "secret_note": "remove",
        "vip": "redact",
    },
)
ATTRIBUTES = compile_mask("attributes", CTX)


def test_listed_keys_are_masked_and_others_untouched() -> None:
    value = {
        "user_name": "Jane Doe",
        "user_number": "+14155557890",
        "user_email": "Jane@Example.com",
        "plan": "gold",
        "secret_note": "likes cats",
        "vip": True,
    }
    assert ATTRIBUTES(value) == {
        "user_name": "J*** D***",
        "user_number": "XXX-XXX-7890",
        "user_email": "****@example.com",
        "plan": "gold",
        "vip": "****",
    }
    assert value["user_name"] == "Jane Doe"  # the input is not mutated


@pytest.mark.parametrize(
    "value",
    [
        None,  # null stays null
        {},  # no attributes
        {"plan": "gold"},  # nothing listed
        {"user_number": None},  # listed but null
        {"user_name": ""},  # listed but empty
    ],
)
def test_unchanged_objects_are_returned_as_they_are(value: Any) -> None:
    assert ATTRIBUTES(value) is value


@pytest.mark.parametrize("value", ["Jane", 42, True, [{"user_name": "Jane"}]])
def test_a_non_object_is_redacted(value: Any) -> None:
    assert ATTRIBUTES(value) == "****"


def test_mask_objects_under_attributes_are_compiled() -> None:
    ctx = MaskContext(attributes={"card": {"type": "partial", "keep_last": 2}})  # type: ignore[dict-item]
    assert compile_mask("attributes", ctx)({"card": "4111"}) == {"card": "**11"}


@pytest.mark.parametrize(
    ("attributes", "where", "phrase"),
    [
        ({"x": "nope"}, ("attributes", "x"), "unknown mask 'nope'"),  # unknown mask
        ({"x": "hash"}, ("attributes", "x"), "hash key"),  # hash without a key
        ({"x": "attributes"}, ("attributes", "x"), "cannot be used under attributes"),  # loop
    ],
)
def test_bad_attribute_masks_point_at_the_attributes_section(
    attributes: dict[str, str], where: tuple[str, ...], phrase: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask("attributes", MaskContext(attributes=attributes), ("routes", 0))
    assert caught.value.key_path == where
    assert phrase in caught.value.message


PATTERNS = compile_mask(
    "attributes",
    MaskContext(
        attributes={
            "user_email": "email",  # a name wins over every pattern
            "~(?i)phone|mobile|whatsapp": "phone",  # whole-key: not `phone_verified`
            "~.*email.*": "redact",
            "~(?i).*name": "name",
            "default": "text",  # every other key: free text
        }
    ),
)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("user_email", "Jane@Example.com", "****@example.com"),  # the exact name, not `.*email.*`
        ("Phone", "+44 20 7946 0958", "XXX-XXX-0958"),  # pattern, case-insensitive
        ("mobile", "+91 98765 43210", "XXX-XXX-3210"),  # pattern alternative
        ("phone_verified", 1, 1),  # not a whole-key match: the default `text` keeps numbers
        ("backup_email", "x@y.z", "****"),  # the first matching pattern wins
        ("first_name", "Jean Luc", "J*** L***"),  # a later pattern
        ("notes", "call +1 415 555 7890", "call XXX-XXX-7890"),  # unlisted: the default mask
        ("plan", "gold", "gold"),  # the default leaves text without PII alone
        ("nested", {"a": 1}, "****"),  # the default `text` on an object
    ],
)
def test_patterns_and_default(key: str, value: Any, expected: Any) -> None:
    assert PATTERNS({key: value}) == {key: expected}


def test_without_default_unmatched_keys_stay() -> None:
    mask = compile_mask("attributes", MaskContext(attributes={"~(?i)phone": "phone"}))
    assert mask({"PHONE": "+14155557890", "plan": "+14155557890"}) == {
        "PHONE": "XXX-XXX-7890",
        "plan": "+14155557890",
    }


def test_bad_pattern_is_a_config_error_at_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask("attributes", MaskContext(attributes={"~(unclosed": "phone"}))
    assert caught.value.key_path == ("attributes", "~(unclosed")
    assert "bad attribute pattern" in caught.value.message
