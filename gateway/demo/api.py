"""The bundled demo chat API: a small Chatwoot-shaped helpdesk with seeded, invented PII.

`omnigate demo` serves this application and puts the gateway, with `rules/examples/`, in front of
it. Everything is in memory and derived from `seed`, so two apps with the same seed answer the same.

Routes (account 1 only; anything else is 404 `{"error": "not found"}`):

    GET        /api/v1/profile
    GET        /api/v1/accounts/{account_id}/contacts            ?page=
    POST       /api/v1/accounts/{account_id}/contacts
    GET        /api/v1/accounts/{account_id}/contacts/search     ?q=&page=
    GET        /api/v1/accounts/{account_id}/contacts/export.csv (text/csv)
    GET        /api/v1/accounts/{account_id}/contacts/{id}
    PUT, PATCH /api/v1/accounts/{account_id}/contacts/{id}
    GET        /api/v1/accounts/{account_id}/conversations       ?status=&page=
    GET        /api/v1/accounts/{account_id}/conversations/{id}
    GET, POST  /api/v1/accounts/{account_id}/conversations/{id}/messages
    GET        /api/v1/accounts/{account_id}/live                (Server-Sent Events)
    GET        /cable                                            (ActionCable WebSocket)
    GET, POST  /webhooks/{channel}
    GET        /api/v1/accounts/{account_id}/customers
"""

from __future__ import annotations

from aiohttp import web

from gateway.demo import contacts, conversations, live, webhooks
from gateway.demo.conventions import STORE, json_response, not_found_as_json
from gateway.demo.data import seed_store

ACCOUNT = "/api/v1/accounts/{account_id:\\d+}"


async def profile(request: web.Request) -> web.Response:
    """The signed-in agent: no customer data, only the agent's own name and email."""
    return json_response(request.app[STORE].profile)


def make_demo_app(
    seed: int = 7,
    *,
    live_interval: float | None = 2.0,
    ping_interval: float = 3.0,
    sse_keepalive: float = 15.0,
) -> web.Application:
    """The demo API. `live_interval=None` (or 0) stops the made-up live messages (tests)."""
    app = web.Application(middlewares=[not_found_as_json])
    app[STORE] = seed_store(seed)
    app[live.FEED] = live.LiveFeed()
    app[live.SETTINGS] = live.LiveSettings(seed, live_interval, ping_interval, sse_keepalive)
    app[webhooks.WEBHOOKS] = webhooks.WebhookLog()
    app.cleanup_ctx.append(live.synthetic_messages)
    app.on_shutdown.append(live.close_feed)

    add = app.router.add_route
    add("GET", "/api/v1/profile", profile)
    add("GET", f"{ACCOUNT}/contacts", contacts.list_contacts)
    add("POST", f"{ACCOUNT}/contacts", contacts.create_contact)
    # The fixed paths first, so "search" and "export.csv" are never taken for contact ids.
    add("GET", f"{ACCOUNT}/contacts/search", contacts.search_contacts)
    add("GET", f"{ACCOUNT}/contacts/export.csv", contacts.export_contacts)
    add("GET", f"{ACCOUNT}/contacts/{{id:\\d+}}", contacts.show_contact)
    add("PUT", f"{ACCOUNT}/contacts/{{id:\\d+}}", contacts.update_contact)
    add("PATCH", f"{ACCOUNT}/contacts/{{id:\\d+}}", contacts.update_contact)
    add("GET", f"{ACCOUNT}/conversations", conversations.list_conversations)
    add("GET", f"{ACCOUNT}/conversations/{{id:\\d+}}", conversations.show_conversation)
    add("GET", f"{ACCOUNT}/conversations/{{id:\\d+}}/messages", conversations.list_messages)
    add("POST", f"{ACCOUNT}/conversations/{{id:\\d+}}/messages", conversations.create_message)
    add("GET", f"{ACCOUNT}/live", live.sse)
    add("GET", "/cable", live.cable)
    add("POST", "/webhooks/{channel}", webhooks.receive)
    add("GET", "/webhooks/{channel}", webhooks.verify)
    add("GET", f"{ACCOUNT}/customers", webhooks.customers)
    return app
