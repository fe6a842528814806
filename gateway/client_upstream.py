"""The upstream side: one pooled client session, its timeouts, and error translation.

This is the only stage that does network I/O towards the chat API. What aiohttp raises is
translated into the gateway's error family by `upstream_boundary` (one table, httpx-style).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDict

from gateway.aiohttp_adapter import InformationalResponse, LeanClientRequest
from gateway.upstream_boundary import Phase, translate

READ_CHUNK = 256 * 1024  # streamed bodies move in chunks of at least 64 KiB
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


@dataclass(frozen=True)
class Upstream:
    base: yarl.URL
    session: aiohttp.ClientSession
    timeout: float

    def url_for(self, path: str, query: str) -> yarl.URL:
        """The upstream URL for a normalised `path` and the client's raw query string."""
        return yarl.URL.build(
            scheme=self.base.scheme,
            authority=self.base.raw_authority,
            path=self.base.raw_path.rstrip("/") + path,
            query_string=query,
            encoded=True,
        )

    async def send(
        self, method: str, url: yarl.URL, headers: CIMultiDict[str], body: Any
    ) -> aiohttp.ClientResponse:
        """Send the request and return once response headers arrive (or raise a GatewayError).

        The head timeout is `asyncio.timeout` inlined (the same timer, cancel, uncancel and
        TimeoutError) without its context-manager object and two coroutines: this runs once per
        request, and that machinery cost as much as the rest of the timing.
        """
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = loop.call_at(loop.time() + self.timeout, expire)
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
                if expired and task.uncancel() <= cancelling:
                    raise TimeoutError from None
                raise
            finally:
                timer.cancel()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = translate(exc, Phase.SEND)
            if error is None:
                raise
            raise error from None

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
            error = translate(exc, Phase.WS_CONNECT)
            if error is None:
                raise
            raise error from None


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
            error = translate(exc, Phase.STREAM_BODY)
            if error is None:
                raise
            raise error from None
        if not chunk:
            return
        yield chunk


async def read_whole(response: aiohttp.ClientResponse) -> bytes:
    """A small body with a known length, read before anything is sent to the client."""
    try:
        return await response.read()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        error = translate(exc, Phase.READ_BODY)
        if error is None:
            raise
        raise error from None


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
            error = translate(exc, Phase.READ_BODY)
            if error is None:
                raise
            raise error from None
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts), False
