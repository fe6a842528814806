"""WhatsApp Cloud API webhooks: verification, stamping, re-signing (SPEC 5)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest
from channel_kit import (
    FIELD,
    HEADER,
    META_SECRET,
    hook,
    meta_sha1,
    meta_sha256,
    ref_id,
    request,
    resolver,
)

from gateway.errors import BadSignature


def text_message(
    sender: str, wamid: str, body: str = "Does it come in another color?"
) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": body},
    }


def cloud_payload(messages: list[dict[str, Any]], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The shape of Meta's documented `messages` webhook."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    }
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = messages
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


SHEENA = {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}
STATUS = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": "106540352242922",
                        },
                        "statuses": [
                            {
                                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
                                "status": "delivered",
                                "timestamp": "1750263773",
                                "recipient_id": "16505551234",
                                "pricing": {"billable": True, "category": "utility"},
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}


def signed(body: bytes, *, legacy: bool = False) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_sha256(body)}
    if legacy:
        headers["X-Hub-Signature"] = meta_sha1(body)
    return headers


def verify_meta(body: bytes, headers: dict[str, str] | Any) -> None:
    """What the upstream does with Meta's algorithm."""
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={digest}"


def test_inbound_text_is_stamped_and_resigned() -> None:
    doc = cloud_payload([text_message("16505551234", "wamid.A")], [SHEENA])
    body = orjson.dumps(doc)
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body, legacy=True)))
    expected = ref_id("phone", "+16505551234")
    assert result.outcome == "stamped"
    assert result.ids == (expected,) and result.kinds == ("phone",)
    assert result.set_headers[HEADER] == expected
    verify_meta(result.body, result.set_headers)
    sha1 = hmac.new(META_SECRET.encode(), result.body, hashlib.sha1).hexdigest()
    assert result.set_headers["X-Hub-Signature"] == f"sha1={sha1}"  # legacy header re-signed too
    forwarded = orjson.loads(result.body)
    value = forwarded["entry"][0]["changes"][0]["value"]
    assert value["messages"][0][FIELD] == expected
    assert value["contacts"][0][FIELD] == expected
    # Otherwise the same content.
    del value["messages"][0][FIELD], value["contacts"][0][FIELD]
    assert forwarded == doc


def test_batch_of_several_senders() -> None:
    doc = cloud_payload(
        [
            text_message("16505551234", "wamid.1"),
            text_message("447911123456", "wamid.2"),
            text_message("16505551234", "wamid.3"),  # the first sender again
            text_message("919876543210", "wamid.4"),
        ],
        [
            SHEENA,
            {"profile": {"name": "Ravi"}, "wa_id": "919876543210"},
            {"profile": {"name": "Olivia"}, "wa_id": "447911123456"},
        ],
    )
    body = orjson.dumps(doc)
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    ids = (
        ref_id("phone", "+16505551234"),
        ref_id("phone", "+447911123456"),
        ref_id("phone", "+919876543210"),
    )
    assert result.ids == ids  # order of first appearance
    assert result.set_headers[HEADER] == ",".join(ids)
    verify_meta(result.body, result.set_headers)
    value = orjson.loads(result.body)["entry"][0]["changes"][0]["value"]
    assert [m[FIELD] for m in value["messages"]] == [ids[0], ids[1], ids[0], ids[2]]
    assert [c[FIELD] for c in value["contacts"]] == [ids[0], ids[2], ids[1]]


def test_several_entries_and_changes() -> None:
    first = cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA])
    second = cloud_payload([text_message("447911123456", "wamid.2")], [])
    first["entry"].append(second["entry"][0])
    first["entry"][0]["changes"].append({"field": "message_template_status_update", "value": {}})
    body = orjson.dumps(first)
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    assert result.ids == (ref_id("phone", "+16505551234"), ref_id("phone", "+447911123456"))


def test_brazil_wa_id_without_ninth_digit_matches_its_contact() -> None:
    doc = cloud_payload(
        [text_message("551187654321", "wamid.BR")],
        [{"profile": {"name": "João"}, "wa_id": "551187654321"}],
    )
    body = orjson.dumps(doc)
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    expected = ref_id("phone", "+5511987654321")  # the same id as the 9-digit number
    value = orjson.loads(result.body)["entry"][0]["changes"][0]["value"]
    assert value["messages"][0][FIELD] == expected == value["contacts"][0][FIELD]


def test_status_receipts_are_forwarded_unchanged() -> None:
    body = orjson.dumps(STATUS)
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    assert result.outcome == "no_identity"
    assert result.body is body and result.set_headers == {} and result.ids == ()


