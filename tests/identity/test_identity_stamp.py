"""SPEC 3.7: stamping the omnichannel id into API responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.identity import IdentityResolver
from gateway.identity.stamp import compile_stamps

SECRET = "stamp-secret"


def expected(text: str) -> str:
    digest = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


def resolver(**section: Any) -> IdentityResolver:
    compiled = IdentityResolver.compile(section, {"OMNIGATE_ID_SECRET": SECRET})
    assert compiled is not None
    return compiled


def test_contact_payload_is_stamped_in_place() -> None:
    stamper = compile_stamps(
        [{"at": "$.payload", "phone": "$.phone_number", "email": "$.email"}],
        ("routes", 0),
        resolver(),
    )
    doc = {"payload": {"id": 7, "phone_number": "+1 (415) 555-7890", "email": "jane@example.com"}}
    assert stamper.apply(doc) == 1
    assert doc["payload"]["omni_customer_id"] == expected("phone:+14155557890")
    assert doc["payload"]["phone_number"] == "+1 (415) 555-7890"  # clear value untouched


def test_each_selected_object_and_fallback_to_email() -> None:
    stamper = compile_stamps(
        [{"at": "$.payload[*]", "phone": "$.phone_number", "email": "$.email"}],
        ("routes", 1),
        resolver(field="customer"),
    )
    doc: dict[str, Any] = {
        "payload": [
            {"phone_number": "(415) 555-7890"},
            {"phone_number": "MyBrand", "email": "Jane <JANE@example.com>"},  # phone invalid
            {"name": "nobody"},  # no identity: left as it is
            "not an object",
        ]
    }
    assert stamper.apply(doc) == 2
    assert doc["payload"][0]["customer"] == expected("phone:+14155557890")
    assert doc["payload"][1]["customer"] == expected("email:jane@example.com")
    assert doc["payload"][2] == {"name": "nobody"}
    assert doc["payload"][3] == "not an object"


def test_root_object_and_nested_relative_path() -> None:
    stamper = compile_stamps(
        [{"at": "$", "phone": "$.meta.sender.phone"}], ("routes", 2), resolver(default_region="GB")
    )
    doc: dict[str, Any] = {"meta": {"sender": {"phone": "07911 123456"}}}
    assert stamper.apply(doc) == 1
    assert doc["omni_customer_id"] == expected("phone:+447911123456")


def test_nothing_to_stamp() -> None:
    stamper = compile_stamps(None, ("routes", 0), None)
    assert not stamper
    doc: dict[str, Any] = {"payload": {}}
    assert stamper.apply(doc) == 0 and doc == {"payload": {}}


@pytest.mark.parametrize(
    ("rules", "key", "message"),
    [
        ([{"at": "$.payload"}], ("routes", 3, "stamp", 0), "a stamp rule needs `phone` or `email`"),
        ([{"phone": "$.p"}], ("routes", 3, "stamp", 0), "a stamp rule needs `at`"),
    ],
)
def test_config_errors(rules: Any, key: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_stamps(rules, ("routes", 3), resolver())
    assert caught.value.key_path == key and caught.value.message == message


def test_bad_selector_is_located() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_stamps([{"at": "$.[[", "phone": "$.p"}], ("routes", 4, "stamp"), resolver())
    assert caught.value.key_path == ("routes", 4, "stamp", 0, "at")


def test_stamp_rules_need_an_omnichannel_section() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_stamps([{"at": "$", "phone": "$.p"}], ("routes", 5), None)
    assert caught.value.key_path == ("routes", 5, "stamp")


def test_first_non_null_value_is_used() -> None:
    stamper = compile_stamps(
        [{"at": "$.contact", "phone": "$.phones[*]"}], ("routes", 6), resolver()
    )
    doc: dict[str, Any] = {"contact": {"phones": [None, "+14155557890"]}}
    assert stamper.apply(doc) == 1
    assert doc["contact"]["omni_customer_id"] == expected("phone:+14155557890")
