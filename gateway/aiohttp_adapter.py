"""Every use of aiohttp internals the gateway needs, in one place (issue 9 item 5).

aiohttp has no public hook for two things the SPEC asks for:

1. The answer to a request that cannot be parsed (a bad request line, oversized headers) is
   written by `RequestHandler.handle_error`, and the connection's handler class is chosen inside
   `web.Server`. The gateway answers those in the SPEC 6 JSON shape, so the app's `web.Server` is
   rebuilt with a handler class of the gateway's, from the `AppRunner._make_server` hook and the
   keyword arguments that server was built with (`Server._kwargs`: the app's `handler_args`).
2. Header values pass byte for byte (SPEC 2). aiohttp decodes header bytes that are not UTF-8
   (obs-text) with `surrogateescape`, but its C header writer silently drops those code points
   both ways (client and server). `install_exact_header_writer` puts a writer in front of it that
   sends the original bytes back.

3. 1xx informational responses from the upstream (`103 Early Hints`) are relayed (SPEC 2), but
   aiohttp's client reads and discards them inside `ClientResponse.start`. `InformationalResponse`
   (the session's `response_class`) watches the messages `start` reads from the connection's
   protocol and hands each 1xx to the callback set once with `on_informational`.

4. The upstream request carries only the client's headers: the session's `skip_auto_headers`
   keeps aiohttp from adding User-Agent, Accept and the like, but `ClientRequest` rebuilds a
   case-insensitive copy of that set and of the request's headers for every request.
   `LeanClientRequest` (the session's `request_class`) makes the same decision from one copy
   built once per set (a pass-through request's CPU is mostly such per-request overhead).

`check_aiohttp()` verifies that each of these still looks as relied on and raises
`AiohttpChanged` naming what moved; the gateway calls it at start and tests/test_aiohttp_adapter.py
runs it, so a new aiohttp release fails loudly instead of silently answering in text or dropping
bytes.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any

import aiohttp
from aiohttp import hdrs, http_writer, web
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.web_protocol import RequestHandler
from multidict import CIMultiDict, CIMultiDictProxy


class AiohttpChanged(RuntimeError):
    """An aiohttp internal the gateway relies on is gone or different."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"aiohttp {aiohttp.__version__}: {what}; gateway/aiohttp_adapter.py must be updated "
            "for this aiohttp version (or pin the version pyproject.toml names)"
        )


def check_aiohttp() -> None:
    """Raise `AiohttpChanged` unless every internal used below is still there."""
    make_server = getattr(web.AppRunner, "_make_server", None)
    if make_server is None or not inspect.iscoroutinefunction(make_server):
        raise AiohttpChanged("AppRunner._make_server is no longer a coroutine method")
    if "_serialize_headers" not in http_writer.StreamWriter.write_headers.__code__.co_names:
        raise AiohttpChanged("StreamWriter.write_headers no longer calls _serialize_headers")
    if not callable(getattr(http_writer, "_serialize_headers", None)):
        raise AiohttpChanged("aiohttp.http_writer._serialize_headers is gone")
    try:
        start_source = inspect.getsource(aiohttp.ClientResponse.start)
    except (OSError, TypeError):
        start_source = ""
    if "protocol.read()" not in start_source:
        raise AiohttpChanged("ClientResponse.start no longer reads messages from protocol.read()")
    if "_skip_auto_headers" not in aiohttp.ClientRequest.update_auto_headers.__code__.co_names:
        raise AiohttpChanged("ClientRequest.update_auto_headers no longer sets _skip_auto_headers")
    parameters = list(inspect.signature(RequestHandler.handle_error).parameters)
    if parameters != ["self", "request", "status", "exc", "message"]:
        raise AiohttpChanged(f"RequestHandler.handle_error takes {parameters} now")


def server_arguments(server: web.Server) -> dict[str, Any]:
    """The keyword arguments (the app's `handler_args` merged in) `server` builds handlers with."""
    kwargs = getattr(server, "_kwargs", None)
    if not isinstance(kwargs, dict):
        raise AiohttpChanged("web.Server no longer keeps its handler arguments in _kwargs")
    return dict(kwargs)


class HandlerServer(web.Server):
    """A `web.Server` whose connections are handled by `handler_class` (public API only)."""

    def __init__(
        self,
        handler: Callable[..., Any],
        *,
        handler_class: type[RequestHandler],
        request_factory: Any = None,
        handler_cancellation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            handler,
            request_factory=request_factory,
            handler_cancellation=handler_cancellation,
            **kwargs,
        )
        self._gateway_handler_class = handler_class
        self._gateway_kwargs = kwargs
        self._gateway_loop = asyncio.get_running_loop()

    def __call__(self) -> RequestHandler:
        return self._gateway_handler_class(self, loop=self._gateway_loop, **self._gateway_kwargs)


