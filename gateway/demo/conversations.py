"""Conversation and message endpoints of the demo API, shaped like Chatwoot's application API.

# PII: `meta.sender` is a whole contact and message `content` is free chat text full of numbers.
"""

from __future__ import annotations

import time

from aiohttp import web

from gateway.demo.conventions import (
    STORE,
    error_response,
    int_param,
    json_object,
    json_response,
    not_found,
    require_account,
)
from gateway.demo.live import FEED
from gateway.demo.store import CONVERSATIONS_PER_PAGE, INCOMING, OUTGOING, Conversation

STATUSES = ("open", "pending", "resolved", "snoozed")
MESSAGES_PER_PAGE = 20
MESSAGE_TYPES: dict[object, int] = {
    "incoming": INCOMING,
    "outgoing": OUTGOING,
    INCOMING: INCOMING,
    OUTGOING: OUTGOING,
}


def _conversation(request: web.Request) -> Conversation:
    require_account(request)
    conv = request.app[STORE].conversations.get(int(request.match_info["id"]))
    if conv is None:
        raise not_found()
    return conv


async def list_conversations(request: web.Request) -> web.Response:
    """`?status=open|pending|resolved|snoozed|all` (default all) and `?page=` (25 a page)."""
    require_account(request)
    store = request.app[STORE]
    status = request.query.get("status", "all")
    if status != "all" and status not in STATUSES:
        return error_response("unknown status", 400)
    chosen = [
        c for _, c in sorted(store.conversations.items()) if status == "all" or c.status == status
    ]
    me = store.profile["id"]
    meta = {
        "mine_count": sum(1 for c in chosen if c.assignee_id == me),
        "assigned_count": sum(1 for c in chosen if c.assignee_id is not None),
        "unassigned_count": sum(1 for c in chosen if c.assignee_id is None),
        "all_count": len(chosen),
    }
    start = (int_param(request, "page", 1) - 1) * CONVERSATIONS_PER_PAGE
    page = chosen[start : start + CONVERSATIONS_PER_PAGE]
    return json_response(
        {"data": {"meta": meta, "payload": [store.render_conversation(c) for c in page]}}
    )


async def show_conversation(request: web.Request) -> web.Response:
    return json_response(request.app[STORE].render_conversation(_conversation(request)))


async def list_messages(request: web.Request) -> web.Response:
    """The latest 20 messages, oldest first; `?before=<message id>` pages back, as in Chatwoot."""
    conv = _conversation(request)
    store = request.app[STORE]
    before = int_param(request, "before", 0)
    older = [m for m in conv.messages if not before or m.id < before]
    return json_response(
        {
            "meta": store.conversation_meta(conv),
            "payload": [store.render_message(m) for m in older[-MESSAGES_PER_PAGE:]],
        }
    )


async def create_message(request: web.Request) -> web.Response:
    """`{"content": "...", "message_type": "outgoing"|"incoming"}`; also pushed to the live feed."""
    conv = _conversation(request)
    body = await json_object(request)
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        return error_response("content must be a non-empty string", 422)
    raw_type = body.get("message_type", "outgoing")
    hashable = isinstance(raw_type, str | int) and not isinstance(raw_type, bool)
    message_type = MESSAGE_TYPES.get(raw_type) if hashable else None
    if message_type is None:
        return error_response("message_type must be incoming or outgoing", 422)
    store = request.app[STORE]
    message = store.render_message(store.add_message(conv, content, message_type, int(time.time())))
    request.app[FEED].publish(message)
    return json_response(message)
