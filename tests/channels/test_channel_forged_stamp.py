"""A stamp field sent from outside never reaches the upstream, on every channel (SPEC 5).

Issue 10, class 3: an `omni_customer_id` field from the caller survived on generic webhooks
without an identity and on SendGrid forms beside the gateway's own. Each row is one channel and
one body shape; the forwarded body must hold no forged value, only the gateway's own stamp (if
any), and a signature the upstream's own check still accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from channel_kit import (
    D360_SECRET,
    FIELD,
    HEADER,
    MAILGUN_KEY,
    TWILIO_TOKEN,
    hook,
    meta_sha256,
    ref_id,
    request,
)
from multipart_kit import BOUNDARY, field_values, multipart, part

FORGED = "omni_forgedforgedforgedforged"
PHONE_ID = ref_id("phone", "+14155557890")
EMAIL_ID = ref_id("email", "jane@example.com")
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
TWILIO_URL = "https://hooks.example.com/webhooks/twilio"


def whatsapp_doc(forged_at: str) -> dict[str, Any]:
    message = {"from": "14155557890", "id": "wamid.1", "type": "text", "text": {"body": "hi"}}
    value: dict[str, Any] = {"contacts": [{"wa_id": "14155557890"}], "messages": [message]}
    if forged_at == "message":
        message[FIELD] = FORGED
    elif forged_at == "status":
        value = {"statuses": [{"id": "x", "status": "read", FIELD: FORGED}]}
    doc: dict[str, Any] = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": value}]}],
    }
    if forged_at == "top":
        doc[FIELD] = FORGED
    return doc


def signed_meta(doc: Any) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(doc)
    return body, {**JSON, "X-Hub-Signature-256": meta_sha256(body)}


def d360(doc: Any) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(doc)
    return body, {
        **JSON,
        "x-360dialog-signature": hmac.new(D360_SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }


def twilio_form(pairs: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    return urlencode(pairs).encode(), {**FORM, "X-Twilio-Signature": twilio_sign(pairs)}


def twilio_sign(pairs: list[tuple[str, str]]) -> str:
    text = TWILIO_URL + "".join(k + v for k, v in sorted(pairs))
    return base64.b64encode(
        hmac.new(TWILIO_TOKEN.encode(), text.encode(), hashlib.sha1).digest()
    ).decode()


def mailgun_fields(sender: str | None) -> list[tuple[str, str]]:
    import secrets
    import time

    ts, tok = str(int(time.time())), secrets.token_hex(25)
    sig = hmac.new(MAILGUN_KEY.encode(), (ts + tok).encode(), hashlib.sha256).hexdigest()
    fields = [("timestamp", ts), ("token", tok), ("signature", sig), ("subject", "hi")]
    return fields + ([("from", sender)] if sender else [])


MESSENGER_EVENT = {
    "sender": {"id": "1"},
    "message": {"mid": "m", "text": "hi", "quick_reply": {"payload": "jane@example.com"}},
}
GENERIC_IDENTITY = {"phone": "$.customer.mobile", "email": "$.customer.email"}

Case = tuple[
    str, str | None, dict[str, Any], Callable[[], tuple[bytes, dict[str, str]]], str | None
]

CASES: dict[str, Case] = {
    # name: (channel, secret_env, extra spec, request builder, the id the gateway stamps)
    "whatsapp, forged in a message": (
        "whatsapp",
        "META_APP_SECRET",
        {},
        lambda: signed_meta(whatsapp_doc("message")),
        PHONE_ID,
    ),
    "whatsapp, forged at the top": (
        "whatsapp",
        "META_APP_SECRET",
        {},
        lambda: signed_meta(whatsapp_doc("top")),
        PHONE_ID,
    ),
    "whatsapp, a status receipt (not stamped)": (
        "whatsapp",
        "META_APP_SECRET",
        {},
        lambda: signed_meta(whatsapp_doc("status")),
        None,
    ),
    "messenger": (
        "messenger",
        "META_APP_SECRET",
        {},
        lambda: signed_meta(
            {"object": "page", "entry": [{"messaging": [MESSENGER_EVENT | {FIELD: FORGED}]}]}
        ),
        EMAIL_ID,
    ),
    "instagram, no identity": (
        "instagram",
        "META_APP_SECRET",
        {},
        lambda: signed_meta(
            {
                "object": "instagram",
                "entry": [
                    {
                        "messaging": [
                            {
                                "sender": {"id": "1"},
                                "message": {"mid": "m", "text": "hi"},
                                FIELD: FORGED,
                            }
                        ]
                    }
                ],
            }
        ),
        None,
    ),
    "360dialog": (
        "360dialog",
        "D360_PARTNER_SECRET",
        {},
        lambda: d360(whatsapp_doc("message")),
        PHONE_ID,
    ),
    "gupshup, unsigned": (
        "gupshup",
        None,
        {},
        lambda: (
            orjson.dumps(
                {
                    "type": "message",
                    FIELD: FORGED,
                    "payload": {"source": "14155557890", "sender": {"phone": "14155557890"}},
                }
            ),
            JSON,
        ),
        PHONE_ID,
    ),
    "telegram, no contact": (
        "telegram",
        "TELEGRAM_SECRET_TOKEN",
        {},
        lambda: (
            orjson.dumps(
                {"update_id": 1, "message": {"from": {"id": 5}, "text": "hi", FIELD: FORGED}}
            ),
            {**JSON, "X-Telegram-Bot-Api-Secret-Token": "telegram-secret-token"},
        ),
        None,
    ),
    "generic without an identity": (
        "generic",
        None,
        {"identity": GENERIC_IDENTITY, "stamp_at": "$.customer"},
        lambda: (orjson.dumps({"customer": {"id": 1, FIELD: FORGED}, FIELD: FORGED}), JSON),
        None,
    ),
    "generic with an identity": (
        "generic",
        None,
        {"identity": GENERIC_IDENTITY, "stamp_at": "$.customer"},
        lambda: (
            orjson.dumps(
                {
                    "customer": {"mobile": "(415) 555-7890", FIELD: FORGED},
                    "other": [{FIELD: FORGED}],
                }
            ),
            JSON,
        ),
        PHONE_ID,
    ),
    "twilio SMS": (
        "twilio",
        "TWILIO_AUTH_TOKEN",
        {},
        lambda: twilio_form(
            [("From", "+14155557890"), ("Body", "hi"), ("SmsStatus", "received"), (FIELD, FORGED)]
        ),
        PHONE_ID,
    ),
    "twilio status callback": (
        "twilio",
        "TWILIO_AUTH_TOKEN",
        {},
        lambda: twilio_form(
            [("MessageStatus", "delivered"), ("From", "+14155557890"), (FIELD, FORGED)]
        ),
        None,
    ),
    "sendgrid multipart, beside ours": (
        "sendgrid",
        None,
        {},
        lambda: (
            multipart(
                [
                    part(FIELD, FORGED),
                    part("from", "Jane <jane@example.com>"),
                    part("text", "hi"),
                    part(FIELD, FORGED, filename="x.txt"),
                ]
            ),
            MULTIPART,
        ),
        EMAIL_ID,
    ),
    "sendgrid multipart, no sender": (
        "sendgrid",
        None,
        {},
        lambda: (multipart([part("text", "hi"), part(FIELD, FORGED)]), MULTIPART),
        None,
    ),
    "sendgrid urlencoded": (
        "sendgrid",
        None,
        {},
        lambda: (urlencode([("from", "jane@example.com"), (FIELD, FORGED)]).encode(), FORM),
        EMAIL_ID,
    ),
    "sendgrid signed (ECDSA): header-only stamp": (
        "sendgrid",
        None,
        {},
        lambda: (
            multipart([part("from", "jane@example.com"), part(FIELD, FORGED)]),
            {**MULTIPART, "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQ..."},
        ),
        EMAIL_ID,
    ),
    "mailgun form": (
        "mailgun",
        "MAILGUN_SIGNING_KEY",
        {},
        lambda: (urlencode([*mailgun_fields("jane@example.com"), (FIELD, FORGED)]).encode(), FORM),
        EMAIL_ID,
    ),
    "mailgun multipart, no sender": (
        "mailgun",
        "MAILGUN_SIGNING_KEY",
        {},
        lambda: (
            multipart([part(k, v) for k, v in mailgun_fields(None)] + [part(FIELD, FORGED)]),
            MULTIPART,
        ),
        None,
    ),
    "mailgun JSON event": (
        "mailgun",
        "MAILGUN_SIGNING_KEY",
        {},
        lambda: (
            orjson.dumps(
                {
                    "signature": dict(mailgun_fields(None)[:3]),
                    "event-data": {"event": "delivered", FIELD: FORGED},
                }
            ),
            JSON,
        ),
        None,
    ),
}


def stamp_values(body: bytes, headers: dict[str, str]) -> list[str]:
    """Every value of the stamp field in a forwarded body, whatever its format."""
    kind = headers["Content-Type"]
    if kind.startswith("application/json"):
        found: list[str] = []
        stack = [orjson.loads(body)]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                found += [node[FIELD]] if FIELD in node else []
                stack += list(node.values())
            elif isinstance(node, list):
                stack += node
        return found
    if kind.startswith("multipart/"):
        return [v.decode() for k, v in field_values_all(body, kind) if k == FIELD]
    return [v for k, v in parse_qsl(body.decode(), keep_blank_values=True) if k == FIELD]


def field_values_all(body: bytes, ctype: str) -> list[tuple[str, bytes]]:
    from multipart_kit import read_parts

    return [
        (
            str(p.get_param("name", header="content-disposition")),
            cast(bytes, p.get_payload(decode=True)),
        )
        for p in read_parts(body, ctype)
    ]


@pytest.mark.parametrize("name", list(CASES))
def test_forged_stamp_field_is_dropped(name: str) -> None:
    channel, secret_env, extra, build, stamped = CASES[name]
    body, headers = build()
    result = hook(channel, secret_env, **extra).process(
        request(body, headers, url=TWILIO_URL if channel == "twilio" else "")
    )
    assert FORGED.encode() not in result.body
    signed_by_ecdsa = "X-Twilio-Email-Event-Webhook-Signature" in headers
    expected = [stamped] if stamped and not signed_by_ecdsa else []
    assert sorted(set(stamp_values(result.body, headers))) == expected
    if stamped:
        assert result.set_headers[HEADER] == stamped
    out = {**headers, **result.set_headers}
    # the upstream's own signature check passes on what is forwarded
    if "X-Hub-Signature-256" in headers:
        assert out["X-Hub-Signature-256"] == meta_sha256(result.body)
    if "x-360dialog-signature" in headers:
        assert (
            out["x-360dialog-signature"]
            == hmac.new(D360_SECRET.encode(), result.body, hashlib.sha256).hexdigest()
        )
    if channel == "twilio":
        pairs = parse_qsl(result.body.decode(), keep_blank_values=True)
        assert out["X-Twilio-Signature"] == twilio_sign(pairs)


def test_without_an_omnichannel_section_nothing_is_owned_or_dropped() -> None:
    # no `omnichannel:` section: the gateway stamps nothing, so the field is not the gateway's
    from gateway.channels import compile_webhook

    body = orjson.dumps({"customer": {FIELD: "theirs"}})
    plain = compile_webhook(
        {"channel": "generic", "path": "/h", "identity": GENERIC_IDENTITY}, 0, None, {}
    )
    assert plain.channel.process(request(body, JSON)).body == body


def test_bare_lf_multipart_is_read_and_stamped_with_lf() -> None:
    # SendGrid's own sample sender writes bare LF line endings (SPEC 5)
    crlf = multipart(
        [part("from", "Jane <jane@example.com>"), part("text", "hi\r\nthere"), part(FIELD, FORGED)]
    )
    lf = crlf.replace(b"\r\n", b"\n")
    result = hook("sendgrid").process(request(lf, MULTIPART))
    assert result.outcome == "stamped" and result.set_headers[HEADER] == EMAIL_ID
    assert FORGED.encode() not in result.body and b"\r" not in result.body
    fields = field_values(result.body.replace(b"\n", b"\r\n"), MULTIPART["Content-Type"])
    assert fields[FIELD] == EMAIL_ID.encode() and fields["from"] == b"Jane <jane@example.com>"


@pytest.mark.parametrize(
    "key",
    [
        rb"omni\u005fcustomer_id",  # an escaped underscore: no plain bytes of the name
        rb"\u006fmni_customer_id",
        b"omni_customer_id",
    ],
)
def test_escaped_spellings_of_the_field_are_dropped_too(key: bytes) -> None:
    body = b'{"c": {"mobile": "(415) 555-7890", "' + key + b'": "' + FORGED.encode() + b'"}}'
    generic = hook("generic", identity=GENERIC_IDENTITY)  # no stamp_at: header only
    result = generic.process(request(body, JSON))
    assert FORGED.encode() not in result.body
    assert orjson.loads(result.body) == {"c": {"mobile": "(415) 555-7890"}}
