"""The demo's webhook receiver: what the helpdesk sees after omnigate stamped a channel webhook.

`POST /webhooks/{channel}` takes any body and records the `X-Omni-Customer-Id` header the gateway
added (a comma-separated list for batches), with the channel and a summary of the delivery, and
answers `{"ok": true, "omni_customer_ids": [...]}` with the ids it received.
`GET /api/v1/accounts/{account_id}/customers` then shows one customer per omni id with every channel
they wrote on: the same person on WhatsApp and by email is one row.

# PII: only the summary is kept (channel, content type, size, time), never the body.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

from gateway.demo.conventions import json_response, require_account
from gateway.demo.store import Json

OMNI_HEADER = "X-Omni-Customer-Id"


@dataclass(slots=True)
class Customer:
    omni_customer_id: str
    channels: list[str] = field(default_factory=list)
    events: int = 0
    last_event: Json = field(default_factory=dict)


class WebhookLog:
    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.unidentified = 0  # deliveries without a stamp (status receipts, unknown senders)

    def record(self, channel: str, header: str, summary: Json) -> list[str]:
        ids = list(dict.fromkeys(part.strip() for part in header.split(",") if part.strip()))
        if not ids:
            self.unidentified += 1
        for omni_id in ids:
            customer = self.customers.setdefault(omni_id, Customer(omni_id))
            if channel not in customer.channels:
                customer.channels.append(channel)
            customer.events += 1
            customer.last_event = summary
        return ids

    def payload(self) -> list[Json]:
        return [
            {
                "omni_customer_id": c.omni_customer_id,
                "channels": c.channels,
                "events": c.events,
                "last_event": c.last_event,
            }
            for c in self.customers.values()
        ]


WEBHOOKS = web.AppKey("omnigate_demo_webhooks", WebhookLog)


async def receive(request: web.Request) -> web.Response:
    """`POST /webhooks/{channel}`: accept anything, remember who it was from."""
    body = await request.read()
    channel = request.match_info["channel"]
    summary: Json = {
        "channel": channel,
        "content_type": request.content_type,
        "bytes": len(body),
        "received_at": int(time.time()),
    }
    ids = request.app[WEBHOOKS].record(channel, request.headers.get(OMNI_HEADER, ""), summary)
    # The answer names the ids the helpdesk received, so a curl through the gateway shows them.
    return json_response({"ok": True, "omni_customer_ids": ids})


async def verify(request: web.Request) -> web.StreamResponse:
    """`GET /webhooks/{channel}`: Meta's subscription handshake echoes `hub.challenge`."""
    if request.query.get("hub.mode") != "subscribe" or "hub.challenge" not in request.query:
        return json_response({"error": "not found"}, status=404)
    return web.Response(text=request.query["hub.challenge"], content_type="text/plain")


async def customers(request: web.Request) -> web.Response:
    """`GET /api/v1/accounts/{account_id}/customers`: received webhooks grouped by omni id."""
    require_account(request)
    log = request.app[WEBHOOKS]
    payload = log.payload()
    return json_response(
        {
            "meta": {"count": len(payload), "unidentified_events": log.unidentified},
            "payload": payload,
        }
    )
