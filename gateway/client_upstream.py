"""The upstream side: one pooled client session, its timeouts, and error translation.

This is the only stage that does network I/O towards the chat API. What aiohttp raises is
translated into the gateway's error family by `upstream_boundary` (one table, httpx-style).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDict

from gateway.aiohttp_adapter import InformationalResponse, LeanClientRequest
from gateway.path_memo import MEMO_CHARS
from gateway.upstream_boundary import Phase, raise_translated

READ_CHUNK = 256 * 1024  # streamed bodies move in chunks of at least 64 KiB
_MAX_URLS = 1024
_SKIP_AUTO = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})


def make_session(connect_timeout: float) -> aiohttp.ClientSession:
    """The gateway's single upstream session.

    No total timeout (it would cut SSE and WebSockets): connect timeouts here, time-to-headers in
    `Upstream.send`. `auto_decompress=False` keeps bodies byte-identical; the masking stage decodes
    on its own terms.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=60, enable_cleanup_closed=True),
        timeout=aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout, sock_read=None
        ),
        auto_decompress=False,
        # SECURITY: one session serves every client; it must never remember anyone's cookies.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=_SKIP_AUTO,
        trust_env=False,
        read_bufsize=READ_CHUNK,
        max_line_size=16 * 1024,
        max_field_size=16 * 1024,
        response_class=InformationalResponse,  # 1xx interim responses are relayed (SPEC 2)
        request_class=LeanClientRequest,  # skip_auto_headers without per-request copies
    )


class HeadDeadlines:
    """When each upstream send in flight must have its response head, and one loop timer for
    all of them.

    Every send waits the same `timeout`, so deadlines come in the order sends start: the dict of
    waiting tasks is in deadline order, and one timer, armed for the earliest, cancels what has
    expired and re-arms for the next. A timer per request (made, then cancelled) cost as much as
    the rest of the send's own work.
    """

    SLACK = 0.001  # a loop timer may fire up to a millisecond early: that deadline has passed

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._waiting: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, task: asyncio.Task[Any]) -> None:
        loop = task.get_loop()
        deadline = loop.time() + self._timeout
        self._waiting[task] = deadline
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire, loop)

    def release(self, task: asyncio.Task[Any]) -> bool:
        """Stop watching `task`; whether its deadline passed (and it was cancelled for that)."""
        if self._waiting.pop(task, None) is not None or task not in self._expired:
            return False
        self._expired.discard(task)
        return True

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        waiting = self._waiting
        now = loop.time() + self.SLACK
        for task, deadline in waiting.items():
            if deadline > now:
                self._timer = loop.call_at(deadline, self._expire, loop)
                break
            self._expired.add(task)
        for task in self._expired:
            if waiting.pop(task, None) is not None:
                task.cancel()


@dataclass(frozen=True)
class Upstream:
    base: yarl.URL
    session: aiohttp.ClientSession
    timeout: float
    deadlines: HeadDeadlines = field(init=False, repr=False, compare=False)

    _parts: tuple[str, str, str] = field(init=False, repr=False, compare=False)
    _urls: dict[tuple[str, str], yarl.URL] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadlines", HeadDeadlines(self.timeout))
        base = self.base
        object.__setattr__(
            self, "_parts", (base.scheme, base.raw_authority, base.raw_path.rstrip("/"))
        )

    def url_for(self, path: str, query: str) -> yarl.URL:
        """The upstream URL for a normalised `path` and the client's raw query string.

        Remembered per (path, query) (URLs are immutable; building one is most of this): clients
        repeat the same few. PII: in this process's memory only, bounded, never written."""
        urls = self._urls
        url = urls.get((path, query))
        if url is None:
            scheme, authority, prefix = self._parts
            url = yarl.URL.build(
                scheme=scheme,
                authority=authority,
                path=prefix + path,
                query_string=query,
                encoded=True,
            )
            if len(path) + len(query) <= MEMO_CHARS:  # SECURITY: bounded in bytes too
                if len(urls) >= _MAX_URLS:  # targets come from clients: bounded
                    urls.clear()
                urls[(path, query)] = url
        return url

    async def send(
        self, method: str, url: yarl.URL, headers: CIMultiDict[str], body: Any
    ) -> aiohttp.ClientResponse:
        """Send the request and return once response headers arrive (or raise a GatewayError).

        Past `timeout` seconds without a response head the send is cancelled (`HeadDeadlines`)
        and answered as a timeout, as `asyncio.timeout` would (cancel, `uncancel`, TimeoutError).
        """
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        deadlines = self.deadlines
        deadlines.watch(task)
        try:
            try:
                return await self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    compress=False,
                    auto_decompress=False,
                )
            except asyncio.CancelledError:
                # ours unless another cancel is pending too (the client went away): then that
                if deadlines.release(task) and task.uncancel() <= cancelling:
                    raise TimeoutError from None
                raise
            finally:
                deadlines.release(task)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise_translated(exc, Phase.SEND)

    async def ws_connect(
        self, url: yarl.URL, headers: CIMultiDict[str], protocols: tuple[str, ...]
    ) -> aiohttp.ClientWebSocketResponse:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.session.ws_connect(
                    url,
                    headers=headers,
                    protocols=protocols,
                    autoping=False,
                    autoclose=False,
                    max_msg_size=0,
                    compress=0,
                )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            # a refused handshake is not translated: the upstream's status is relayed as it is
            raise_translated(exc, Phase.WS_CONNECT)


async def iter_body(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """Yield the upstream body as it arrives, in chunks up to READ_CHUNK.

    A broken upstream raises the boundary's error (`UPSTREAM_ERRORS`): the caller cuts the
    client off, since part of the body is already out.
    """
    content = response.content
    while True:
        try:
            chunk = await content.read(READ_CHUNK)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise_translated(exc, Phase.STREAM_BODY)
        if not chunk:
            return
        yield chunk


def arrived_body(response: aiohttp.ClientResponse) -> bytes | None:
    """The whole body when it has already arrived, its end included; None while it is coming.

    A small response usually arrives with its head: then it is taken from the stream's buffer
    as it is, without the coroutines of `read_whole` (two reads, the wait for the request's
    writer, which the body's end has already cancelled: aiohttp's own `_response_eof`). A body
    that ended in an error raises it, translated, as `read_whole` would.
    """
    content = response.content
    if not content.is_eof():
        return None
    try:
        return content.read_nowait()
    except (aiohttp.ClientError, OSError) as exc:
        raise_translated(exc, Phase.READ_BODY)


async def read_whole(response: aiohttp.ClientResponse) -> bytes:
    """A small body with a known length, read before anything is sent to the client."""
    try:
        return await response.read()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise_translated(exc, Phase.READ_BODY)


async def read_upto(
    response: aiohttp.ClientResponse, limit: int, idle: float
) -> tuple[bytes, bool]:
    """Read the body up to `limit` bytes: (bytes read, whether that is the whole body).

    Each read may wait `idle` seconds; a body announced larger than `limit` is not read at all.
    """
    length = response.content_length
    if length is not None and length > limit:
        return b"", False
    parts: list[bytes] = []
    size = 0
    content = response.content
    while True:
        try:
            async with asyncio.timeout(idle):
                chunk = await content.read(READ_CHUNK)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise_translated(exc, Phase.READ_BODY)
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts), False
