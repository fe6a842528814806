"""The forward stage: what goes upstream (headers, body) for a decided request.

Header work is pure; the body is either streamed through untouched or, for the write-back guard,
buffered and inspected (SPEC 3.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from gateway.body_codec import UndecodableBody, decodable_accept_encoding, decode_body
from gateway.client_upstream import READ_CHUNK
from gateway.errors import BadRequest, MaskedValueWrite, PayloadTooLarge
from gateway.exchange import ApiRequest, Decision
from gateway.http_headers import add_forwarding, end_to_end
from gateway.write_guard import FORM, MULTIPART, inspect_body, strip_body

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CONDITIONALS = ("If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since")


def forwarded_headers(
    request: web.BaseRequest, decision: Decision, also_drop: Iterable[str] = ()
) -> CIMultiDict[str]:
    """The client's headers as every upstream request carries them (HTTP, WebSocket, webhook).

    Hop-by-hop headers and any inbound stamp header go first; the gateway's own headers
    (X-Forwarded-*, X-Request-Id) are added after, so a client cannot make them vanish.
    """
    drop = list(also_drop)
    resolver = decision.plan.resolver
    if resolver is not None:
        drop.append(resolver.header)  # SECURITY: only the gateway stamps identities
    headers = end_to_end(request.headers, also_drop=drop)
    add_forwarding(
        headers, peer=request.remote, proto=request.scheme, host=request.headers.get("Host")
    )
    headers["X-Request-Id"] = decision.request_id
    return headers


def upstream_headers(request: web.BaseRequest, api: ApiRequest) -> CIMultiDict[str]:
    drop: list[str] = []
    policy = api.policy
    if policy.guarded:
        drop += ("Range", "If-Range")  # a byte range of a masked body cannot be masked
        if api.caller.masking and request.method in ("GET", "HEAD"):
            # SECURITY: a 304 to a guessed ETag or date would confirm a clear value unseen.
            drop += _CONDITIONALS
    headers = forwarded_headers(request, api, drop)
    if policy.transforms and "Accept-Encoding" in headers:
        # only codings the transform stage can undo (and the client can read, on pass-through)
        headers["Accept-Encoding"] = decodable_accept_encoding(headers["Accept-Encoding"])
    return headers


def write_guard_mode(request: web.BaseRequest, api: ApiRequest) -> str:
    """`reject`, `strip` or `off` for this request: the policy's mode, decided at load from
    every guarded route on the path, whatever its method (SPEC 3.2, 3.5)."""
    if request.method not in _WRITE_METHODS or not api.caller.masking:
        return "off"
    return api.policy.write_guard


async def request_body(
    request: web.Request, api: ApiRequest, headers: CIMultiDict[str], max_body: int
) -> Any:
    """The body to send upstream: None, a chunk stream, or inspected bytes."""
    if not request.body_exists:
        return None
    mode = write_guard_mode(request, api)
    if mode == "off" or not _scanned(request):
        return request.content.iter_chunked(READ_CHUNK)
    raw = await read_request_body(request, max_body)
    try:
        data = decode_body(raw, request.headers.get("Content-Encoding"), max_body)
    except UndecodableBody:
        raise BadRequest("the request body's Content-Encoding cannot be inspected") from None
    finding = inspect_body(data, request.content_type, request.headers.get("Content-Type", ""))
    if not finding.paths:
        return raw
    body = finding.stripped
    if body is None and request.content_type != MULTIPART:
        body = strip_body(data)
    if mode == "reject" or body is None:
        shown = ", ".join(finding.paths[:20]) + (" ..." if len(finding.paths) > 20 else "")
        raise MaskedValueWrite(f"masked values must not be written back: {shown}")
    headers.popall("Content-Encoding", None)
    headers["Content-Length"] = str(len(body))
    return body


# SECURITY: lenient upstream parsers take JSON from bodies of any of these types (Rails reads
# text/x-json and application/jsonrequest as JSON), so the guard reads them all, and bodies
# without a Content-Type. Binary uploads stream through unscanned.
_SCANNED = frozenset(
    {
        "text/plain",
        "text/json",
        "text/x-json",
        "application/jsonrequest",
        FORM,
        MULTIPART,
    }
)


def _scanned(request: web.BaseRequest) -> bool:
    if "Content-Type" not in request.headers:
        return True
    return request.content_type in _SCANNED or is_json_type(request.content_type)


async def read_request_body(request: web.Request, max_body: int) -> bytes:
    if request.content_length is not None and request.content_length > max_body:
        raise PayloadTooLarge(f"request body larger than {max_body} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        size += len(chunk)
        if size > max_body:
            raise PayloadTooLarge(f"request body larger than {max_body} bytes")
        parts.append(chunk)
    return b"".join(parts)


def is_json_type(content_type: str) -> bool:
    """`application/json` or `application/*+json` (SPEC 3.4)."""
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )
