"""Messenger and Instagram webhooks: quick-reply identities, echoes and receipts skipped."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from channel_kit import FIELD, HEADER, hook, meta_sha256, ref_id, request

from gateway.errors import BadSignature


def event(psid: str, message: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE_ID"},
        "timestamp": 1458692752478,
        **extra,
    }
    if message is not None:
        ev["message"] = message
    return ev


def quick_reply(payload: str) -> dict[str, Any]:
    return {"mid": "m_1", "text": payload, "quick_reply": {"payload": payload}}


def page(events: list[dict[str, Any]], obj: str = "page") -> dict[str, Any]:
    return {"object": obj, "entry": [{"id": "PAGE_ID", "time": 1458692752478, "messaging": events}]}


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": meta_sha256(body)}


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_shared_email_and_phone_quick_replies(channel: str) -> None:
    doc = page(
        [
            event("PSID_1", quick_reply("Jane.Doe@Example.com")),  # user_email quick reply
            event("PSID_2", quick_reply("+1 415-555-7890")),  # user_phone_number quick reply
            event("PSID_3", {"mid": "m_3", "text": "hello"}),  # plain text: nobody
        ],
        "instagram" if channel == "instagram" else "page",
    )
    body = orjson.dumps(doc)
    result = hook(channel, "META_APP_SECRET").process(request(body, signed(body)))
    email_id, phone_id = ref_id("email", "jane.doe@example.com"), ref_id("phone", "+14155557890")
    assert result.ids == (email_id, phone_id) and result.kinds == ("email", "phone")
    assert result.set_headers[HEADER] == f"{email_id},{phone_id}"
    assert result.set_headers["X-Hub-Signature-256"] == meta_sha256(result.body)
    events = orjson.loads(result.body)["entry"][0]["messaging"]
    assert events[0][FIELD] == email_id and events[1][FIELD] == phone_id
    assert FIELD not in events[2]


def test_echoes_and_receipts_are_skipped() -> None:
    echo = quick_reply("jane@example.com") | {"is_echo": True, "app_id": 1517776481860111}
    doc = page(
        [
            event("PAGE_ID", echo),
            event("PSID_1", read={"watermark": 1458668856253}),
            event("PSID_1", delivery={"mids": ["m_1"], "watermark": 1458668856253}),
            event("PSID_1", postback={"title": "Start", "payload": "jane@example.com"}),
        ]
    )
    body = orjson.dumps(doc)
    result = hook("messenger", "META_APP_SECRET").process(request(body, signed(body)))
    assert result.outcome == "no_identity" and result.body is body


def test_developer_payloads_are_not_identities() -> None:
    body = orjson.dumps(
        page([event("PSID_1", quick_reply("COLOR_RED")), event("P", quick_reply("42"))])
    )
    result = hook("messenger", "META_APP_SECRET").process(request(body, signed(body)))
    assert result.outcome == "no_identity"


def test_identify_by_email_only_ignores_phone_replies() -> None:
    from channel_kit import resolver

    body = orjson.dumps(page([event("PSID_2", quick_reply("+1 415-555-7890"))]))
    channel = hook("messenger", "META_APP_SECRET", resolver(identify_by=["email"]))
    assert channel.process(request(body, signed(body))).outcome == "no_identity"


def test_tampered_body() -> None:
    body = orjson.dumps(page([event("PSID_1", quick_reply("jane@example.com"))]))
    headers = signed(body)
    with pytest.raises(BadSignature):
        hook("instagram", "META_APP_SECRET").process(
            request(body.replace(b"jane", b"john"), headers)
        )


def test_handshake() -> None:
    req = request(b"", method="GET", url="https://h/webhooks/messenger?hub.challenge=42")
    assert hook("messenger", "META_APP_SECRET").process(req).outcome == "passthrough"
