"""Issue 9 (branch pass4) attack 1: the gate's direct call of the catch-all route.

A differential test: the same raw requests go to two gateways in front of one recording upstream,
one with the gate's bypass (`CATCH_ALL` set, as `build_app` makes it) and one without (every
request through aiohttp's router, as before pass4). Whatever the request, both must answer alike
(status, headers, body) and send the upstream the same thing; masked rows must stay masked.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yarl
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer
from contact_route import ADMIN, AGENT, CONTACT, PII, RULES

from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.web_app import build_app
from gateway.web_runner import CATCH_ALL
from gateway.web_state import GatewayState
from tests.conftest import GatewayTestServer, loopback_settings, raw_http

PHONE, EMAIL, NAME = "+1 415 555 7890", "jane.doe@example.com", "Jane Doe"
# Headers that differ between two answers for reasons of their own (time, a fresh id).
_VOLATILE = re.compile(rb"^(date|x-request-id|server): .*$", re.IGNORECASE | re.MULTILINE)
SEEN: web.AppKey[list[Any]] = web.AppKey("seen")
_IDS = re.compile(rb'"request_id": ?"[0-9a-f]+"|"x-request-id": ?"[0-9a-f]+"', re.IGNORECASE)


async def _recorded(request: web.Request) -> web.StreamResponse:
    """The upstream: records what it was sent; a contact in clear; websocket echo at /ws."""
    seen: list[Any] = request.app[SEEN]
    body = await request.read()
    headers = sorted(
        (k.lower(), v)
        for k, v in request.headers.items()
        if k.lower() not in {"x-request-id", "x-forwarded-for", "sec-websocket-key"}
    )
    seen.append((request.method, request.raw_path, headers, body))
    if request.path == "/ws" and request.headers.get("Upgrade", "").lower() == "websocket":
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await socket.send_str("echo " + message.data)
        return socket
    payload = {"payload": {"phone_number": PHONE, "email": EMAIL, "name": NAME}}
    return web.json_response(payload, headers={"X-Upstream": "1"})


class Pair(NamedTuple):
    """Two gateways on one recording upstream: with the gate's bypass, and through the router."""

    direct: TestClient[Any, Any]
    routed: TestClient[Any, Any]
    seen: list[Any]  # what the upstream received, in order
    states: tuple[GatewayState, GatewayState]
    logs: tuple[tuple[io.StringIO, io.StringIO], ...]  # (access, audit) lines, per gateway


@pytest.fixture
async def pair(
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> Pair:
    upstream = web.Application()
    upstream[SEEN] = []
    upstream.router.add_route("*", "/{tail:.*}", _recorded)
    server = await aiohttp_server(upstream)
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "rules.yaml").write_text(textwrap.dedent(RULES))
    clients, states, logs = [], [], []
    for bypass in (True, False):
        access, audit = io.StringIO(), io.StringIO()
        settings = loopback_settings(
            yarl.URL(str(server.make_url("/"))), rules_dir, max_body=1 << 20
        )
        state = GatewayState(
            settings=settings,
            access_log=EventLog(access, "json"),
            audit_log=EventLog(audit, "json"),
            plan=load_plan(rules_dir),
        )
        app = build_app(state, watch=False)
        if not bypass:
            del app[CATCH_ALL]  # the gate then sends every request through the router
        clients.append(await aiohttp_client(GatewayTestServer(app), auto_decompress=False))
        states.append(state)
        logs.append((access, audit))
    return Pair(clients[0], clients[1], upstream[SEEN], (states[0], states[1]), tuple(logs))


