"""Mailgun inbound routes (`forward()`) webhooks (SPEC 5).

The message arrives as a form (multipart/form-data when it has attachments). Authenticity:
the `timestamp`, `token` and `signature` fields, signature = hex HMAC-SHA256(signing key,
timestamp + token). It does not cover the other fields, so an `omni_customer_id` field can be
appended without re-signing. Replays (a token seen before, a timestamp more than 10 minutes
off) are refused. Mailgun's JSON event webhooks (`{"signature": {...}, "event-data": ...}`) are
verified the same way and forwarded unstamped: they describe our own outbound mail.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from gateway import json_codec
from gateway.channels.contract import (
    NO_IDENTITY,
    PASSTHROUGH,
    UNPARSABLE,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    is_handshake,
    unchanged,
)
from gateway.channels.form import FormBody, media_type
from gateway.channels.json_body import child, drop_field, load_json
from gateway.channels.ledger import StampLedger
from gateway.channels.replay import ReplayGuard
from gateway.channels.signature import hmac_hex, same
from gateway.errors import BadSignature

# The From header first (SPEC 5: "an email's From address counts"), then the envelope sender.
_SENDER_FIELDS = ("from", "From", "sender")


def _nothing(_name: str) -> None:
    return None


def _nothing_admitted() -> None:
    return None


_REPLAY_GUARDS: dict[bytes, ReplayGuard] = {}


class MailgunChannel:
    name = "mailgun"

    def __init__(self, cfg: ChannelSpec, replay: ReplayGuard | None = None) -> None:
        self._resolver = cfg.resolver
        self._key = cfg.secret
        # One memory per signing key for the whole process, so a rule reload (a new adapter)
        # does not forget the tokens already seen and re-open the replay window.
        self._replay = replay or _REPLAY_GUARDS.setdefault(cfg.secret or b"", ReplayGuard())
        self._last_admitted: Callable[[], WebhookRequest | None] = _nothing_admitted

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req):
            return unchanged(req, PASSTHROUGH)
        if media_type(req.headers) == "application/json":
            doc = load_json(req.body)
            self._verify(req, (child(doc, "signature") or {}).get)
            if self._resolver is None:
                return unchanged(req, PASSTHROUGH)
            # SECURITY: a stamp field from outside is dropped (the signature covers only the
            # timestamp and token, so the cleaned body needs no re-signing).
            if isinstance(doc, dict | list) and drop_field(doc, self._resolver.field):
                return StampLedger(self._resolver).result(req, json_codec.dumps(doc))
            return unchanged(req, NO_IDENTITY)
        parsed = FormBody.parse(req.body, req.headers)
        self._verify(req, parsed.get if parsed is not None else _nothing)
        if self._resolver is None:
            return unchanged(req, PASSTHROUGH)
        if parsed is None:
            return unchanged(req, UNPARSABLE)
        form = parsed.without(self._resolver.field)  # SECURITY: as above
        ledger = StampLedger(self._resolver)
        for name in _SENDER_FIELDS:
            resolved = ledger.resolve(email=form.get(name))  # PII: the sender's address
            if resolved is not None:
                ledger.record(resolved)
                return ledger.result(req, form.append(self._resolver.field, resolved.id))
        return ledger.result(req, form.body)

    def _verify(self, req: WebhookRequest, field: Callable[[str], Any]) -> None:
        if self._key is None or req is self._last_admitted():
            return  # the same delivery processed again (identity linking settles, then re-runs)
        timestamp, token, signature = field("timestamp"), field("token"), field("signature")
        if not (isinstance(timestamp, str | int) and isinstance(token, str)):
            raise BadSignature("Mailgun signature fields are missing")
        if not isinstance(signature, str) or not str(timestamp).isdigit():
            raise BadSignature("Mailgun signature fields are missing")
        expected = hmac_hex(self._key, f"{timestamp}{token}".encode(), "sha256")
        # SECURITY: constant-time comparison, and only a genuine token is remembered, so unsigned
        # requests cannot fill the replay memory.
        if not same(expected, signature.strip().lower()):
            raise BadSignature("Mailgun signature does not match")
        if not self._replay.admit(token, float(timestamp)):
            raise BadSignature("Mailgun signature was already used or is too old")
        self._last_admitted = weakref.ref(req)
