"""WebSocket relay details: backpressure, close codes both ways, pings."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType, web

from tests.conftest import GatewayFactory, bearer
from tests.test_web_masking_functional import RULES

FRAME = '{"payload": [{"content": "' + "x" * 60_000 + '"}]}'
TOTAL = 1200  # ~72 MB if nothing held it back (socket buffers hold ~12 MB)


async def test_slow_client_holds_back_the_upstream(gateway_for: GatewayFactory) -> None:
    sent = 0

    async def flood(request: web.Request) -> web.WebSocketResponse:
        nonlocal sent
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        try:
            for _ in range(TOTAL):
                await ws.send_str(FRAME)
                sent += 1
        except ConnectionError:
            pass
        return ws

    gw = await gateway_for(flood, "/api/v1/accounts/1/conversations/1/messages", RULES)
    async with gw.client.ws_connect(
        "/api/v1/accounts/1/conversations/1/messages", headers=bearer(), max_msg_size=0
    ) as ws:
        first = await ws.receive(timeout=5)
        assert first.type == WSMsgType.TEXT  # masked, then relayed
        await asyncio.sleep(1.0)  # the client reads nothing more
        held_back = sent
        # socket buffers on both hops hold some frames; the gateway must not read them all
        assert held_back < TOTAL / 2, held_back
        received = 1
        while received < TOTAL:
            msg = await ws.receive(timeout=10)
            assert msg.type == WSMsgType.TEXT
            received += 1
    assert sent == TOTAL


async def test_close_code_from_client_reaches_upstream(gateway_for: GatewayFactory) -> None:
    closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        closed.set_result((ws.close_code, ""))
        return ws

    gw = await gateway_for(ws_handler, "/ws", RULES)
    async with gw.client.ws_connect("/ws", headers=bearer("admin")) as ws:
        await ws.close(code=4100, message=b"leaving")
    code, _ = await asyncio.wait_for(closed, 5)
    assert code == 4100


async def test_pings_are_relayed(gateway_for: GatewayFactory) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"are-you-there")
        async for msg in ws:
            if msg.type == WSMsgType.PONG:
                await ws.send_str("pong:" + msg.data.decode())
        return ws

    gw = await gateway_for(ws_handler, "/ws", RULES)
    async with gw.client.ws_connect("/ws", headers=bearer("admin"), autoping=True) as ws:
        assert await ws.receive_str(timeout=5) == "pong:are-you-there"
