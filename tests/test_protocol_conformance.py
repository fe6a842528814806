"""HTTP/1.1 conformance at the gateway (SPEC 2), byte-exact through raw sockets on loopback.

The upstream here is a raw asyncio server that records the bytes it received and answers with
bytes given by the test, so nothing in aiohttp's client or server tidies up what is checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest

from tests.conftest import MINIMAL_RULES, GatewayFactory, raw_http, token


class RawUpstream:
    """Reads one request (head plus Content-Length or chunked body), answers `reply`."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = b""
                lower = head.lower()
                if b"\r\ncontent-length:" in lower:
                    length = int(lower.split(b"\r\ncontent-length:")[1].split(b"\r\n")[0])
                    body = await reader.readexactly(length)
                elif b"\r\ntransfer-encoding: chunked" in lower:
                    body = await reader.readuntil(b"0\r\n\r\n")
                self.received.append(head + body)
                writer.write(self.reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawUpstream:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 24)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


@pytest.fixture
async def upstream() -> AsyncIterator[RawUpstream]:
    async with RawUpstream(OK) as raw:
        yield raw


def error_of(answer: bytes) -> tuple[int, str]:
    status = int(answer.split(b" ", 2)[1])
    return status, orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"]


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        # HTTP/2 is not spoken on this listener: 505, never proxied as HTTP/2.0
        (b"GET /x HTTP/2.0\r\nHost: g\r\n\r\n", 505, "bad_request"),
        # a request line without a version (HTTP/0.9 style)
        (b"GET /x\r\n\r\n", 400, "bad_request"),
        # an HTTP version that does not exist: the parser refuses it, in the JSON shape
        (b"GET /x HTTP/1.7\r\nHost: g\r\n\r\n", 400, "bad_request"),
        # a coding before chunked: where the body ends is ambiguous between parsers
        (
            b"POST /x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            501,
            "not_implemented",
        ),
        # the same codings over two header lines: the parser itself refuses these (400)
        (
            b"POST /x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: gzip\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
        # chunked twice is not "chunked alone" (refused by the parser too)
        (
            b"POST /x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
        # a coding alone, without chunked (the parser refuses it: no framing at all)
        (b"POST /x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "bad_request"),
        # both framings: request smuggling precondition
        (
            b"POST /x HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
        # an absolute-form target without a host
        (b"GET http:///x HTTP/1.1\r\nHost: g\r\n\r\n", 400, "bad_request"),
        # a header field longer than 16 KiB
        (
            b"GET /x HTTP/1.1\r\nHost: g\r\nX-Big: " + b"a" * (17 * 1024) + b"\r\n\r\n",
            431,
            "bad_request",
        ),
        # more than 128 header fields
        (b"GET /x HTTP/1.1\r\nHost: g\r\n" + b"X-N: 1\r\n" * 130 + b"\r\n", 400, "bad_request"),
    ],
)
async def test_refused_at_the_door(
    make_gateway: GatewayFactory,
    upstream: RawUpstream,
    request_bytes: bytes,
    status: int,
    code: str,
) -> None:
    gw = await make_gateway(upstream.url)
    answer = await raw_http(gw.client.port, request_bytes, read_timeout=2)
    assert error_of(answer) == (status, code)
    # an HTTP/1 status line, never one in the version the request line named (HTTP/2.0, 0.9)
    # (the parser's own refusals answer HTTP/1.0, which closes the connection by default)
    assert answer.startswith((b"HTTP/1.1 ", b"HTTP/1.0 "))
    if answer.startswith(b"HTTP/1.1 "):
        assert b"\r\nConnection: close\r\n" in answer.split(b"\r\n\r\n")[0] + b"\r\n"
    assert upstream.received == []  # never proxied


async def test_chunked_alone_is_proxied(
    make_gateway: GatewayFactory, upstream: RawUpstream
) -> None:
    gw = await make_gateway(upstream.url)
    request = (
        b"POST /x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    answer = await raw_http(gw.client.port, request)
    assert answer.startswith(b"HTTP/1.1 200")
    assert upstream.received[0].endswith(b"hello\r\n0\r\n\r\n")


async def test_obs_text_header_bytes_pass_both_ways(make_gateway: GatewayFactory) -> None:
    obs = b"caf\xe9 \x80\xff \xc3\xa9"  # latin-1 bytes, stray bytes and valid UTF-8 together
    reply = b"HTTP/1.1 200 OK\r\nX-Obs: " + obs + b"\r\nContent-Length: 2\r\n\r\nok"
    async with RawUpstream(reply) as upstream:
        gw = await make_gateway(upstream.url)
        request = b"GET /x HTTP/1.1\r\nHost: g\r\nX-Obs: " + obs + b"\r\nConnection: close\r\n\r\n"
        answer = await raw_http(gw.client.port, request)
    assert b"\r\nX-Obs: " + obs + b"\r\n" in upstream.received[0]
    assert b"\r\nX-Obs: " + obs + b"\r\n" in answer


async def test_absolute_form_authority_replaces_host(
    make_gateway: GatewayFactory, upstream: RawUpstream
) -> None:
    gw = await make_gateway(upstream.url)
    request = (
        b"GET http://user@api.example:8443/contacts?a=1 HTTP/1.1\r\nHost: other.example\r\n"
        b"Connection: close\r\n\r\n"
    )
    answer = await raw_http(gw.client.port, request)
    assert answer.startswith(b"HTTP/1.1 200")
    head = upstream.received[0].split(b"\r\n")
    assert head[0] == b"GET /contacts?a=1 HTTP/1.1"
    assert b"Host: api.example:8443" in head
    assert b"Host: other.example" not in head
    assert b"X-Forwarded-Host: api.example:8443" in head


async def test_expect_continue_is_not_forwarded_and_does_not_stall(
    make_gateway: GatewayFactory, upstream: RawUpstream
) -> None:
    # The raw upstream never sends 100: if the expectation were forwarded, aiohttp's client
    # would wait for it and the upload would end in a 504 after the upstream timeout.
    gw = await make_gateway(upstream.url, upstream_timeout=3)
    body = b"x" * (2 * 1024 * 1024)  # curl sends Expect above 1 MiB
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.client.port)
    writer.write(
        b"PUT /upload HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer "
        + token("agent").encode()
        + b"\r\nContent-Type: application/octet-stream\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    received = upstream.received[0]
    assert b"expect:" not in received.split(b"\r\n\r\n")[0].lower()
    assert received.endswith(body)


async def test_expect_continue_is_not_sent_for_a_bad_token(
    make_gateway: GatewayFactory, upstream: RawUpstream
) -> None:
    gw = await make_gateway(upstream.url)
    request = (
        b"PUT /upload HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer not.a.token\r\n"
        b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    answer = await raw_http(gw.client.port, request, read_timeout=1)
    assert error_of(answer) == (401, "invalid_token")
    assert b"100 Continue" not in answer
    assert upstream.received == []


@pytest.mark.parametrize(
    "reply",
    [
        # one header field over the 16 KiB the gateway reads
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (17 * 1024) + b"\r\nContent-Length: 2\r\n\r\nok",
        # more than 128 header fields
        b"HTTP/1.1 200 OK\r\n" + b"X-N: 1\r\n" * 130 + b"Content-Length: 2\r\n\r\nok",
    ],
)
async def test_an_oversized_upstream_response_head_is_a_502(
    make_gateway: GatewayFactory, reply: bytes
) -> None:
    async with RawUpstream(reply) as upstream:
        gw = await make_gateway(upstream.url)
        answer = await raw_http(
            gw.client.port, b"GET /x HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
        )
    assert error_of(answer) == (502, "upstream_unavailable")


EARLY_HINTS = (
    b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\nX-Obs: \xe9\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
)
MASKED_ROUTE = (
    MINIMAL_RULES
    + """
routes:
  - name: contact
    match: { path: "/contacts/{id}" }
    response: [ { path: "$.phone", mask: phone } ]
"""
)


@pytest.mark.parametrize(
    ("request_line", "role", "relayed"),
    [
        ("GET /other HTTP/1.1", "agent", True),  # a route without rules: relayed as sent
        ("GET /contacts/1 HTTP/1.1", "admin", True),  # masked route, role with masking off
        # masked route, masked role: relayed with the header rules applied (SPEC 3.10)
        ("GET /contacts/1 HTTP/1.1", "agent", True),
        ("GET /other HTTP/1.0", "agent", False),  # never a 1xx to an HTTP/1.0 client
    ],
)
async def test_informational_responses_are_relayed(
    make_gateway: GatewayFactory, request_line: str, role: str, relayed: bool
) -> None:
    async with RawUpstream(EARLY_HINTS) as upstream:
        gw = await make_gateway(upstream.url, MASKED_ROUTE)
        request = (
            f"{request_line}\r\nHost: g\r\nAuthorization: Bearer {token(role)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        answer = await raw_http(gw.client.port, request)
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\nX-Obs: \xe9\r\n\r\n"
    if relayed:
        assert answer.startswith(hints + b"HTTP/1.1 200 OK\r\n")
    else:
        assert b" 103 " not in answer
        assert answer.split(b" ", 2)[1] == b"200"


class CountingUpstream(RawUpstream):
    """A RawUpstream that counts the connections it was opened."""

    connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await super()._serve(reader, writer)


async def test_interim_responses_on_a_reused_upstream_connection_go_to_their_own_client(
    make_gateway: GatewayFactory,
) -> None:
    # The 1xx reader stays on an upstream connection once installed: each request's hints still
    # reach the client of that request, once, on every reuse of the keep-alive connection.
    counting = CountingUpstream(EARLY_HINTS)
    async with counting as upstream:
        gw = await make_gateway(upstream.url, MASKED_ROUTE)
        answers = []
        for path in ("/other/1", "/other/2", "/other/3"):
            request = (
                f"GET {path} HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer {token('agent')}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            answers.append(await raw_http(gw.client.port, request))
    assert (len(upstream.received), counting.connections) == (3, 1)
    for answer in answers:
        assert answer.count(b" 103 Early Hints\r\n") == 1
        assert answer.startswith(b"HTTP/1.1 103 Early Hints\r\n")
