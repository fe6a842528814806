"""Gupshup WhatsApp webhooks (SPEC 5). Gupshup does not sign its callbacks.

Gupshup's own format (callback version 2): `{type: "message", payload: {source, sender: {phone}}}`
where the numbers are full international digits without `+`; `message-event`, `user-event` and
`billing-event` callbacks carry no inbound message. Apps switched to Gupshup's Meta format (v3)
receive the Cloud API shape, which is handled like WhatsApp's.
"""

from __future__ import annotations

from typing import Any

from gateway.channels.cloud_api import stamp_whatsapp
from gateway.channels.contract import ChannelSpec
from gateway.channels.json_body import JsonChannel, child
from gateway.channels.ledger import StampLedger


def stamp_gupshup(doc: Any, ledger: StampLedger) -> None:
    if not isinstance(doc, dict):
        return
    if "entry" in doc:  # Meta format (v3)
        stamp_whatsapp(doc, ledger)
        return
    message = child(doc, "payload")
    if doc.get("type") != "message" or message is None:
        return
    sender = child(message, "sender")
    phone = sender.get("phone") if sender is not None else None
    # PII: `sender.phone` and `source` are the customer's number in international digits.
    resolved = ledger.resolve(phone=phone or message.get("source"), international=True)
    if resolved is None:
        return
    ledger.stamp(message, resolved)
    if sender is not None:
        ledger.stamp(sender, resolved)


def gupshup(cfg: ChannelSpec) -> JsonChannel:
    return JsonChannel("gupshup", cfg, stamp_gupshup)  # Gupshup does not sign its webhooks
