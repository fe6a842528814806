"""Masked WebSocket routes (SPEC 3.6): control frames text-masked, unmaskable frames close 1011."""

from __future__ import annotations

from aiohttp import WSMsgType, web

from tests.conftest import GatewayFactory, bearer
from tests.test_web_masking_functional import RULES

PATH = "/api/v1/accounts/1/conversations/1/messages"


async def test_ping_payload_from_upstream_is_masked(gateway_for: GatewayFactory) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"call +1 415 555 7890")
        await ws.pong(b"call +1 415 555 7890")
        async for _ in ws:
            pass
        return ws

    gw = await gateway_for(ws_handler, PATH, RULES)
    async with gw.client.ws_connect(PATH, headers=bearer(), autoping=False) as ws:
        ping = await ws.receive(timeout=5)
        assert ping.type == WSMsgType.PING and ping.data == b"call XXX-XXX-7890"
        pong = await ws.receive(timeout=5)
        assert pong.type == WSMsgType.PONG and pong.data == b"call XXX-XXX-7890"


async def test_close_reason_from_upstream_is_masked(gateway_for: GatewayFactory) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close(code=4000, message=b"bye +1 415 555 7890")
        return ws

    gw = await gateway_for(ws_handler, PATH, RULES)
    async with gw.client.ws_connect(PATH, headers=bearer()) as ws:
        closing = await ws.receive(timeout=5)
        assert closing.type == WSMsgType.CLOSE
        assert closing.data == 4000 and closing.extra == "bye XXX-XXX-7890"


async def test_unmaskable_frame_closes_with_1011(gateway_for: GatewayFactory) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str('{"payload": [{"content": "' + "x" * 4096 + '"}]}')
        async for _ in ws:
            pass
        return ws

    gw = await gateway_for(ws_handler, PATH, RULES, max_body=1024)
    async with gw.client.ws_connect(PATH, headers=bearer()) as ws:
        closing = await ws.receive(timeout=5)
        assert closing.type == WSMsgType.CLOSE and closing.data == 1011
