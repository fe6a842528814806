"""The gateway's AppRunner: protocol checks at the door, JSON errors, a bounded drain.

aiohttp answers unparseable requests (oversized headers, bad request lines) and unexpected handler
failures itself, as text with a logged traceback. The gateway promises SPEC 6 JSON and never a
traceback, so its connections use a request handler that renders those through `render_error` and
logs one line without details. Every request first passes `RequestGate`, which refuses what
`http_conformance` refuses and counts what is in flight, so that a drain can wait for exactly that
(and then cancel it) within one deadline. The aiohttp internals this needs live in
`aiohttp_adapter`.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import HttpVersion10, HttpVersion11, hdrs, http_exceptions, web
from aiohttp.web_protocol import RequestHandler
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.aiohttp_adapter import (
    HandlerServer,
    ServerBuildingRunner,
    install_exact_header_writer,
    on_informational,
    server_arguments,
)
from gateway.errors import GatewayError
from gateway.http_conformance import conformance_error, with_target_host
from gateway.web_errors import render_error
from gateway.web_informational import relay_informational
from gateway.web_request import request_id_of

log = logging.getLogger("omnigate")

# aiohttp's parser limits (documented in docs/operations.md): a longer request line or header
# field, or more header fields, is answered 431 / 400 before any handler runs.
MAX_LINE_BYTES = 16 * 1024
MAX_FIELD_BYTES = 16 * 1024
MAX_HEADERS = 128

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
HttpErrorRenderer = Callable[[web.HTTPException, web.BaseRequest], web.StreamResponse]
# An app that answers aiohttp's own HTTP errors (no route for `OPTIONS *`) in its own shape sets
# this; the gate calls it. (A middleware would do the same at the cost of two coroutine layers
# per request: aiohttp wraps every middleware chain in one of its own.)
RENDER_HTTP_ERROR: web.AppKey[HttpErrorRenderer] = web.AppKey("omnigate_render_http_error")
# An app whose router has ONE catch-all route (`/{tail:.*}`, any method) names that route's
# handler here; the gate then calls it directly for the requests the router would certainly send
# to it (`_routes_to_catch_all`), without the router's work: a URL object, the walk over the
# path's prefixes, a match-info object (~20 k instructions, a sixth of the gateway's own cost per
# pass-through request). Everything else goes through the app as before.
CATCH_ALL: web.AppKey[Handler] = web.AppKey("omnigate_catch_all")


class ParseRefused(GatewayError):
    status, code = 400, "bad_request"


class HeadersTooLarge(GatewayError):
    status, code = 431, "bad_request"


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
        if isinstance(exc, http_exceptions.LineTooLong):
            error = HeadersTooLarge(
                f"the request line or a header field is longer than {MAX_FIELD_BYTES} bytes"
            )
        elif 400 <= status < 500:
            # SECURITY: the parser's own message may quote request bytes; it is not echoed.
            error = ParseRefused("malformed HTTP request")
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


class RequestGate:
    """Wraps the app's handler: refuses non-conforming requests, tracks the ones in flight.

    The tasks in flight map to their requests: an upstream's 1xx interim response, read in the
    task of the request it answers, is relayed to that request's client (`_relay_informational`).
    """

    def __init__(
        self,
        handler: Handler,
        render_http_error: HttpErrorRenderer | None = None,
        catch_all: Handler | None = None,
    ) -> None:
        self._handler = handler
        self._catch_all = catch_all
        self._render_http_error = render_http_error
        self._active: dict[asyncio.Task[Any], web.BaseRequest] = {}
        # made by `wait_idle` only: a drain is rare, requests are not (no Event work per request)
        self._idle: asyncio.Event | None = None
        _GATES.add(self)

    @property
    def in_flight(self) -> int:
        return len(self._active)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        # The common request (HTTP/1.x, origin-form target, no Transfer-Encoding) passes every
        # check below untouched: one cheap test, then the full checks only for the others.
        handler = self._handler
        target = request.raw_path
        if (
            request.version in _HTTP1
            and target[:1] == "/"
            and hdrs.TRANSFER_ENCODING not in request.headers
        ):
            if self._catch_all is not None and _routes_to_catch_all(request, target):
                handler = self._catch_all
        else:
            try:
                error = conformance_error(request)
                if error is None:
                    request = with_target_host(request)
            except GatewayError as exc:
                error = exc
            if error is not None:
                response = render_error(error, request_id_of(request))
                response.force_close()  # SECURITY: the body's framing is not trusted
                if request.version not in _HTTP1:
                    await send_as_http11(request, response)
                return response
        task = asyncio.current_task()
        assert task is not None
        self._active[task] = request
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if self._render_http_error is None or exc.status < 400:
                raise
            return self._render_http_error(exc, request)
        finally:
            del self._active[task]
            if not self._active and self._idle is not None:
                self._idle.set()

    async def wait_idle(self, within: float) -> bool:
        """Wait until nothing is in flight (True) or `within` seconds pass (False)."""
        if not self._active:
            return True
        if self._idle is None or self._idle.is_set():
            self._idle = asyncio.Event()
        try:
            async with asyncio.timeout(max(within, 0.0)):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    def cancel_in_flight(self) -> int:
        for task in self._active:
            task.cancel()
        return len(self._active)


_HTTP1 = frozenset({HttpVersion10, HttpVersion11})


def _routes_to_catch_all(request: web.BaseRequest, target: str) -> bool:
    """Whether aiohttp's router would send this origin-form request to the catch-all route, its
    app doing nothing else first: the router matches `/{tail:.*}` against the percent-decoded
    path, where only a decoded `%0A` (no raw line break gets past the parser) fails `.*`, so a
    target without `%` always matches; an `Expect` header is answered by the app's expect
    handler first (`web_expect`), so such requests take the app's way.

    SECURITY: never CONNECT. aiohttp reads a CONNECT target as authority-form and its router
    answers 404; bypassed, the handler would send `CONNECT host:port` upstream with the client's
    body behind it, which a server reading CONNECT as a tunnel takes as the next request on a
    pooled connection (request smuggling past every rule)."""
    return (
        "%" not in target
        and request.method != hdrs.METH_CONNECT
        and hdrs.EXPECT not in request.headers
    )


_GATES: weakref.WeakSet[RequestGate] = weakref.WeakSet()


async def _relay_informational(status: int, reason: str, headers: CIMultiDictProxy[str]) -> None:
    """A 1xx from the upstream, to the client of the request the current task serves."""
    task = asyncio.current_task()
    for gate in list(_GATES):
        request = gate._active.get(task)  # type: ignore[arg-type]
        if isinstance(request, web.Request):
            await relay_informational(request, status, reason, headers)
            return


on_informational(_relay_informational)


async def send_as_http11(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Send `response` with an `HTTP/1.1` status line whatever version the request line named.

    aiohttp answers in the request's version (`HTTP/2.0 505`, `HTTP/0.9 400`), which a client
    that sent such a line cannot read as the refusal it is. The status line is rewritten on its
    way through the writer's public `write_headers`; aiohttp then finds the response sent.
    """
    writer = request.writer
    write_headers = writer.write_headers

    async def as_http11(status_line: str, headers: CIMultiDict[str]) -> None:
        await write_headers("HTTP/1.1 " + status_line.partition(" ")[2], headers)

    response.headers["Connection"] = "close"  # aiohttp says so only to HTTP/1.1 requests
    writer.write_headers = as_http11  # type: ignore[method-assign]
    try:
        await response.prepare(request)
        await response.write_eof()
    finally:
        del writer.write_headers


