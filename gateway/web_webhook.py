"""HTTP glue for channel webhooks (SPEC 5): the channel adapters are pure; this reads the body,
hands it to the adapter, and forwards what it returns.

Fail open on identity (an adapter never raises for a missing sender), fail closed on authenticity
(`BadSignature` -> 401, nothing forwarded). Upstream answers (TwiML, `hub.challenge`) are relayed
as they are.
"""

from __future__ import annotations

import time
from urllib.parse import unquote_plus

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway import tracing
from gateway.channels import WebhookRequest
from gateway.errors import BadSignature, PayloadTooLarge
from gateway.exchange import Exchange, WebhookDelivery
from gateway.identity.linker import settle
from gateway.identity.omni_id import DEFAULT_FIELD
from gateway.web_forward import forwarded_headers, read_request_body
from gateway.web_respond import stream_through
from gateway.web_state import GatewayState


async def forward_webhook(exchange: Exchange, state: GatewayState) -> web.StreamResponse:
    request, delivery, tally = exchange.request, exchange.decision, exchange.tally
    assert isinstance(delivery, WebhookDelivery) and state.upstream is not None
    hook = delivery.hook
    try:
        body = await read_request_body(request, state.settings.max_body)
    except PayloadTooLarge:
        tally.webhook_outcome = "too_large"
        raise
    headers = forwarded_headers(request, delivery)  # a stamp from outside is removed here
    webhook_request = WebhookRequest(
        method=request.method,
        url=public_url(request, hook.public_url),
        headers=CIMultiDictProxy(headers),
        body=body,
    )
    try:
        # With linking on, ids this process has not seen are looked up first (one bounded
        # round trip), so the first delivery on a fresh process gets the cluster id (SPEC 4.1);
        # the processing runs in a stamping span when tracing is on.
        result = await settle(hook.linker, lambda: tracing.stamp(hook.channel, webhook_request))
    except BadSignature:
        tally.webhook_outcome = "bad_signature"
        raise
    tally.webhook_outcome, tally.webhook_stamped = result.outcome, tuple(result.kinds)
    out = CIMultiDict(headers)
    for name, value in result.set_headers.items():
        out[name] = value
    if result.body is not body or "Content-Length" in out:
        out.popall("Transfer-Encoding", None)
        out["Content-Length"] = str(len(result.body))
    upstream = state.upstream
    started = time.perf_counter()
    upstream_response = await upstream.send(
        request.method,
        upstream.url_for(delivery.path, query_without(delivery.query, stamp_field(delivery))),
        out,
        result.body if (result.body or request.body_exists) else None,
    )
    tally.upstream_seconds = time.perf_counter() - started
    try:
        return await stream_through(exchange, upstream_response, guarded=False)
    finally:
        upstream_response.release()


def stamp_field(delivery: WebhookDelivery) -> str:
    resolver = delivery.plan.resolver
    return resolver.field if resolver is not None else DEFAULT_FIELD


def query_without(query: str, field: str) -> str:
    """The raw query string without any `field` parameter, the rest byte for byte.

    SECURITY: GET webhooks (Twilio's) carry their parameters in the query string; a stamp field
    from outside is removed there as from a body (SPEC 5), in any percent-encoded spelling.
    """
    if not query or (field not in query and "%" not in query):
        return query
    kept = [pair for pair in query.split("&") if unquote_plus(pair.partition("=")[0]) != field]
    return "&".join(kept)


def public_url(request: web.BaseRequest, configured: str | None) -> str:
    """The URL the provider signed (Twilio): configured, else rebuilt from forwarding headers."""
    if configured:
        # Twilio signs the full URL it called: the configured base plus the query it added.
        query = request.raw_path.partition("?")[2]
        return f"{configured}?{query}" if query and "?" not in configured else configured
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host") or request.host
    return f"{proto}://{host.split(',')[0].strip()}{request.raw_path}"
