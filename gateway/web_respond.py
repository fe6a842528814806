"""The respond stage: relay the upstream response, streamed untouched or transformed.

PII: for a role with masking on, on a route with response rules, every exit of this module either
masks the body or fails closed (SPEC 3.4); no other path writes upstream bytes to the client.
"""

from __future__ import annotations

from collections.abc import Awaitable
from concurrent.futures import Executor

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from gateway.body_codec import accepts_gzip, encode_gzip
from gateway.body_rewrite import rewrite_settled
from gateway.client_upstream import arrived_body, iter_body, read_upto, read_whole
from gateway.errors import UnmaskableResponse
from gateway.exchange import ApiRequest, Exchange
from gateway.header_rules import mask_headers
from gateway.http_headers import X_REQUEST_ID, end_to_end
from gateway.sentinel import ResidualPII
from gateway.shadow_mode import MODE_HEADER, SHADOW, in_shadow, note
from gateway.sse import EventSplitter, EventTooLarge, mask_event
from gateway.transform import TransformFailed
from gateway.upstream_boundary import UPSTREAM_ERRORS
from gateway.web_forward import is_json_type
from gateway.web_request import vary_names
from gateway.web_state import STATE

_NO_BODY_STATUSES = frozenset({204, 304})
SMALL_BODY = 16 * 1024
OFFLOAD_BYTES = 64 * 1024
# Headers that describe the upstream's exact bytes, which a transformed body no longer has.
_BYTE_HEADERS = (
    "Content-Length",
    "Content-Encoding",
    "ETag",
    "Content-MD5",
    "Digest",
    "Accept-Ranges",
)


def respond(
    exchange: Exchange, upstream: aiohttp.ClientResponse, max_body: int, idle: float
) -> Awaitable[web.StreamResponse]:
    """The answer to relay `upstream`, to be awaited. Not a coroutine itself: it hands back the
    coroutine of the branch it picks (one coroutine layer fewer on every request)."""
    request, policy = exchange.request, exchange.api.policy
    has_body = request.method != "HEAD" and upstream.status not in _NO_BODY_STATUSES
    has_body = has_body and upstream.status >= 200
    if (not policy.guarded and not policy.stampers and not policy.protected) or not has_body:
        # PII: a HEAD or 304 for a masked role must not describe the clear body either.
        masked_route = policy.masking and policy.guarded
        drop = _BYTE_HEADERS if masked_route and not policy.shadow else ()
        return stream_through(exchange, upstream, guarded=policy.guarded, drop=drop)
    return _inspected(exchange, upstream, max_body, idle)


async def _inspected(
    exchange: Exchange, upstream: aiohttp.ClientResponse, max_body: int, idle: float
) -> web.StreamResponse:
    """A response the routes' policy looks into: masked, stamped, scanned or failed closed."""
    policy = exchange.api.policy
    # A path only `sentinel.protect` names (no route: nothing fails closed) scans JSON bodies.
    masked_route = policy.masking and policy.guarded
    if policy.shadow and policy.transforms:
        return await _shadow(exchange, upstream, max_body, idle)
    content_type = upstream.content_type
    if masked_route and len(set(upstream.headers.getall("Content-Type", []))) > 1:
        # PII: clients disagree on which of several Content-Types counts; none is trusted.
        raise UnmaskableResponse("the upstream response has several Content-Types", "content_type")
    if masked_route and content_type == "text/event-stream":
        return await _mask_sse(exchange, upstream, max_body)
    if not is_json_type(content_type):
        if policy.masking and not policy.non_json_pass:
            raise UnmaskableResponse("the upstream response is not JSON", reason="content_type")
        return await stream_through(exchange, upstream, guarded=policy.guarded)
    raw, complete = await read_upto(upstream, max_body, idle)
    if not complete:
        if masked_route:
            raise UnmaskableResponse("the upstream response is too large to mask", "too_large")
        return await stream_through(exchange, upstream, guarded=policy.guarded, prefix=raw)
    encoding = upstream.headers.get("Content-Encoding")
    # A large or compressed body is masked beside the event loop (small ones inline).
    pool = _masking_pool(exchange) if len(raw) >= OFFLOAD_BYTES or encoding else None
    result = await rewrite_settled(raw, encoding, policy, exchange.tally.outcome, max_body, pool)
    exchange.tally.revealed = result.revealed
    if result.body is None:
        return _buffered(exchange, upstream, raw, guarded=policy.guarded)
    return _transformed(exchange, upstream, result.body, guarded=policy.guarded)


