"""How the demo API speaks HTTP: orjson bodies, `{"error": ...}` answers, the one account it serves.

Unknown paths, unknown ids and unsupported methods all answer 404 `{"error": "not found"}`, as a
Rails app like Chatwoot does for an unmatched route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from gateway.demo.store import ACCOUNT_ID, DemoStore, Json

STORE = web.AppKey("omnigate_demo_store", DemoStore)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_response(message: str, status: int) -> web.Response:
    return json_response({"error": message}, status=status)


def not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"error":"not found"}', content_type="application/json")


def require_account(request: web.Request) -> None:
    """The demo holds one account; any other account id is as unknown as a missing record."""
    if request.match_info.get("account_id") != str(ACCOUNT_ID):
        raise not_found()


def int_param(request: web.Request, name: str, default: int) -> int:
    """A positive integer query parameter; anything unusable falls back to the default."""
    raw = request.query.get(name, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


async def json_object(request: web.Request) -> Json:
    """The request body as a JSON object, or a 400 answer."""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise _bad_request("body must be JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("body must be a JSON object")
    return body


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=orjson.dumps({"error": message}).decode(), content_type="application/json"
    )


@web.middleware
async def not_found_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
        if exc.content_type == "application/json":
            raise
        raise not_found() from None
