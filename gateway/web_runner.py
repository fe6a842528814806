"""An AppRunner whose low-level errors use the gateway's error shape.

aiohttp answers unparseable requests (both Content-Length and Transfer-Encoding, oversized
headers, bad request lines) and unexpected handler failures itself, as text with a logged
traceback. The gateway promises SPEC 6 JSON and never a traceback, so its runner swaps in a
request handler that renders those through `render_error` and logs one line without details.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from gateway.errors import BadRequest, GatewayError
from gateway.web_errors import render_error
from gateway.web_request import request_id_of

log = logging.getLogger("omnigate")


class _JsonErrorHandler(RequestHandler):
    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; the connection is dropped")
        error: GatewayError
        if 400 <= status < 500:
            # SECURITY: the parser's own message may quote request bytes; it is not echoed.
            error = BadRequest("malformed HTTP request")
            error.status = status
        else:
            error = GatewayError("internal error")
            if exc is not None:
                # PII: the type and where it happened, never the exception's message.
                frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
                place = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
                log.error("internal error: %s%s", type(exc).__name__, place)
        response = render_error(error, request_id_of(request))
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        kwargs: Any = self._kwargs
        return _JsonErrorHandler(self, loop=self._loop, **kwargs)


class GatewayRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
