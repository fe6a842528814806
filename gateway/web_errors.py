"""Renders gateway errors: the one place that turns a `GatewayError` into an HTTP response."""

from __future__ import annotations

import orjson
from aiohttp import web

from gateway.errors import GatewayError


def render_error(error: GatewayError, request_id: str) -> web.Response:
    """SPEC 6 shape: {"error": {"code", "message", "request_id"}}. PII: messages never hold PII."""
    body = orjson.dumps(
        {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    )
    response = web.Response(status=error.status, body=body, content_type="application/json")
    response.headers.update(error.headers)
    response.headers["X-Request-Id"] = request_id
    response.headers["Cache-Control"] = "no-store"
    return response