def _masking_pool(exchange: Exchange) -> Executor | None:
    state = exchange.state if exchange.state is not None else exchange.request.app[STATE]
    return state.masking_pool


def response_headers(
    exchange: Exchange,
    upstream: aiohttp.ClientResponse,
    *,
    guarded: bool,
    drop: tuple[str, ...] = (),
) -> CIMultiDict[str]:
    if guarded:
        # SECURITY: CDN-specific cache headers would override `private` on shared caches.
        also_drop = ("Content-Length", *drop, "Surrogate-Control", "CDN-Cache-Control")
    else:
        also_drop = ("Content-Length", *drop) if drop else _CONTENT_LENGTH
    headers = end_to_end(upstream.headers, also_drop=also_drop)
    headers[X_REQUEST_ID] = exchange.request_id
    decision = exchange.decision
    if in_shadow(decision):
        headers[MODE_HEADER] = SHADOW  # SPEC 3.11
    if isinstance(decision, ApiRequest):
        policy = decision.policy
        if policy.headers and not policy.shadow:
            mask_headers(headers, policy.headers)  # PII: SPEC 3.10
        if guarded:
            # SECURITY: a shared cache must never serve one role's view of a body to another.
            headers["Cache-Control"] = private_cache_control(headers.get("Cache-Control"))
            for name in vary_names(decision):
                headers["Vary"] = _vary_with(headers.getall("Vary", []), name)
    return headers


_CONTENT_LENGTH = ("Content-Length",)


def private_cache_control(existing: str | None) -> str:
    kept = [
        d.strip()
        for d in (existing or "").split(",")
        if d.strip() and d.strip().split("=")[0].lower() not in ("public", "s-maxage", "private")
    ]
    return ", ".join(["private", *kept])


def _vary_with(values: list[str], name: str) -> str:
    names = [v.strip() for value in values for v in value.split(",") if v.strip()]
    if not any(n.lower() == name.lower() or n == "*" for n in names):
        names.append(name)
    return ", ".join(names)


async def stream_through(
    exchange: Exchange,
    upstream: aiohttp.ClientResponse,
    *,
    guarded: bool,
    prefix: bytes = b"",
    drop: tuple[str, ...] = (),
) -> web.StreamResponse:
    """Relay status, headers and body as they are, streamed (SPEC 2)."""
    request = exchange.request
    length = upstream.content_length
    if (
        length is not None
        and length <= SMALL_BODY
        and not prefix
        and not drop
        and request.method != "HEAD"
        and upstream.status >= 200
        and upstream.status not in _NO_BODY_STATUSES
    ):
        # A small body with a known length goes out with its headers in one write. Nothing is
        # sent yet: a broken upstream gets the client a clear error, never a truncated body.
        body = arrived_body(upstream)
        if body is None:
            body = await read_whole(upstream)
        return _buffered(exchange, upstream, body, guarded=guarded)
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.extend(response_headers(exchange, upstream, guarded=guarded, drop=drop))
    if length is not None and "Transfer-Encoding" not in upstream.headers and not drop:
        response.content_length = length
    await response.prepare(request)
    try:
        if prefix:
            await response.write(prefix)
        async for chunk in iter_body(upstream):
            await response.write(chunk)
    except UPSTREAM_ERRORS:
        abort_client(request)
        return response
    await response.write_eof()
    return response


def abort_client(request: web.BaseRequest) -> None:
    """The upstream broke mid-body: cut the client off, so a truncated body never looks whole."""
    transport = request.transport
    if transport is not None:
        transport.abort()


def _buffered(
    exchange: Exchange, upstream: aiohttp.ClientResponse, raw: bytes, *, guarded: bool
) -> web.Response:
    headers = response_headers(exchange, upstream, guarded=guarded)
    return web.Response(status=upstream.status, reason=upstream.reason, body=raw, headers=headers)


def _transformed(
    exchange: Exchange, upstream: aiohttp.ClientResponse, body: bytes, *, guarded: bool
) -> web.Response:
    request = exchange.request
    headers = response_headers(exchange, upstream, guarded=guarded, drop=_BYTE_HEADERS)
    if upstream.charset and upstream.charset.lower() != "utf-8":
        headers["Content-Type"] = f"{upstream.content_type}; charset=utf-8"  # re-encoded
    if upstream.headers.get("Content-Encoding", "identity").lower() != "identity" and accepts_gzip(
        request.headers.get("Accept-Encoding")
    ):
        body = encode_gzip(body)
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = _vary_with(headers.getall("Vary", []), "Accept-Encoding")
    response = web.Response(status=upstream.status, reason=upstream.reason, body=body)
    response.headers.extend(headers)
    return response


