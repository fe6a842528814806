"""Every exchange is recorded exactly once: one access line and one request count, for HTTP,
SSE, WebSocket (normal close, client disconnect, upstream disconnect, cancellation), webhooks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import os
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yarl
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.web_app import build_app
from gateway.web_state import GatewayState
from tests.conftest import OMNICHANNEL_RULES, Gateway, GatewayTestServer, bearer, loopback_settings

RULES = (
    OMNICHANNEL_RULES
    + """
webhooks:
  - { channel: whatsapp, path: /webhooks/whatsapp, secret_env: META_APP_SECRET }
routes:
  - name: record-http
    match: { path: /rec/http }
    response: [ { path: "$.phone", mask: phone } ]
  - name: record-sse
    match: { path: /rec/sse }
    response: [ { path: "$.phone", mask: phone } ]
  - name: record-ws
    match: { path: "/rec/ws/{case}" }
    response: [ { path: "$.phone", mask: phone } ]
  - name: record-slow
    match: { path: /rec/slow }
    response: [ { path: "$.phone", mask: phone } ]
"""
)


def lines(gw: Gateway, route: str) -> list[dict[str, object]]:
    found = [orjson.loads(line) for line in gw.access.getvalue().splitlines() if line]
    return [line for line in found if line.get("route") == route]


def requests_counted(route: str, role: str, status: int) -> float:
    labels = {"route": route, "role": role, "status": str(status)}
    return REGISTRY.get_sample_value("omnigate_requests_total", labels) or 0.0


async def recorded(gw: Gateway, route: str) -> list[dict[str, object]]:
    """The access lines of `route`, once at least one has been written (the record step of a
    WebSocket runs after the client has gone), then once more after other work could run."""
    for _ in range(500):
        if lines(gw, route):
            break
        await asyncio.sleep(0.01)
    for _ in range(20):
        await asyncio.sleep(0)
    return lines(gw, route)


@pytest.fixture
async def upstream_events() -> dict[str, asyncio.Future[None]]:
    return {}


@pytest.fixture
async def recording_gateway(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    upstream_events: dict[str, asyncio.Future[None]],
) -> Gateway:
    """A gateway whose server cancels a handler when its client goes, as `serve` does."""
    loop = asyncio.get_running_loop()

    async def http(request: web.Request) -> web.Response:
        return web.json_response({"phone": "+14155557890"})

    async def sse(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"phone": "+14155557890"}\n\n')
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    async def ws(request: web.Request) -> web.WebSocketResponse:
        case = request.match_info["case"]
        done = upstream_events.setdefault(case, loop.create_future())
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        try:
            await socket.send_str('{"phone": "+14155557890"}')
            if case == "upstream-leaves":
                return socket  # returning closes the upstream side
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    await socket.send_str(message.data)
        finally:
            if not done.done():
                done.set_result(None)
        return socket

    async def receiver(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    upstream = web.Application()
    upstream.router.add_get("/rec/http", http)
    upstream.router.add_get("/rec/sse", sse)
    upstream.router.add_get("/rec/slow", slow)
    upstream.router.add_get("/rec/ws/{case}", ws)
    upstream.router.add_post("/webhooks/whatsapp", receiver)
    server = await aiohttp_server(upstream)

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "rules.yaml").write_text(textwrap.dedent(RULES))
    settings = loopback_settings(
        yarl.URL(str(server.make_url("/"))), rules_dir, max_body=1024 * 1024
    )
    access, audit = io.StringIO(), io.StringIO()
    state = GatewayState(
        settings=settings,
        access_log=EventLog(access, "json"),
        audit_log=EventLog(audit, "json"),
        plan=load_plan(rules_dir),
    )
    gateway = GatewayTestServer(build_app(state, watch=False), handler_cancellation=True)
    client = await aiohttp_client(gateway)
    return Gateway(client, state, access, audit)


async def test_http_exchange_is_recorded_once(recording_gateway: Gateway) -> None:
    gw = recording_gateway
    before = requests_counted("record-http", "agent", 200)
    response = await gw.client.get("/rec/http", headers=bearer())
    assert await response.json() == {"phone": "XXX-XXX-7890"}
    [line] = await recorded(gw, "record-http")
    assert line["status"] == 200 and line["masked"] == 1 and line["upstream_ms"] is not None
    assert requests_counted("record-http", "agent", 200) == before + 1


async def test_the_access_line_has_the_spec_fields_and_the_clients_trace_id(
    recording_gateway: Gateway,
) -> None:
    gw = recording_gateway
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {**bearer(), "traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
    response = await gw.client.get("/rec/http?q=secret", headers=headers)
    assert response.status == 200
    [line] = await recorded(gw, "record-http")
    # SPEC 6: time, level, request id, trace id, method, route, path, status, role, sub,
    # durations, values masked, sentinel findings; nothing else (no query, no body)
    assert list(line) == [
        "time",
        "level",
        "event",
        "request_id",
        "trace_id",
        "method",
        "route",
        "path",
        "status",
        "role",
        "sub",
        "duration_ms",
        "upstream_ms",
        "masked",
        "sentinel_findings",
    ]
    assert (line["level"], line["event"], line["trace_id"]) == ("info", "access", trace)
    assert (line["path"], line["sub"], line["sentinel_findings"]) == ("/rec/http", "user-agent", 0)


async def test_sse_exchange_is_recorded_once(recording_gateway: Gateway) -> None:
    gw = recording_gateway
    before = requests_counted("record-sse", "agent", 200)
    response = await gw.client.get("/rec/sse", headers=bearer())
    assert await response.read() == b'data: {"phone":"XXX-XXX-7890"}\n\n'
    [line] = await recorded(gw, "record-sse")
    assert line["status"] == 200 and line["masked"] == 1
    assert requests_counted("record-sse", "agent", 200) == before + 1


async def test_websocket_normal_close_is_recorded_once(recording_gateway: Gateway) -> None:
    gw = recording_gateway
    before = requests_counted("record-ws", "agent", 101)
    async with gw.client.ws_connect("/rec/ws/normal", headers=bearer()) as ws:
        assert await ws.receive_str(timeout=5) == '{"phone":"XXX-XXX-7890"}'
        await ws.close()
    [line] = await recorded(gw, "record-ws")
    assert line["status"] == 101 and line["masked"] == 1
    assert requests_counted("record-ws", "agent", 101) == before + 1


async def test_websocket_upstream_disconnect_is_recorded_once(recording_gateway: Gateway) -> None:
    gw = recording_gateway
    async with gw.client.ws_connect("/rec/ws/upstream-leaves", headers=bearer()) as ws:
        assert await ws.receive_str(timeout=5) == '{"phone":"XXX-XXX-7890"}'
        closing = await ws.receive(timeout=5)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    [line] = await recorded(gw, "record-ws")
    assert line["status"] == 101


async def test_websocket_client_disconnect_closes_upstream_and_records_once(
    recording_gateway: Gateway, upstream_events: dict[str, asyncio.Future[None]]
) -> None:
    gw = recording_gateway
    port = gw.client.server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /rec/ws/client-leaves HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: {bearer()['Authorization']}\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    await asyncio.wait_for(reader.read(1), 5)  # the first (masked) frame is on its way
    writer.transport.abort()  # gone, without a close frame
    # SECURITY: the upstream side is closed too, not left open
    await asyncio.wait_for(upstream_events["client-leaves"], 15)
    [line] = await recorded(gw, "record-ws")
    assert line["status"] == 101


async def test_cancelled_exchange_is_recorded_once(recording_gateway: Gateway) -> None:
    gw = recording_gateway
    before = requests_counted("record-slow", "agent", 499)
    port = gw.client.server.port
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /rec/slow HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: {bearer()['Authorization']}\r\n\r\n".encode()
    )
    await writer.drain()
    await asyncio.sleep(0.3)  # the request reaches the upstream, which takes its time
    writer.transport.abort()  # the client leaves: the server cancels the handler
    [line] = await recorded(gw, "record-slow")
    assert line["status"] == 499  # answered nothing: the client left
    assert requests_counted("record-slow", "agent", 499) == before + 1


async def test_webhook_exchange_is_recorded_once_with_upstream_time(
    recording_gateway: Gateway,
) -> None:
    gw = recording_gateway
    body = orjson.dumps({"object": "whatsapp_business_account", "entry": []})
    digest = hmac.new(b"test-meta-secret", body, hashlib.sha256).hexdigest()
    before = requests_counted("webhook:whatsapp", "-", 202)
    response = await gw.client.post(
        "/webhooks/whatsapp", data=body, headers={"X-Hub-Signature-256": f"sha256={digest}"}
    )
    assert response.status == 202
    [line] = await recorded(gw, "webhook:whatsapp")
    assert line["status"] == 202 and line["upstream_ms"] is not None  # new: upstream time
    assert requests_counted("webhook:whatsapp", "-", 202) == before + 1
