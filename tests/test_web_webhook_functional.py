"""Channel webhooks through the gateway: verified, stamped, re-signed, forwarded (SPEC 5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from aiohttp import web

from tests.conftest import OMNICHANNEL_RULES, Gateway, GatewayFactory, UpstreamApp

ID_SECRET = b"test-id-secret"
META = b"test-meta-secret"
TWILIO = b"test-twilio-token"

RULES = (
    OMNICHANNEL_RULES
    + """
webhooks:
  - { channel: whatsapp, path: /webhooks/whatsapp, secret_env: META_APP_SECRET }
  - { channel: twilio, path: /webhooks/twilio, secret_env: TWILIO_AUTH_TOKEN }
"""
)


def expected_id(kind: str, value: str) -> str:
    digest = hmac.new(ID_SECRET, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


def whatsapp(*senders: str) -> bytes:
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550001111",
                                    "phone_number_id": "9",
                                },
                                "contacts": [
                                    {"profile": {"name": "P"}, "wa_id": s} for s in senders
                                ],
                                "messages": [
                                    {
                                        "from": s,
                                        "id": f"wamid.{s}",
                                        "timestamp": "1",
                                        "type": "text",
                                        "text": {"body": "hi"},
                                    }
                                    for s in senders
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )


def meta_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(META, body, hashlib.sha256).hexdigest()


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    def app(self) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            body = await request.read()
            self.requests.append((request.path_qs, dict(request.headers), body))
            if "hub.challenge" in request.query:
                return web.Response(text=request.query["hub.challenge"])
            if request.path.endswith("twilio"):
                return web.Response(text="<Response/>", content_type="application/xml")
            return web.Response(status=202, text="queued")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", receive)
        return app


@pytest.fixture
async def hooks(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp, monkeypatch: pytest.MonkeyPatch
) -> tuple[Gateway, Receiver]:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO.decode())
    receiver = Receiver()
    gw = await make_gateway(await upstream_app(receiver.app()), RULES)
    return gw, receiver


async def test_whatsapp_batch_is_stamped_and_resigned(hooks: tuple[Gateway, Receiver]) -> None:
    gw, receiver = hooks
    body = whatsapp("14155557890", "447911123456", "14155557890")
    resp = await gw.client.post(
        "/webhooks/whatsapp",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(body),
            "X-Omni-Customer-Id": "omni_spoofed",
        },
    )
    assert resp.status == 202 and await resp.text() == "queued"  # upstream answer relayed
    _, headers, forwarded = receiver.requests[-1]
    ids = [expected_id("phone", "+14155557890"), expected_id("phone", "+447911123456")]
    assert headers["X-Omni-Customer-Id"] == ",".join(
        ids
    )  # spoofed value gone, order of first appearance
    # the upstream's own check still passes on the forwarded bytes
    assert hmac.compare_digest(headers["X-Hub-Signature-256"], meta_signature(forwarded))
    value = orjson.loads(forwarded)["entry"][0]["changes"][0]["value"]
    assert [m["omni_customer_id"] for m in value["messages"]] == [ids[0], ids[1], ids[0]]
    assert value["contacts"][1]["omni_customer_id"] == ids[1]
    access = orjson.loads(gw.access.getvalue().splitlines()[-1])
    assert access["route"] == "webhook:whatsapp" and access["status"] == 202
    assert "14155557890" not in gw.access.getvalue()  # PII never logged


async def test_bad_signature_is_refused_and_not_forwarded(hooks: tuple[Gateway, Receiver]) -> None:
    gw, receiver = hooks
    body = whatsapp("14155557890")
    resp = await gw.client.post(
        "/webhooks/whatsapp",
        data=body + b" ",
        headers={"X-Hub-Signature-256": meta_signature(body)},
    )
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "bad_signature"
    assert receiver.requests == []


async def test_payload_without_identity_is_forwarded_byte_for_byte(
    hooks: tuple[Gateway, Receiver],
) -> None:
    gw, receiver = hooks
    body = orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {"statuses": [{"id": "x", "status": "read"}]},
                        }
                    ],
                }
            ],
        }
    )
    signature = meta_signature(body)
    resp = await gw.client.post(
        "/webhooks/whatsapp", data=body, headers={"X-Hub-Signature-256": signature}
    )
    assert resp.status == 202
    _, headers, forwarded = receiver.requests[-1]
    assert forwarded == body and headers["X-Hub-Signature-256"] == signature
    assert "X-Omni-Customer-Id" not in headers


async def test_meta_verification_handshake_passes(hooks: tuple[Gateway, Receiver]) -> None:
    gw, _ = hooks
    resp = await gw.client.get(
        "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=t"
    )
    assert resp.status == 200 and await resp.text() == "1158201444"


async def test_twilio_form_is_stamped_and_resigned_over_the_public_url(
    hooks: tuple[Gateway, Receiver],
) -> None:
    gw, receiver = hooks
    params = [
        ("MessageSid", "SM1"),
        ("From", "whatsapp:+14155557890"),
        ("To", "whatsapp:+1555"),
        ("Body", "hello"),
        ("WaId", "14155557890"),
        ("SmsStatus", "received"),
    ]
    url = "https://hooks.example.com/webhooks/twilio"

    def sign(pairs: list[tuple[str, str]], signed_url: str = url) -> str:
        text = signed_url + "".join(k + v for k, v in sorted(pairs))
        return base64.b64encode(hmac.new(TWILIO, text.encode(), hashlib.sha1).digest()).decode()

    resp = await gw.client.post(
        "/webhooks/twilio",
        data=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(params),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "hooks.example.com",
        },
    )
    assert resp.status == 200 and await resp.text() == "<Response/>"  # TwiML relayed
    _, headers, forwarded = receiver.requests[-1]
    pairs = parse_qsl(forwarded.decode())
    assert ("omni_customer_id", expected_id("phone", "+14155557890")) in pairs
    assert headers["X-Twilio-Signature"] == sign(pairs)


def test_ids_are_identical_across_processes() -> None:
    code = (
        "from gateway.identity.omni_id import omni_id; "
        "print(omni_id(b'shared-secret', 'phone', '+14155557890'))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 1


@pytest.mark.parametrize(
    "path", ["/Webhooks/WhatsApp", "/webhooks/whatsapp;x=1", "/webhooks/whatsapp.json"]
)
async def test_webhook_path_aliases_are_verified_too(
    hooks: tuple[Gateway, Receiver], path: str
) -> None:
    gw, receiver = hooks
    resp = await gw.client.post(path, data=whatsapp("14155557890"))  # no signature
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "bad_signature"
    assert receiver.requests == []


async def test_signature_header_that_is_not_utf8_is_a_bad_signature(
    hooks: tuple[Gateway, Receiver],
) -> None:
    from tests.conftest import raw_http

    gw, receiver = hooks
    body = whatsapp("14155557890")
    request = (
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n"
        b"X-Hub-Signature-256: sha256=\xff\xfe\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    answer = await raw_http(gw.client.port, request)
    assert answer.startswith(b"HTTP/1.1 401")
    assert receiver.requests == []
