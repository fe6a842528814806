"""Messenger and Instagram messaging webhooks (Meta), signed with X-Hub-Signature-256 (SPEC 5).

Events are `entry[].messaging[]`. The sender is a page-scoped id, which identifies nobody across
channels; an identity exists only when the user tapped a `user_email` / `user_phone_number` quick
reply, whose payload is the address the user chose to share. Echoes of our own messages and
read / delivery receipts are forwarded unstamped.
"""

from __future__ import annotations

from typing import Any

from gateway.channels.contract import ChannelSpec
from gateway.channels.json_body import JsonChannel, child, objects
from gateway.channels.ledger import StampLedger
from gateway.channels.signature import META_HEADERS


def stamp_messaging(doc: Any, ledger: StampLedger) -> None:
    if not isinstance(doc, dict):
        return
    for entry in objects(doc.get("entry")):
        for event in objects(entry.get("messaging")):
            message = child(event, "message")
            if message is None or message.get("is_echo") is True:
                continue  # receipts, postbacks, reactions; echoes are sent by the page
            quick_reply = child(message, "quick_reply")
            shared = quick_reply.get("payload") if quick_reply is not None else None
            if not isinstance(shared, str):
                continue
            # PII: the payload of a user_email / user_phone_number quick reply is the user's own
            # address; any other quick reply payload is the developer's text and resolves to
            # nothing (it is neither a valid number nor an address).
            resolved = ledger.resolve(phone=shared, email=shared)
            if resolved is not None:
                ledger.stamp(event, resolved)


def messenger(cfg: ChannelSpec) -> JsonChannel:
    return JsonChannel("messenger", cfg, stamp_messaging, META_HEADERS)


def instagram(cfg: ChannelSpec) -> JsonChannel:
    return JsonChannel("instagram", cfg, stamp_messaging, META_HEADERS)
