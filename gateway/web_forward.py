"""The forward stage: what goes upstream (headers, body) for a decided request.

Header work is pure; the body is either streamed through untouched or, for the write-back guard,
buffered and inspected (SPEC 3.5).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from aiohttp import hdrs, web
from multidict import CIMultiDict

from gateway.body_codec import UndecodableBody, decodable_accept_encoding, decode_body
from gateway.client_upstream import READ_CHUNK
from gateway.errors import BadRequest, PayloadTooLarge
from gateway.exchange import ApiRequest, Decision
from gateway.http_headers import X_REQUEST_ID, add_forwarding, end_to_end
from gateway.identity.omni_id import DEFAULT_HEADER
from gateway.masked_values import suspect
from gateway.shadow_mode import note
from gateway.write_guard import SNIFF_BYTES, Mode, Verdict, body_kind, check, looks_like_json


def forwarded_headers(
    request: web.BaseRequest, decision: Decision, also_drop: tuple[str, ...] = ()
) -> CIMultiDict[str]:
    """The client's headers as every upstream request carries them (HTTP, WebSocket, webhook).

    Hop-by-hop headers and any inbound stamp header go first; the gateway's own headers
    (X-Forwarded-*, X-Request-Id) are added after, so a client cannot make them vanish.
    """
    resolver = decision.plan.resolver
    # `Expect` is answered by the gateway itself (web_expect), SPEC 2.
    # SECURITY: only the gateway stamps identities, in any spelling, configured or not.
    drop = (*also_drop, "Expect", resolver.header if resolver is not None else DEFAULT_HEADER)
    client = request.headers
    headers = end_to_end(client, also_drop=drop)
    add_forwarding(headers, peer=request.remote, proto=request.scheme, host=client.get(hdrs.HOST))
    headers[X_REQUEST_ID] = decision.request_id
    return headers


# SECURITY: a byte range of a masked body cannot be masked; and a 304 to a guessed ETag or
# date would confirm a clear value unseen.
_RANGE = ("Range", "If-Range")
_RANGE_AND_CONDITIONALS = (
    *_RANGE,
    "If-None-Match",
    "If-Modified-Since",
    "If-Match",
    "If-Unmodified-Since",
)


def upstream_headers(request: web.BaseRequest, api: ApiRequest) -> CIMultiDict[str]:
    policy = api.policy
    drop: tuple[str, ...] = ()
    if policy.guarded and not policy.shadow:  # shadow: the client's request goes as sent
        masked_read = api.caller.masking and request.method in ("GET", "HEAD")
        drop = _RANGE_AND_CONDITIONALS if masked_read else _RANGE
    headers = forwarded_headers(request, api, drop)
    if policy.transforms and "Accept-Encoding" in headers:
        # only codings the transform stage can undo (and the client can read, on pass-through)
        headers["Accept-Encoding"] = decodable_accept_encoding(headers["Accept-Encoding"])
    return headers


def write_guard_mode(api: ApiRequest) -> Mode:
    """`reject`, `strip` or `off` for this request: the policy's mode, decided at load from
    every guarded route on the path, whatever its method (SPEC 3.2, 3.5)."""
    if not api.caller.masking:
        return "off"
    return cast(Mode, api.policy.write_guard)


async def request_body(
    request: web.Request, api: ApiRequest, headers: CIMultiDict[str], max_body: int
) -> tuple[Any, str]:
    """The body to send upstream (None, a chunk stream, or checked bytes) and the query string.

    SECURITY: the query is checked whatever the method (Rails and Laravel merge it into params),
    and so is any body an upstream could read as data (SPEC 3.5, `write_guard`).
    """
    query = api.query
    if not request.body_exists and not suspect(query):
        return None, query  # nothing that could hold a mask output: no routes to look up
    mode = write_guard_mode(api)
    if mode == "off":
        return _streamed(request), query
    if api.policy.shadow:
        return await _shadow_body(request, api, mode, max_body), query
    content_type = _content_type(request)
    raw = b""
    if request.body_exists:
        binary, first = await _sniff(request, content_type)
        if binary:
            # a binary upload streams on untouched; only the query is checked
            verdict = check(b"", content_type, query, mode)
            _raise_if_refused(verdict)
            return _chained(first, request), verdict.query
        raw = first + await read_request_body(request, max_body)
        if len(raw) > max_body:
            raise PayloadTooLarge(f"request body larger than {max_body} bytes")
    try:
        data = decode_body(raw, request.headers.get("Content-Encoding"), max_body)
    except UndecodableBody:
        raise BadRequest("the request body's Content-Encoding cannot be inspected") from None
    verdict = check(data, content_type, query, mode)
    _raise_if_refused(verdict)
    if verdict.body is data:
        return (raw if request.body_exists else None), verdict.query
    headers.popall("Content-Encoding", None)
    headers.popall("Transfer-Encoding", None)
    headers["Content-Length"] = str(len(verdict.body))
    return verdict.body, verdict.query


async def _shadow_body(request: web.Request, api: ApiRequest, mode: Mode, max_body: int) -> Any:
    """SPEC 3.11: the guard's verdict, counted (`shadow_mode.note`); the body goes as sent."""
    content_type = _content_type(request)
    raw = b""
    if request.body_exists:
        binary, first = await _sniff(request, content_type)
        if binary:
            # a binary upload: only the query is checked, as in enforce mode
            _note_verdict(api, check(b"", content_type, api.query, mode), mode)
            return _chained(first, request)
        # read as enforce would, but keep what is read to send it
        raw = await _read_past(request, first, max_body)
        if len(raw) > max_body:
            note(api, "write_refused", "too_large")
            return _chained(raw, request)
    try:
        data = decode_body(raw, request.headers.get("Content-Encoding"), max_body)
    except UndecodableBody:
        note(api, "write_refused", "unreadable")
        return raw if request.body_exists else None
    _note_verdict(api, check(data, content_type, api.query, mode), mode)
    return raw if request.body_exists else None