def _request(line: str, *headers: str, body: bytes = b"", close: bool = True) -> bytes:
    lines = [line, *headers] + (["Connection: close"] if close else [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


HOST = "Host: gw.test"
BEARER = f"Authorization: Bearer {AGENT}"
# Each row: (raw request bytes, whether the answer is a masked contact the agent may not see).
ROWS: list[Any] = [
    # the common request, masked route
    (_request(f"GET {CONTACT} HTTP/1.1", HOST, BEARER), True),
    # dot segments, doubled slashes, `;` parameters: the gateway's normalisation decides
    (_request("GET /./api/v1/accounts/1//contacts/2 HTTP/1.1", HOST, BEARER), True),
    (_request(f"GET /x/..{CONTACT} HTTP/1.1", HOST, BEARER), True),
    (_request(f"GET /..;{CONTACT} HTTP/1.1", HOST, BEARER), False),
    (_request(f"GET {CONTACT};jsessionid=1 HTTP/1.1", HOST, BEARER), True),
    (_request(f"GET //{CONTACT} HTTP/1.1", HOST, BEARER), True),
    (_request("GET //evil.example/x HTTP/1.1", HOST, BEARER), False),  # not an authority
    # characters the router or the gateway refuse or treat specially
    (_request("GET /api\\v1\\accounts/1/contacts/2 HTTP/1.1", HOST, BEARER), False),
    (_request(f"GET {CONTACT}#frag HTTP/1.1", HOST, BEARER), True),
    (_request(f"GET {CONTACT}?q=a#b HTTP/1.1", HOST, BEARER), True),
    (_request("GET /caf\xc3\xa9/\xff HTTP/1.1", HOST, BEARER), False),  # UTF-8, obs-text
    (_request(f"GET {CONTACT}/\x7f HTTP/1.1", HOST, BEARER), False),
    (_request("GET /" + "a/" * 7000 + " HTTP/1.1", HOST, BEARER), False),  # long, under limit
    (_request("GET /" + "a" * 20000 + " HTTP/1.1", HOST, BEARER), False),  # over the line limit
    # other request forms and methods
    (_request(f"GET http://gw.test{CONTACT} HTTP/1.1", HOST, BEARER), True),  # absolute-form
    (_request("OPTIONS * HTTP/1.1", HOST), False),
    (_request(f"OPTIONS {CONTACT} HTTP/1.1", HOST, BEARER), False),
    # CONNECT with an origin-form target: the router's 404, never sent upstream
    (_request(f"CONNECT {CONTACT} HTTP/1.1", HOST, BEARER), False),
    (_request("CONNECT /other HTTP/1.1", HOST, BEARER), False),
    (_request("CONNECT gw.test:443 HTTP/1.1", HOST), False),
    (_request(f"HEAD {CONTACT} HTTP/1.1", HOST, BEARER), False),
    (_request(f"GET {CONTACT} HTTP/1.0", BEARER), True),  # HTTP/1.0 without Host
    (_request(f"GET {CONTACT} HTTP/2.0", HOST, BEARER), False),
    (_request(f"TRACE {CONTACT} HTTP/1.1", HOST, BEARER), False),
    (_request(f"PROPFIND {CONTACT} HTTP/1.1", HOST, BEARER), True),
    # Expect variants: the router's way runs the app's expect handler first
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Expect: 100-continue",
            "Content-Length: 2",
            body=b"{}",
        ),
        True,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Expect: 100-CONTINUE",
            "Content-Length: 2",
            body=b"{}",
        ),
        True,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1", HOST, BEARER, "Expect:", "Content-Length: 2", body=b"{}"
        ),
        True,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1", HOST, BEARER, "Expect: tea", "Content-Length: 2", body=b"{}"
        ),
        False,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Expect: 100-continue",
            "Expect: 100-continue",
            "Content-Length: 2",
            body=b"{}",
        ),
        False,
    ),
    # duplicated and conflicting framing and identity headers
    (_request(f"GET {CONTACT} HTTP/1.1", HOST, HOST, BEARER), False),
    (_request(f"GET {CONTACT} HTTP/1.1", HOST, "Host: other.test", BEARER), False),
    (_request(f"GET {CONTACT} HTTP/1.1", HOST, BEARER, BEARER), True),
    (_request(f"GET {CONTACT} HTTP/1.1", HOST, BEARER, f"Authorization: Bearer {ADMIN}"), False),
    (_request(f"GET {CONTACT} HTTP/1.1", HOST, BEARER, "Authorization: Basic YTpi"), False),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Content-Length: 2",
            "Content-Length: 2",
            body=b"{}",
        ),
        False,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Content-Length: 2",
            "Content-Length: 3",
            body=b"{}x",
        ),
        False,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Content-Length: 2",
            "Transfer-Encoding: chunked",
            body=b"2\r\n{}\r\n0\r\n\r\n",
        ),
        False,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Transfer-Encoding: chunked",
            body=b"2\r\n{}\r\n0\r\n\r\n",
        ),
        True,
    ),
    (
        _request(
            f"POST {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Transfer-Encoding: gzip, chunked",
            body=b"2\r\n{}\r\n0\r\n\r\n",
        ),
        False,
    ),
    # upgrades other than a working WebSocket
    (
        _request(
            f"GET {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Connection: Upgrade",
            "Upgrade: h2c",
            "HTTP2-Settings: AAMAAABkAAQAAP__",
        ),
        True,
    ),
    (
        _request(
            f"GET {CONTACT} HTTP/1.1",
            HOST,
            BEARER,
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Version: 13",
        ),
        False,
    ),
    # pipelining: a masked request behind a pass-through one on the same connection
    (
        _request("GET /other HTTP/1.1", HOST, BEARER, close=False)
        + _request(f"GET {CONTACT} HTTP/1.1", HOST, BEARER),
        True,
    ),
    (
        _request(f"GET {CONTACT} HTTP/1.1", HOST, close=False)
        + _request(f"GET {CONTACT} HTTP/1.1", HOST, f"Authorization: Bearer {ADMIN}"),
        False,
    ),
]