def test_contact_of_another_person_is_not_stamped() -> None:
    # contacts[] only gets the id of a message sender; a stray contact stays as it is.
    doc = cloud_payload(
        [text_message("16505551234", "wamid.1")],
        [SHEENA, {"profile": {"name": "Other"}, "wa_id": "447911123456"}],
    )
    body = orjson.dumps(doc)
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    contacts = orjson.loads(result.body)["entry"][0]["changes"][0]["value"]["contacts"]
    assert FIELD in contacts[0] and FIELD not in contacts[1]


def test_shared_contact_card_inside_a_message_is_not_the_sender() -> None:
    message = text_message("16505551234", "wamid.1")
    message.update(
        type="contacts",
        contacts=[{"name": {"formatted_name": "Bob"}, "phones": [{"wa_id": "447911123456"}]}],
    )
    body = orjson.dumps(cloud_payload([message], []))
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    assert result.ids == (ref_id("phone", "+16505551234"),)


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no signature header"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "wrong digest"),
        ({"X-Hub-Signature-256": "deadbeef"}, "no sha256= prefix"),
        ({"X-Hub-Signature": "sha1=" + "0" * 40}, "wrong legacy digest"),
    ],
)
def test_bad_signatures(headers: dict[str, str], why: str) -> None:
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA]))
    with pytest.raises(BadSignature):
        hook("whatsapp", "META_APP_SECRET").process(request(body, headers))


def test_tampered_body() -> None:
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA]))
    headers = signed(body)
    tampered = body.replace(b"16505551234", b"447911123456")
    with pytest.raises(BadSignature):
        hook("whatsapp", "META_APP_SECRET").process(request(tampered, headers))


def test_sha256_is_preferred_over_legacy_sha1() -> None:
    body = orjson.dumps(STATUS)
    headers = signed(body)
    headers["X-Hub-Signature"] = "sha1=" + "0" * 40  # ignored when a SHA-256 signature is present
    assert (
        hook("whatsapp", "META_APP_SECRET").process(request(body, headers)).outcome == "no_identity"
    )


def test_legacy_sha1_only() -> None:
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], []))
    headers = {"X-Hub-Signature": meta_sha1(body)}
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, headers))
    assert set(result.set_headers) == {HEADER, "X-Hub-Signature"}
    assert result.set_headers["X-Hub-Signature"] == meta_sha1(result.body)


def test_uppercase_hex_is_accepted() -> None:
    body = orjson.dumps(STATUS)
    headers = {"X-Hub-Signature-256": "sha256=" + meta_sha256(body)[7:].upper()}
    assert (
        hook("whatsapp", "META_APP_SECRET").process(request(body, headers)).outcome == "no_identity"
    )


def test_get_handshake_passes_through_unverified() -> None:
    req = request(
        b"",
        {},
        method="GET",
        url="https://h.example.com/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=x",
    )
    result = hook("whatsapp", "META_APP_SECRET").process(req)
    assert result.outcome == "passthrough" and result.body is req.body and result.set_headers == {}


def test_get_with_a_body_is_verified() -> None:
    # SECURITY: a body cannot ride along a "handshake" unsigned.
    with pytest.raises(BadSignature):
        hook("whatsapp", "META_APP_SECRET").process(request(b"{}", {}, method="GET"))


def test_without_secret_a_signed_body_is_not_touched() -> None:
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA]))
    result = hook("whatsapp").process(request(body, signed(body)))
    assert result.outcome == "stamped_header_only"
    assert result.body is body
    assert result.set_headers == {HEADER: ref_id("phone", "+16505551234")}


def test_without_secret_and_unsigned_body_is_stamped() -> None:
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA]))
    result = hook("whatsapp").process(request(body, {"Content-Type": "application/json"}))
    assert result.outcome == "stamped" and FIELD.encode() in result.body
    assert set(result.set_headers) == {HEADER}


def test_blocked_number_is_nobody() -> None:
    identity = resolver(blocked=["+1 650 555 1234"])
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA]))
    result = hook("whatsapp", "META_APP_SECRET", identity).process(request(body, signed(body)))
    assert result.outcome == "no_identity" and result.body is body


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"entry": "nope"}', b'{"entry": [{"changes": [{"value": 3}]}]}'],
)
def test_odd_bodies_fail_open(body: bytes) -> None:
    result = hook("whatsapp", "META_APP_SECRET").process(request(body, signed(body)))
    assert result.outcome in ("unparsable", "no_identity")
    assert result.body is body and result.set_headers == {}


def test_without_omnichannel_only_verification_happens() -> None:
    from channel_kit import ENV

    from gateway.channels import compile_webhook

    channel = compile_webhook(
        {"channel": "whatsapp", "path": "/w", "secret_env": "META_APP_SECRET"}, 0, None, ENV
    ).channel
    body = orjson.dumps(cloud_payload([text_message("16505551234", "wamid.1")], [SHEENA]))
    assert channel.process(request(body, signed(body))).outcome == "passthrough"
    with pytest.raises(BadSignature):
        channel.process(request(body, {}))
