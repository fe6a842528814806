"""Telegram Bot API webhooks (SPEC 5).

Authenticity: the `secret_token` given to setWebhook comes back in
`X-Telegram-Bot-Api-Secret-Token`. It does not cover the body, so stamping the body needs no
re-signing. Telegram users have no phone or email in updates; an identity exists only when the
user shares their own contact (`message.contact.user_id == message.from.id`).
"""

from __future__ import annotations

import hmac
from typing import Any

from gateway.channels.contract import (
    PASSTHROUGH,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    is_handshake,
    unchanged,
)
from gateway.channels.json_body import child, json_delivery
from gateway.channels.ledger import StampLedger
from gateway.channels.signature import UNSIGNED
from gateway.errors import BadSignature

TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

# The update kinds that are a message written by a user (exactly one is present in an update).
_MESSAGE_KINDS = ("message", "edited_message", "business_message", "edited_business_message")


def stamp_update(doc: Any, ledger: StampLedger) -> None:
    for kind in _MESSAGE_KINDS:
        message = child(doc, kind)
        if message is None:
            continue
        sender = child(message, "from")
        contact = child(message, "contact")
        if sender is None or contact is None or not _same_user(contact.get("user_id"), sender):
            continue  # PII: a contact card of someone else is not the sender's identity
        resolved = ledger.resolve(phone=contact.get("phone_number"), international=True)
        if resolved is not None:
            ledger.stamp(message, resolved)


def _same_user(user_id: Any, sender: dict[str, Any]) -> bool:
    sender_id = sender.get("id")
    return (
        isinstance(user_id, int)
        and not isinstance(user_id, bool)
        and isinstance(sender_id, int)
        and user_id == sender_id
    )


class TelegramChannel:
    name = "telegram"

    def __init__(self, cfg: ChannelSpec) -> None:
        self._resolver = cfg.resolver
        self._secret = cfg.secret

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req):
            return unchanged(req, PASSTHROUGH)
        if self._secret is not None:
            given = req.headers.get(TOKEN_HEADER)
            # SECURITY: constant-time comparison; a missing header is as bad as a wrong one.
            if given is None or not hmac.compare_digest(
                given.encode("utf-8", "surrogateescape"), self._secret
            ):
                raise BadSignature(f"{TOKEN_HEADER} does not match")
        return json_delivery(req, self._resolver, UNSIGNED, stamp_update)
