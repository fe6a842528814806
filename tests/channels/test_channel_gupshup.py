"""Gupshup webhooks: its own v2 callback format and the Meta (v3) format; no signature."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from channel_kit import FIELD, HEADER, hook, ref_id, request

INBOUND: dict[str, Any] = {
    "app": "DemoApp",
    "timestamp": 1580227766370,
    "version": 2,
    "type": "message",
    "payload": {
        "id": "ABEGkYaYVSEEAhAL3SLAWwHKeKrt6s3FKB0c",
        "source": "919876543210",
        "type": "text",
        "payload": {"text": "Hi"},
        "sender": {
            "phone": "919876543210",
            "name": "Drew",
            "country_code": "91",
            "dial_code": "9876543210",
        },
    },
}
EVENT = {
    "app": "DemoApp",
    "timestamp": 1580546677791,
    "version": 2,
    "type": "message-event",
    "payload": {
        "id": "59f8db86-6a8d-4a76-a3dd-9d9f1dbf3b21",
        "gsId": "59f8db86-6a8d-4a76-a3dd-9d9f1dbf3b21",
        "type": "delivered",
        "destination": "919876543210",
        "payload": {"ts": 1580546677},
    },
}
META_V3 = {
    "gs_app_id": "app-id",
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "1",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "contacts": [{"profile": {"name": "Drew"}, "wa_id": "919876543210"}],
                        "messages": [{"from": "919876543210", "id": "wamid.g", "type": "text"}],
                    },
                }
            ],
        }
    ],
}


def test_v2_message_stamps_payload_and_sender() -> None:
    body = orjson.dumps(INBOUND)
    result = hook("gupshup").process(request(body, {"Content-Type": "application/json"}))
    expected = ref_id("phone", "+919876543210")
    assert result.outcome == "stamped" and result.set_headers == {HEADER: expected}
    forwarded = orjson.loads(result.body)
    assert forwarded["payload"][FIELD] == expected
    assert forwarded["payload"]["sender"][FIELD] == expected
    del forwarded["payload"][FIELD], forwarded["payload"]["sender"][FIELD]
    assert forwarded == INBOUND


def test_source_is_used_when_sender_is_missing() -> None:
    doc = {**INBOUND, "payload": {k: v for k, v in INBOUND["payload"].items() if k != "sender"}}
    result = hook("gupshup").process(request(orjson.dumps(doc)))
    assert result.ids == (ref_id("phone", "+919876543210"),)


def test_meta_format_v3() -> None:
    result = hook("gupshup").process(request(orjson.dumps(META_V3)))
    assert result.ids == (ref_id("phone", "+919876543210"),)


@pytest.mark.parametrize(
    "doc", [EVENT, {"type": "user-event", "payload": {"phone": "919876543210"}}]
)
def test_events_are_not_stamped(doc: object) -> None:
    body = orjson.dumps(doc)
    result = hook("gupshup").process(request(body))
    assert result.outcome == "no_identity" and result.body is body
