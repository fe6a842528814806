"""360dialog webhooks: Cloud API and legacy on-premise shapes, x-360dialog-signature."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest
from channel_kit import D360_SECRET, FIELD, HEADER, hook, ref_id, request

from gateway.errors import BadSignature

LEGACY = {
    "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "14155557890"}],
    "messages": [
        {
            "from": "14155557890",
            "id": "ABGGFlA5FpafAgo6EhmVJTN9OqVPSEcWiCXt",
            "text": {"body": "Hi, my order has not arrived"},
            "timestamp": "1591210827",
            "type": "text",
        }
    ],
}
LEGACY_STATUS = {
    "statuses": [
        {"id": "gBGGFlA5FpafAgkOuJbRq54qwbM", "recipient_id": "14155557890", "status": "read"}
    ]
}
CLOUD = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "4930609859535",
                            "phone_number_id": "1",
                        },
                        "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "4915123456789"}],
                        "messages": [
                            {
                                "from": "4915123456789",
                                "id": "wamid.x",
                                "timestamp": "1591210827",
                                "type": "text",
                                "text": {"body": "Hallo"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


def d360(body: bytes, prefix: str = "") -> dict[str, str]:
    digest = hmac.new(D360_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "x-360dialog-signature": prefix + digest}


def recheck(body: bytes, value: str) -> str:
    """The upstream's check, as 360dialog documents it: HMAC-SHA256 of the raw body."""
    digest = hmac.new(D360_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert value.removeprefix("sha256=") == digest
    return value


@pytest.mark.parametrize(
    ("doc", "phone", "stamped_at"),
    [
        (LEGACY, "+14155557890", lambda d: (d["messages"][0], d["contacts"][0])),
        (
            CLOUD,
            "+4915123456789",
            lambda d: (
                d["entry"][0]["changes"][0]["value"]["messages"][0],
                d["entry"][0]["changes"][0]["value"]["contacts"][0],
            ),
        ),
    ],
)
def test_both_shapes_are_stamped_and_resigned(doc: Any, phone: str, stamped_at: Any) -> None:
    body = orjson.dumps(doc)
    result = hook("360dialog", "D360_PARTNER_SECRET").process(request(body, d360(body)))
    assert result.outcome == "stamped"
    assert result.set_headers[HEADER] == ref_id("phone", phone)
    recheck(result.body, result.set_headers["x-360dialog-signature"])
    message, contact = stamped_at(orjson.loads(result.body))
    assert message[FIELD] == contact[FIELD] == ref_id("phone", phone)


def test_prefixed_signature_is_tolerated_and_kept() -> None:
    body = orjson.dumps(LEGACY)
    result = hook("360dialog", "D360_PARTNER_SECRET").process(request(body, d360(body, "sha256=")))
    assert recheck(result.body, result.set_headers["X-360dialog-Signature"]).startswith("sha256=")


def test_bare_signature_stays_bare() -> None:
    body = orjson.dumps(LEGACY)
    result = hook("360dialog", "D360_PARTNER_SECRET").process(request(body, d360(body)))
    assert not result.set_headers["x-360dialog-signature"].startswith("sha256=")


def test_statuses_are_not_stamped() -> None:
    body = orjson.dumps(LEGACY_STATUS)
    result = hook("360dialog", "D360_PARTNER_SECRET").process(request(body, d360(body)))
    assert result.outcome == "no_identity" and result.body is body


@pytest.mark.parametrize("headers", [{}, {"x-360dialog-signature": "00" * 32}])
def test_missing_or_wrong_signature(headers: dict[str, str]) -> None:
    with pytest.raises(BadSignature):
        hook("360dialog", "D360_PARTNER_SECRET").process(request(orjson.dumps(LEGACY), headers))


def test_tampered_body() -> None:
    body = orjson.dumps(LEGACY)
    with pytest.raises(BadSignature):
        hook("360dialog", "D360_PARTNER_SECRET").process(
            request(body.replace(b"arrived", b"arrivee"), d360(body))
        )