class ServerBuildingRunner(web.AppRunner):
    """An AppRunner that lets a subclass rebuild the app's server (`rebuild_server`)."""

    async def _make_server(self) -> web.Server:  # the private hook of (1)
        built = await super()._make_server()
        return self.rebuild_server(built)

    def rebuild_server(self, built: web.Server) -> web.Server:
        return built


# The same refusal aiohttp's own writers make: no header injection through CR, LF or NUL.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_original_serialize: Callable[[str, CIMultiDict[str]], bytes] | None = None


def _serialize_exact(status_line: str, headers: CIMultiDict[str]) -> bytes:
    original = _original_serialize
    assert original is not None
    # Fast path: ASCII-only heads are written exactly by aiohttp's C writer.
    if status_line.isascii() and "".join(headers.values()).isascii():
        return original(status_line, headers)
    lines = [status_line]
    for name, value in headers.items():
        lines.append(f"{name}: {value}")
    for line in lines:
        if _FORBIDDEN.search(line) is not None:
            raise ValueError(
                "Forbidden control character detected in headers. "
                "Potential header injection attack."
            )
    head = "\r\n".join(lines) + "\r\n\r\n"
    try:
        # obs-text bytes were decoded as U+DC80..U+DCFF: this gives the received bytes back.
        return head.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate made up in Python: aiohttp drops it
        return original(status_line, headers)


def install_exact_header_writer() -> None:
    """Make aiohttp write header values byte for byte, obs-text included (idempotent)."""
    global _original_serialize
    if _original_serialize is None:
        check_aiohttp()
        _original_serialize = http_writer._serialize_headers
        http_writer._serialize_headers = _serialize_exact


# (status, reason, headers) of one interim response -> relayed to the client of the request that
# the current task serves (the gateway's runner sets this once; it finds that request itself)
Informational = Callable[[int, str, CIMultiDictProxy[str]], Awaitable[None]]
_on_informational: list[Informational] = []


def on_informational(relay: Informational) -> None:
    """Hand every 1xx interim response (not 100, not 101) read from the upstream to `relay`."""
    _on_informational[:] = [relay]


class InformationalResponse(aiohttp.ClientResponse):
    """A ClientResponse that hands 1xx interim responses (not 100, not 101) to the relay set with
    `on_informational`, in the task that reads the response.

    The reader that watches them is put on each upstream connection's protocol once, the first
    time a response is read from it, and stays for the connection's life: per request this is
    one attribute test, and `start` adds no coroutine layer of its own (it returns aiohttp's).
    """

    def start(self, connection: Any) -> Any:  # aiohttp awaits what this returns
        protocol = getattr(connection, "protocol", None)
        if protocol is not None and not getattr(protocol, _RELAYING, False):
            # the private hook of (3): start() calls protocol.read()
            protocol.read = _relaying_reader(protocol.read)
            setattr(protocol, _RELAYING, True)
        return super().start(connection)


_RELAYING = "_omnigate_relaying"


def _relaying_reader(read: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    async def read_and_relay() -> Any:
        message, payload = await read()
        code = message.code
        if 100 < code < 200 and code != 101:
            for relay in _on_informational:
                await relay(code, message.reason, message.headers)
        return message, payload

    return read_and_relay


@lru_cache(maxsize=16)
def _auto_headers(
    names: frozenset[str], defaults: tuple[tuple[str, str], ...]
) -> tuple[CIMultiDict[None], tuple[tuple[str, str], ...]]:
    """The skip set as aiohttp keeps it (read-only once built: aiohttp only tests membership in
    it), and the default headers it does not skip (added where the request lacks them)."""
    skipped: CIMultiDict[None] = CIMultiDict((name, None) for name in sorted(names))
    added = [(name, value) for name, value in defaults if name not in skipped]
    if hdrs.USER_AGENT not in skipped:
        added.append((hdrs.USER_AGENT, SERVER_SOFTWARE))
    return skipped, tuple(added)


class LeanClientRequest(aiohttp.ClientRequest):
    """`ClientRequest.update_auto_headers` without its two per-request multidict copies (4):
    what a skip set leaves to add is decided once per set (the gateway's: nothing)."""

    _DEFAULTS = tuple(aiohttp.ClientRequest.DEFAULT_HEADERS.items())

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        if skip_auto_headers is None:
            super().update_auto_headers(None)
            return
        skipped, added = _auto_headers(frozenset(skip_auto_headers), self._DEFAULTS)
        self._skip_auto_headers = skipped
        headers = self.headers
        for name, value in added:
            if name not in headers:
                headers[name] = value
