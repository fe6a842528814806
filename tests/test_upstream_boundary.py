"""The upstream boundary's table, walked row by row, and an oversized head end to end."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp import http_exceptions
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import (
    GatewayError,
    UpstreamResponseTooLarge,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream_boundary import TABLE, Phase, translate
from tests.conftest import Gateway, GatewayFactory, bearer


def _response_error(cause: BaseException) -> aiohttp.ClientResponseError:
    info = aiohttp.RequestInfo(
        yarl.URL("http://u/"), "GET", CIMultiDictProxy(CIMultiDict()), yarl.URL("http://u/")
    )
    error = aiohttp.ClientResponseError(info, (), status=400, message=str(cause))
    error.__cause__ = cause
    return error


def _connector_error() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("u", 80, False, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "refused"))


def _handshake_error() -> aiohttp.WSServerHandshakeError:
    info = aiohttp.RequestInfo(
        yarl.URL("http://u/"), "GET", CIMultiDictProxy(CIMultiDict()), yarl.URL("http://u/")
    )
    return aiohttp.WSServerHandshakeError(info, (), status=403, message="no")


# (row name, an exception the row is for, phase, error class or None, words of the message)
CASES: list[tuple[str, BaseException, Phase, type[GatewayError] | None, str]] = [
    # the upstream answered a WebSocket upgrade without upgrading: relayed as it is
    ("handshake refused", _handshake_error(), Phase.WS_CONNECT, None, ""),
    # no response head within the upstream timeout
    ("no head in time", TimeoutError(), Phase.SEND, UpstreamTimeout, "did not answer"),
    # a body read that waited past the idle timeout
    ("body stalled", TimeoutError(), Phase.READ_BODY, UpstreamTimeout, "stopped sending"),
    # a header line past 16 KiB
    (
        "head too large",
        _response_error(http_exceptions.LineTooLong(b"x", 16384)),
        Phase.SEND,
        UpstreamResponseTooLarge,
        "headers exceed",
    ),
    # more headers than the client takes
    (
        "head too large",
        _response_error(http_exceptions.BadHttpMessage("Too many headers received")),
        Phase.SEND,
        UpstreamResponseTooLarge,
        "128 headers",
    ),
    # connection refused / DNS failure
    ("not reachable", _connector_error(), Phase.SEND, UpstreamUnavailable, "could not be reached"),
    # a status line that is not HTTP
    (
        "unreadable head",
        _response_error(http_exceptions.BadStatusLine("HTTQ/1.1")),
        Phase.SEND,
        UpstreamUnavailable,
        "not valid HTTP",
    ),
    # the connection reset while waiting for the head
    (
        "connection failed",
        aiohttp.ServerDisconnectedError(),
        Phase.SEND,
        UpstreamUnavailable,
        "connection failed",
    ),
    # the WebSocket handshake broke
    ("handshake failed", ConnectionResetError(), Phase.WS_CONNECT, UpstreamUnavailable, "reached"),
    # the connection broke mid-body
    (
        "body broken",
        aiohttp.ClientPayloadError("cut"),
        Phase.STREAM_BODY,
        UpstreamUnavailable,
        "mid-body",
    ),
]


@pytest.mark.parametrize(("row", "exc", "phase", "expected", "words"), CASES)
def test_table_row(row: Any, exc: Any, phase: Any, expected: Any, words: Any) -> None:
    error = translate(exc, phase)
    matching = [r for r in TABLE if phase in r.phases and r.matches(exc)]
    assert matching and matching[0].name == row  # the row under test is the one that applies
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected and words in error.message  # type: ignore[union-attr]


def test_every_row_is_walked() -> None:
    assert {row.name for row in TABLE} == {case[0] for case in CASES}


def test_anything_else_is_not_translated() -> None:
    # a bug of ours is not the upstream's failure: it goes on as it is
    assert translate(KeyError("x"), Phase.SEND) is None


async def test_oversized_upstream_head_has_its_own_error(make_gateway: GatewayFactory) -> None:
    async def many_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        heads = b"".join(b"X-H%d: 1\r\n" % i for i in range(300))
        writer.write(b"HTTP/1.1 200 OK\r\n" + heads + b"Content-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(many_headers, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        gw: Gateway = await make_gateway(f"http://127.0.0.1:{port}/")
        response = await gw.client.get("/anything", headers=bearer())
        assert response.status == 502
        body = await response.json()
        assert body["error"]["code"] == "upstream_unavailable"
        assert "headers exceed" in body["error"]["message"]
    finally:
        server.close()
