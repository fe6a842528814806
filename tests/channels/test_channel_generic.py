"""The generic channel: identity and stamp locations from the rules."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from channel_kit import ENV, FIELD, HEADER, hook, ref_id, request, resolver

from gateway.channels import compile_webhook
from gateway.errors import ConfigError

CRM = {
    "event": "customer.updated",
    "customer": {"id": "c_1", "mobile": "(415) 555-7890", "email": "jane@example.com"},
    "meta": {"source": "crm"},
}
IDENTITY = {"phone": "$.customer.mobile", "email": "$.customer.email"}


def generic(omni: Any = None, **spec: Any) -> Any:
    return hook("generic", omni=omni, **spec)


def test_stamped_at_the_configured_object() -> None:
    body = orjson.dumps(CRM)
    result = generic(identity=IDENTITY, stamp_at="$.customer").process(request(body))
    expected = ref_id("phone", "+14155557890")
    assert result.outcome == "stamped" and result.set_headers == {HEADER: expected}
    forwarded = orjson.loads(result.body)
    assert forwarded["customer"][FIELD] == expected
    del forwarded["customer"][FIELD]
    assert forwarded == CRM


def test_email_when_phone_is_missing() -> None:
    doc: dict[str, Any] = {"customer": {"email": "Jane <JANE@example.com>"}}
    channel = generic(identity=IDENTITY, stamp_at="$.customer")
    assert channel.process(request(orjson.dumps(doc))).ids == (ref_id("email", "jane@example.com"),)


def test_without_stamp_at_only_the_header() -> None:
    body = orjson.dumps(CRM)
    result = generic(identity=IDENTITY).process(request(body))
    assert result.outcome == "stamped_header_only" and result.body is body


def test_stamp_at_selecting_several_objects() -> None:
    doc = {"customer": {"mobile": "+14155557890"}, "items": [{"a": 1}, {"b": 2}, 3]}
    channel = generic(identity={"phone": "$.customer.mobile"}, stamp_at="$.items[*]")
    forwarded = orjson.loads(channel.process(request(orjson.dumps(doc))).body)
    assert [FIELD in item for item in forwarded["items"][:2]] == [True, True]
    assert forwarded["items"][2] == 3


@pytest.mark.parametrize("body", [b"nope", orjson.dumps({"customer": {"mobile": "12345"}})])
def test_no_identity_or_not_json(body: bytes) -> None:
    result = generic(identity=IDENTITY, stamp_at="$.customer").process(request(body))
    assert result.outcome in ("unparsable", "no_identity") and result.body is body


def test_resolver_region_applies() -> None:
    doc = {"customer": {"mobile": "07911 123456"}}
    channel = generic(resolver(default_region="GB"), identity=IDENTITY)
    assert channel.process(request(orjson.dumps(doc))).ids == (ref_id("phone", "+447911123456"),)


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({}, ("webhooks", 0, "identity")),
        ({"identity": {}}, ("webhooks", 0, "identity")),
        ({"identity": {"phone": "$.[["}}, ("webhooks", 0, "identity", "phone")),
        ({"identity": IDENTITY, "stamp_at": "$.[["}, ("webhooks", 0, "stamp_at")),
        ({"identity": IDENTITY, "secret_env": "X"}, ("webhooks", 0, "secret_env")),
    ],
)
def test_config_errors(spec: dict[str, Any], key: tuple[Any, ...]) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_webhook({"channel": "generic", "path": "/hooks/crm", **spec}, 0, resolver(), ENV)
    assert caught.value.key_path == key