class GatewayRunner(ServerBuildingRunner):
    """An AppRunner whose server checks protocol conformance and answers errors as JSON."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("max_line_size", MAX_LINE_BYTES)
        kwargs.setdefault("max_field_size", MAX_FIELD_BYTES)
        kwargs.setdefault("max_headers", MAX_HEADERS)
        super().__init__(app, **kwargs)
        self.gate: RequestGate | None = None
        install_exact_header_writer()

    def rebuild_server(self, built: web.Server) -> web.Server:
        self.gate = RequestGate(
            built.request_handler, self.app.get(RENDER_HTTP_ERROR), self.app.get(CATCH_ALL)
        )
        return HandlerServer(
            self.gate,
            handler_class=_JsonErrorHandler,
            request_factory=built.request_factory,
            handler_cancellation=built.handler_cancellation,
            **server_arguments(built),
        )

    async def drain(self, within: float) -> bool:
        """Stop accepting, close idle connections, wait for in-flight requests `within` seconds.

        Returns whether everything finished; what did not is cancelled.
        """
        for site in list(self.sites):
            await site.stop()
        if self.server is not None:
            self.server.pre_shutdown()  # idle keep-alive connections close now
        if self.gate is None:
            return True
        if await self.gate.wait_idle(within):
            return True
        cancelled = self.gate.cancel_in_flight()
        log.warning("drain: %d request(s) still running at the deadline: cancelled", cancelled)
        return False
