"""Mailgun inbound routes: timestamp+token signature, replays refused, field appended."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from channel_kit import FIELD, HEADER, MAILGUN_KEY, hook, ref_id, request
from multipart_kit import BOUNDARY, field_values, multipart, part

from gateway.channels.replay import ReplayGuard
from gateway.errors import BadSignature

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CT = f"multipart/form-data; boundary={BOUNDARY}"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\r\n--" + bytes(range(200))


def signature_fields(
    timestamp: int | None = None, token: str | None = None
) -> list[tuple[str, str]]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    tok = token or secrets.token_hex(25)
    sig = hmac.new(MAILGUN_KEY.encode(), (ts + tok).encode(), hashlib.sha256).hexdigest()
    return [("timestamp", ts), ("token", tok), ("signature", sig)]


def route_fields(sender: str = "Bob Smith <Bob@Example.com>") -> list[tuple[str, str]]:
    return [
        ("recipient", "support@shop.example"),
        ("sender", "bounce+abc@example.com"),
        ("from", sender),
        ("subject", "Re: order 1234"),
        ("body-plain", "Hi, where is my order?\n"),
        ("stripped-text", "Hi, where is my order?"),
        ("message-headers", '[["From", "Bob Smith <bob@example.com>"]]'),
    ]


def test_urlencoded_route_is_stamped() -> None:
    params = route_fields() + signature_fields()
    body = urlencode(params).encode()
    result = hook("mailgun", "MAILGUN_SIGNING_KEY").process(request(body, FORM))
    expected = ref_id("email", "bob@example.com")  # the From header, not the envelope sender
    assert result.outcome == "stamped" and result.set_headers == {HEADER: expected}
    forwarded = parse_qsl(result.body.decode(), keep_blank_values=True)
    assert forwarded == [*params, (FIELD, expected)]
    # The upstream's own Mailgun check still passes: the signature covers timestamp+token only.
    fields = dict(forwarded)
    digest = hmac.new(
        MAILGUN_KEY.encode(), (fields["timestamp"] + fields["token"]).encode(), hashlib.sha256
    )
    assert fields["signature"] == digest.hexdigest()


def test_multipart_with_attachment() -> None:
    parts = [part(k, v) for k, v in route_fields() + signature_fields()]
    parts += [
        part("attachment-count", "1"),
        part("attachment-1", PDF, "invoice.pdf", "application/pdf"),
    ]
    body = multipart(parts, preamble=b"This is a preamble.\r\n")
    result = hook("mailgun", "MAILGUN_SIGNING_KEY").process(request(body, {"Content-Type": CT}))
    fields = field_values(result.body, CT)
    assert fields[FIELD] == ref_id("email", "bob@example.com").encode()
    assert fields["attachment-1"] == PDF


def test_envelope_sender_is_the_fallback() -> None:
    params = [(k, v) for k, v in route_fields() if k != "from"] + signature_fields()
    result = hook("mailgun", "MAILGUN_SIGNING_KEY").process(
        request(urlencode(params).encode(), FORM)
    )
    assert result.ids == (ref_id("email", "bounce+abc@example.com"),)


def test_replay_is_refused() -> None:
    body = urlencode(route_fields() + signature_fields()).encode()
    channel = hook("mailgun", "MAILGUN_SIGNING_KEY")
    assert channel.process(request(body, FORM)).outcome == "stamped"
    with pytest.raises(BadSignature):
        channel.process(request(body, FORM))


def test_old_timestamp_is_refused() -> None:
    old = int(time.time()) - 11 * 60
    body = urlencode(route_fields() + signature_fields(old)).encode()
    with pytest.raises(BadSignature):
        hook("mailgun", "MAILGUN_SIGNING_KEY").process(request(body, FORM))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: [(k, "0" * 64 if k == "signature" else v) for k, v in p],  # wrong signature
        lambda p: [(k, v) for k, v in p if k != "signature"],  # missing signature
        lambda p: [(k, v) for k, v in p if k != "token"],  # missing token
        lambda p: [(k, "abc" if k == "timestamp" else v) for k, v in p],  # not a timestamp
        lambda p: [(k, str(int(v) + 1) if k == "timestamp" else v) for k, v in p],  # tampered
    ],
)
def test_bad_signatures(mutate: object) -> None:
    params = mutate(route_fields() + signature_fields())  # type: ignore[operator]
    with pytest.raises(BadSignature):
        hook("mailgun", "MAILGUN_SIGNING_KEY").process(request(urlencode(params).encode(), FORM))


def test_unsigned_garbage_with_a_key_is_refused() -> None:
    with pytest.raises(BadSignature):
        hook("mailgun", "MAILGUN_SIGNING_KEY").process(
            request(b"\x00\x01", {"Content-Type": "text/plain"})
        )


def test_a_bad_signature_does_not_burn_the_token() -> None:
    fields = signature_fields()
    forged = [(k, "0" * 64 if k == "signature" else v) for k, v in fields]
    channel = hook("mailgun", "MAILGUN_SIGNING_KEY")
    with pytest.raises(BadSignature):
        channel.process(request(urlencode(route_fields() + forged).encode(), FORM))
    assert channel.process(request(urlencode(route_fields() + fields).encode(), FORM)).ids


def test_json_event_webhook_is_verified_not_stamped() -> None:
    ts, token, sig = (v for _, v in signature_fields())
    doc = {
        "signature": {"timestamp": ts, "token": token, "signature": sig},
        "event-data": {"event": "delivered", "recipient": "bob@example.com"},
    }
    body = orjson.dumps(doc)
    result = hook("mailgun", "MAILGUN_SIGNING_KEY").process(
        request(body, {"Content-Type": "application/json"})
    )
    assert result.outcome == "no_identity" and result.body is body
    doc["signature"]["signature"] = "0" * 64
    with pytest.raises(BadSignature):
        hook("mailgun", "MAILGUN_SIGNING_KEY").process(
            request(orjson.dumps(doc), {"Content-Type": "application/json"})
        )


def test_without_key_nothing_is_verified() -> None:
    body = urlencode(route_fields()).encode()
    assert hook("mailgun").process(request(body, FORM)).outcome == "stamped"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_replay_guard_window_expiry_and_capacity() -> None:
    clock = FakeClock()
    guard = ReplayGuard(window_s=600, capacity=3, clock=clock)
    assert guard.admit("a", clock.now)
    assert not guard.admit("a", clock.now)  # replay
    assert not guard.admit("b", clock.now - 601)  # too old
    assert not guard.admit("c", clock.now + 601)  # too far in the future
    clock.now += 700
    assert not guard.admit("a", clock.now - 700)  # stale now, even though forgotten
    assert guard.admit("a", clock.now)  # a fresh delivery reusing the token string
    for token in ("x", "y", "z"):
        assert guard.admit(token, clock.now)
    assert len(guard._expiry) == 3  # bounded