def _comparable(answer: bytes) -> bytes:
    return _IDS.sub(b"ID", _VOLATILE.sub(b"", answer))


@pytest.mark.parametrize(("raw", "masked"), ROWS)
async def test_bypass_answers_as_the_router_did(pair: Pair, raw: bytes, masked: bool) -> None:
    direct, routed, seen = pair[:3]
    answers = []
    sent = []
    for client in (direct, routed):
        before = len(seen)
        answers.append(await raw_http(client.port, raw, read_timeout=2.0))
        sent.append(seen[before:])
    assert answers[0], "no answer at all"
    assert _comparable(answers[0]) == _comparable(answers[1]), answers
    assert sent[0] == sent[1]  # the upstream saw the same request(s)
    if masked:  # PII: the agent's answer is masked, on both ways
        last = answers[0][answers[0].rindex(b"HTTP/1.") :]
        assert last[8:13] == b" 200 ", answers[0][:300]
        assert b"XXX-XXX-7890" in last
        assert not any(item in last for item in PII), last


async def test_websocket_through_the_bypass(pair: Pair) -> None:
    # A WebSocket upgrade the bypass takes: prepared and relayed as through the router.
    for client in pair[:2]:
        socket = await client.ws_connect("/ws", headers={"Authorization": f"Bearer {AGENT}"})
        await socket.send_str("hi")
        message = await socket.receive(timeout=5)
        assert message.type == WSMsgType.TEXT and message.data == "echo hi"
        await socket.close()


async def test_access_log_lines_alike(pair: Pair) -> None:
    # What is recorded per request (route, role, path, status) does not depend on the way taken.
    lines: list[list[dict[str, Any]]] = []
    for client, state, (access, audit) in zip(pair[:2], pair.states, pair.logs, strict=True):
        for target in (CONTACT, "/other?x=1", f"/x/..{CONTACT}"):
            for who in (AGENT, ADMIN):
                raw = _request(f"GET {target} HTTP/1.1", HOST, f"Authorization: Bearer {who}")
                await raw_http(client.port, raw, read_timeout=2.0)
        state.access_log.flush()
        state.audit_log.flush()
        volatile = {"ts", "time", "duration_ms", "upstream_ms", "request_id", "elapsed_ms"}
        lines.append(
            [
                {k: v for k, v in json.loads(line).items() if k not in volatile}
                for line in (access.getvalue() + audit.getvalue()).splitlines()
            ]
        )
    assert lines[0] and lines[0] == lines[1]
