"""What the gateway refuses or rewrites before a request reaches routing (SPEC 2, RFC 9112).

These checks run on every listener, before authentication: a request the gateway and the
upstream could frame or address differently is never forwarded.
"""

from __future__ import annotations

import yarl
from aiohttp import HttpVersion10, HttpVersion11, web

from gateway.errors import BadRequest, GatewayError

_HTTP1 = frozenset({HttpVersion10, HttpVersion11})


class NotImplementedHere(GatewayError):
    status, code = 501, "not_implemented"


class VersionNotSupported(GatewayError):
    status, code = 505, "bad_request"


def conformance_error(request: web.BaseRequest) -> GatewayError | None:
    """Why `request` must be refused at the door, or None."""
    version = request.version
    if version not in _HTTP1:
        if version.major == 0:  # aiohttp reads a request line without a version as HTTP/0.9
            return BadRequest("the request line has no HTTP version")
        return VersionNotSupported(
            f"HTTP/{version.major}.{version.minor} is not supported; send HTTP/1.1"
        )
    if "Transfer-Encoding" in request.headers:  # a miss is cheaper than getall's
        codings = request.headers.getall("Transfer-Encoding")
        if "Content-Length" in request.headers:
            # SECURITY: request smuggling precondition (RFC 9112 6.3); never forwarded.
            return BadRequest("a request must not carry both Content-Length and Transfer-Encoding")
        names = [c.strip().lower() for value in codings for c in value.split(",") if c.strip()]
        if names != ["chunked"]:
            # SECURITY: the gateway and the upstream could disagree where such a body ends.
            return NotImplementedHere("only Transfer-Encoding: chunked is supported")
    return None


def target_authority(request: web.BaseRequest) -> str | None:
    """The authority of an absolute-form request target (`GET http://host/path`), else None.

    RFC 9112 3.2.2: it replaces whatever `Host` says.
    """
    target = request.raw_path
    if target.startswith("/") or "://" not in target:
        return None
    try:
        url = yarl.URL(target, encoded=True)
    except ValueError:
        raise BadRequest("the request target is not a valid URL") from None
    authority = (url.raw_authority or "").rpartition("@")[2]  # userinfo is not part of Host
    if not url.is_absolute() or not authority:
        raise BadRequest("an absolute request target must name a host")
    return authority


def with_target_host(request: web.BaseRequest) -> web.BaseRequest:
    """`request` with `Host` set to its absolute-form target's authority (when it has one)."""
    authority = target_authority(request)
    if authority is None or request.headers.getall("Host", ()) == [authority]:
        return request
    headers = request.headers.copy()
    headers.popall("Host", None)
    headers["Host"] = authority
    try:
        return request.clone(headers=headers)
    except UnicodeEncodeError:
        # aiohttp's clone re-encodes headers as strict UTF-8; obs-text cannot be carried over.
        raise BadRequest("an absolute-form request must not carry non-UTF-8 header bytes") from None
