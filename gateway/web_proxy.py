"""The client-facing handler: decide -> forward -> respond, one `Exchange` per request.

Every stage but forwarding is a plain function in its own module; this one only sequences them,
renders errors in one place, and hands the exchange to `exchange_record.record` exactly once,
however it ends (answered, refused, or cancelled because the client left).
"""

from __future__ import annotations

import time

from aiohttp import web

from gateway.errors import GatewayError, UnmaskableResponse
from gateway.exchange import Exchange, WebhookDelivery
from gateway.exchange_record import record
from gateway.shadow_mode import MODE_HEADER, SHADOW, in_shadow
from gateway.web_errors import render_error
from gateway.web_forward import request_body, upstream_headers
from gateway.web_request import decide, request_id_of
from gateway.web_respond import respond
from gateway.web_state import STATE
from gateway.web_webhook import forward_webhook
from gateway.web_websocket import is_websocket_upgrade, relay_websocket


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    exchange = Exchange(request, request_id_of(request))
    try:
        try:
            exchange.decision = decision = await decide(request, exchange, state)
            if isinstance(decision, WebhookDelivery):
                response = await forward_webhook(exchange, state)
            elif "Upgrade" in request.headers and is_websocket_upgrade(request):
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
            response.headers.setdefault("X-Request-Id", exchange.request_id)
            if in_shadow(exchange.decision):  # the gateway's own errors too (SPEC 3.11)
                response.headers[MODE_HEADER] = SHADOW
        exchange.status = response.status
        return response
    finally:
        # A WebSocket handler is cancelled when its client goes: the record still happens.
        record(state, exchange)