def _note_verdict(api: ApiRequest, verdict: Verdict, mode: Mode) -> None:
    if verdict.unreadable is not None:
        note(api, "write_refused", "unreadable")
    elif verdict.paths:
        note(api, "write_refused" if mode == "reject" else "write_stripped", "masked_value")


async def _sniff(request: web.Request, content_type: str | None) -> tuple[bool, bytes]:
    """Whether the body is a binary upload the guard passes by (SPEC 3.5), and the bytes read
    to decide it (to be sent on first)."""
    kind = body_kind(content_type)
    first = await _prefix(request) if kind == "sniff" else b""
    return kind == "skip" or (kind == "sniff" and not looks_like_json(first)), first


async def _read_past(request: web.Request, first: bytes, max_body: int) -> bytes:
    """`first` and the body after it, read until it ends or has grown past `max_body` (the
    caller decides what an oversized body means)."""
    parts, size = [first], len(first)
    while size <= max_body:
        chunk = await request.content.readany()
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


async def _prefix(request: web.Request) -> bytes:
    # SECURITY: a client may send one byte per segment; decide on SNIFF_BYTES, not on one read.
    prefix = b""
    while len(prefix) < SNIFF_BYTES:
        chunk = await request.content.readany()
        if not chunk:
            break
        prefix += chunk
    return prefix


def checked_query(query: str, mode: Mode) -> str:
    """The query string to forward on a request without a body to check (a WebSocket upgrade)."""
    verdict = check(b"", None, query, mode)
    _raise_if_refused(verdict)
    return verdict.query


def _raise_if_refused(verdict: Verdict) -> None:
    if verdict.refused:
        raise verdict.error()


def _content_type(request: web.BaseRequest) -> str | None:
    # SECURITY: every Content-Type header counts (servers differ on which one they take).
    values = request.headers.getall("Content-Type", ())
    return ", ".join(values) if values else None


def _streamed(request: web.Request) -> Any:
    # The stream itself: aiohttp sends what has arrived as it arrives (`iter_any`), with no
    # per-chunk wrapper around a bounded read.
    return request.content if request.body_exists else None


async def _chained(first: bytes, request: web.Request) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        yield chunk


async def read_request_body(request: web.Request, max_body: int) -> bytes:
    if request.content_length is not None and request.content_length > max_body:
        raise PayloadTooLarge(f"request body larger than {max_body} bytes")
    raw = await _read_past(request, b"", max_body)
    if len(raw) > max_body:
        raise PayloadTooLarge(f"request body larger than {max_body} bytes")
    return raw


def is_json_type(content_type: str) -> bool:
    """`application/json` or `application/*+json` (SPEC 3.4)."""
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )
