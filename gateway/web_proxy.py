"""The client-facing handler: authenticate -> match route -> forward -> transform -> respond.

Every stage but forwarding is a plain function in its own module; this one only sequences them,
renders errors in one place and writes the access log, metrics and audit events.
"""

from __future__ import annotations

import time

from aiohttp import web

from gateway import metrics
from gateway.errors import GatewayError, UnmaskableResponse
from gateway.web_errors import render_error
from gateway.web_forward import request_body, upstream_headers
from gateway.web_request import Prepared, prepare, request_id_of
from gateway.web_respond import Relay, respond
from gateway.web_state import STATE, GatewayState
from gateway.web_webhook import forward_webhook
from gateway.web_websocket import is_websocket_upgrade, relay_websocket


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    started = time.perf_counter()
    relay = Relay()
    prepared: Prepared | None = None
    upstream_seconds: float | None = None
    try:
        prepared = await prepare(request)
        if prepared.webhook is not None:
            response = await forward_webhook(request, prepared, state)
        elif is_websocket_upgrade(request):
            response = await relay_websocket(request, prepared, state)
        else:
            response, upstream_seconds = await _proxy(request, prepared, state, relay)
    except GatewayError as exc:
        if isinstance(exc, UnmaskableResponse):
            metrics.FAIL_CLOSED.labels(exc.reason).inc()
        response = render_error(exc, request_id_of(request))
    if not response.prepared:
        response.headers.setdefault("X-Request-Id", request_id_of(request))
    _record(state, request, prepared, response, relay, started, upstream_seconds)
    return response


async def _proxy(
    request: web.Request, prepared: Prepared, state: GatewayState, relay: Relay
) -> tuple[web.StreamResponse, float]:
    upstream = state.upstream
    assert upstream is not None, "the upstream session opens before the listener"
    settings = state.settings
    headers = upstream_headers(request, prepared)
    body, query = await request_body(request, prepared, headers, settings.max_body)
    sent = time.perf_counter()
    upstream_response = await upstream.send(
        request.method, upstream.url_for(prepared.path, query), headers, body
    )
    upstream_seconds = time.perf_counter() - sent
    try:
        response = await respond(
            request, prepared, upstream_response, settings.max_body, upstream.timeout, relay
        )
    finally:
        upstream_response.release()
    return response, upstream_seconds


def _record(
    state: GatewayState,
    request: web.Request,
    prepared: Prepared | None,
    response: web.StreamResponse,
    relay: Relay,
    started: float,
    upstream_seconds: float | None,
) -> None:
    elapsed = time.perf_counter() - started
    route = prepared.view.route_label if prepared else "-"
    if prepared is not None and prepared.webhook is not None:
        route = f"webhook:{prepared.webhook.channel.name}"
    role = prepared.identity.role if prepared else "-"
    sub = prepared.identity.sub if prepared else None
    metrics.child(metrics.REQUESTS, route, role, str(response.status)).inc()
    metrics.child(metrics.REQUEST_SECONDS, route).observe(elapsed)
    if upstream_seconds is not None:
        metrics.child(metrics.UPSTREAM_SECONDS, route).observe(upstream_seconds)
    for (route_name, mask), count in relay.outcome.masked.items():
        metrics.VALUES_MASKED.labels(route_name, mask).inc(count)
    if relay.outcome.stamped:
        metrics.IDENTITIES_STAMPED.labels("api", "response").inc(relay.outcome.stamped)
    # PII: the path has no query string; bodies, tokens and headers are never logged.
    state.access_log.write(
        "access",
        {
            "request_id": request_id_of(request),
            "method": request.method,
            "route": route,
            "path": prepared.path if prepared else request.path,
            "status": response.status,
            "role": role,
            "sub": sub,
            "duration_ms": round(elapsed * 1000, 3),
            "upstream_ms": round(upstream_seconds * 1000, 3) if upstream_seconds else None,
            "masked": relay.outcome.masked_total,
        },
    )
    if prepared and prepared.view.guarded and not prepared.identity.masking:
        state.audit_log.write(
            "reveal",
            {
                "request_id": request_id_of(request),
                "sub": sub,
                "role": role,
                "route": route,
                "values_revealed": relay.revealed,
            },
        )
