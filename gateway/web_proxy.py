"""The client-facing handler: decide -> forward -> respond, one `Exchange` per request.

Every stage but forwarding is a plain function in its own module; this one only sequences them,
renders errors in one place, and hands the exchange to `exchange_record.record` exactly once,
however it ends (answered, refused, or cancelled because the client left).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from gateway.errors import GatewayError, UnmaskableResponse
from gateway.exchange import Exchange, WebhookDelivery
from gateway.exchange_record import record
from gateway.http_headers import X_REQUEST_ID
from gateway.shadow_mode import MODE_HEADER, SHADOW, in_shadow
from gateway.web_errors import render_error
from gateway.web_forward import request_body, upstream_headers
from gateway.web_request import decide, memo_of
from gateway.web_respond import respond
from gateway.web_state import STATE, GatewayState
from gateway.web_webhook import forward_webhook
from gateway.web_websocket import is_websocket_upgrade, relay_websocket


def proxy_handler(state: GatewayState) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """`handle` for the app whose state is `state`: bound once, so that no request looks the
    app's state up (a partial: no coroutine layer of its own)."""
    return functools.partial(handle, state=state)


async def handle(request: web.Request, state: GatewayState | None = None) -> web.StreamResponse:
    if state is None:
        state = request.app[STATE]
    memo = memo_of(request)
    exchange = Exchange(request, memo.request_id, state)
    try:
        try:
            decision = memo.decision  # made already when an `Expect` was answered
            if decision is None:
                decision = await decide(request, exchange, state, memo)
            exchange.decision = decision
            if isinstance(decision, WebhookDelivery):
                response = await forward_webhook(exchange, state)
            elif hdrs.UPGRADE in request.headers and is_websocket_upgrade(request):
                response = await relay_websocket(exchange, state)
            else:  # (the proxy stage, inline: one coroutine layer fewer per request)
                upstream = state.upstream
                assert upstream is not None, "the upstream session opens before the listener"
                api = exchange.api  # (an ApiRequest: asserted)
                headers = upstream_headers(request, api)
                body, query = await request_body(request, api, headers, state.settings.max_body)
                sent = time.perf_counter()
                upstream_response = await upstream.send(
                    request.method, upstream.url_for(api.path, query), headers, body
                )
                exchange.tally.upstream_seconds = time.perf_counter() - sent
                try:
                    response = await respond(
                        exchange, upstream_response, state.settings.max_body, upstream.timeout
                    )
                finally:
                    upstream_response.release()
        except GatewayError as exc:
            if isinstance(exc, UnmaskableResponse):
                exchange.tally.fail_closed = exc.reason
            response = render_error(exc, exchange.request_id)
        if not response.prepared:
            response.headers.setdefault(X_REQUEST_ID, exchange.request_id)
            if in_shadow(exchange.decision):  # the gateway's own errors too (SPEC 3.11)
                response.headers[MODE_HEADER] = SHADOW
        exchange.status = response.status
        return response
    finally:
        # A WebSocket handler is cancelled when its client goes: the record still happens.
        record(state, exchange)