async def _mask_sse(
    exchange: Exchange, upstream: aiohttp.ClientResponse, max_body: int
) -> web.StreamResponse:
    if upstream.headers.get("Content-Encoding", "identity").lower() != "identity":
        raise UnmaskableResponse("a compressed event stream cannot be masked", "encoding")
    request, tally = exchange.request, exchange.tally
    masker = exchange.api.policy.masker
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.extend(response_headers(exchange, upstream, guarded=True, drop=_BYTE_HEADERS))
    await response.prepare(request)
    splitter = EventSplitter(max_body)

    def mask_json(document: object) -> object:
        return masker.mask(document, tally.outcome).document

    try:
        async for chunk in iter_body(upstream):
            for event in splitter.feed(chunk):
                await response.write(mask_event(event, mask_json, masker.mask_text))
                tally.stream_items[("sse", "masked")] += 1
    except EventTooLarge:
        tally.stream_closed, tally.fail_closed = "event_too_large", "too_large"
        abort_client(request)
        return response
    except TransformFailed as exc:
        reason = "residual_pii" if isinstance(exc, ResidualPII) else "transform"
        tally.stream_closed = tally.fail_closed = reason
        abort_client(request)
        return response
    except UPSTREAM_ERRORS:
        abort_client(request)
        return response
    # PII: an unterminated trailing event is never dispatched by clients; it is dropped, not sent.
    await response.write_eof()
    return response


async def _shadow(
    exchange: Exchange, upstream: aiohttp.ClientResponse, max_body: int, idle: float
) -> web.StreamResponse:
    """SPEC 3.11: decide, mask and count as enforce mode would, then send the upstream's bytes.

    Each place where `respond` fails closed is a `fail_closed` verdict here, counted, not sent."""
    policy = exchange.api.policy
    content_type = upstream.content_type
    masking = policy.masking  # a role with masking off is never failed closed, stamps or not
    if len(set(upstream.headers.getall("Content-Type", []))) > 1:
        if masking:
            note(exchange.api, "fail_closed", "content_type")
        return await stream_through(exchange, upstream, guarded=policy.guarded)
    if masking and content_type == "text/event-stream":
        return await _shadow_sse(exchange, upstream, max_body)
    if not is_json_type(content_type):
        if masking and not policy.non_json_pass:
            note(exchange.api, "fail_closed", "content_type")
        return await stream_through(exchange, upstream, guarded=policy.guarded)
    raw, complete = await read_upto(upstream, max_body, idle)
    if not complete:
        if masking:
            note(exchange.api, "fail_closed", "too_large")
        return await stream_through(exchange, upstream, guarded=policy.guarded, prefix=raw)
    encoding = upstream.headers.get("Content-Encoding")
    pool = _masking_pool(exchange) if len(raw) >= OFFLOAD_BYTES or encoding else None
    try:
        result = await rewrite_settled(
            raw, encoding, policy, exchange.tally.outcome, max_body, pool
        )
        exchange.tally.revealed = result.revealed
    except UnmaskableResponse as exc:
        note(exchange.api, "fail_closed", exc.reason)
    except TransformFailed:
        note(exchange.api, "fail_closed", "transform")
    return _buffered(exchange, upstream, raw, guarded=policy.guarded)


async def _shadow_sse(
    exchange: Exchange, upstream: aiohttp.ClientResponse, max_body: int
) -> web.StreamResponse:
    """Relay an event stream as it comes, masking a copy of each event only to count it."""
    request, tally = exchange.request, exchange.tally
    masker = exchange.api.policy.masker
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.extend(response_headers(exchange, upstream, guarded=True))
    await response.prepare(request)
    splitter: EventSplitter | None = None
    if upstream.headers.get("Content-Encoding", "identity").lower() != "identity":
        note(exchange.api, "fail_closed", "encoding")
    else:
        splitter = EventSplitter(max_body)

    def mask_json(document: object) -> object:
        return masker.mask(document, tally.outcome).document

    try:
        async for chunk in iter_body(upstream):
            await response.write(chunk)
            try:
                for event in splitter.feed(chunk) if splitter is not None else ():
                    mask_event(event, mask_json, masker.mask_text)
                    tally.stream_items[("sse", "masked")] += 1
            except EventTooLarge:
                note(exchange.api, "fail_closed", "too_large")
                splitter = None  # enforce would have ended the stream: stop counting it
            except TransformFailed:
                note(exchange.api, "fail_closed", "transform")
                splitter = None
    except UPSTREAM_ERRORS:
        abort_client(request)
        return response
    await response.write_eof()
    return response
