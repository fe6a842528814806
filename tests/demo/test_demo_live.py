"""The demo's live feed: Server-Sent Events and the ActionCable-shaped WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from gateway.demo import make_demo_app

A = "/api/v1/accounts/1"
IDENTIFIER = '{"channel":"RoomChannel","pubsub_token":"t0k3n","account_id":1}'
WAIT = 5.0  # generous upper bound; every wait below normally ends in milliseconds


async def read_event(resp: aiohttp.ClientResponse) -> list[str]:
    """The lines of the next SSE block (up to the blank line that ends it)."""
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(resp.content.readline(), WAIT)
        assert raw, "stream ended"
        line = raw.decode().rstrip("\n")
        if not line and lines:
            return lines
        if line:
            lines.append(line)


def event_data(lines: list[str]) -> Any:
    assert lines[0] == "event: message.created"
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert len(data) == 1
    return json.loads(data[0])


async def receive_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    frame = await asyncio.wait_for(ws.receive(), WAIT)
    assert frame.type is WSMsgType.TEXT, frame
    return json.loads(frame.data)


async def test_sse_streams_posted_messages(aiohttp_client: Any) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(make_demo_app(live_interval=None))
    async with client.get(f"{A}/live") as stream:
        assert stream.status == 200
        assert stream.content_type == "text/event-stream"
        posted = await client.post(
            f"{A}/conversations/1/messages", json={"content": "my number is (415) 555-0132"}
        )
        message = await posted.json()
        lines = await read_event(stream)
        assert f"id: {message['id']}" in lines
        assert event_data(lines) == message


async def test_sse_makes_up_messages_while_someone_listens(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=0.02))
    async with client.get(f"{A}/live") as stream:
        first, second = event_data(await read_event(stream)), event_data(await read_event(stream))
    assert second["id"] > first["id"]
    for message in (first, second):
        assert message["content"] and message["sender"]["type"] in ("contact", "user")
        listed = await client.get(f"{A}/conversations/{message['conversation_id']}/messages")
        assert message["id"] in {m["id"] for m in (await listed.json())["payload"]}


async def test_nobody_listening_means_no_made_up_messages(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=0.01))
    before = await (await client.get(f"{A}/conversations?page=2")).json()
    await asyncio.sleep(0.1)
    after = await (await client.get(f"{A}/conversations?page=2")).json()
    assert before == after


async def test_sse_keepalive_comment(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None, sse_keepalive=0.02))
    async with client.get(f"{A}/live") as stream:
        assert await read_event(stream) == [": keep-alive"]


async def test_sse_unknown_account_is_404(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None))
    resp = await client.get("/api/v1/accounts/9/live")
    assert resp.status == 404


async def test_cable_welcome_subscribe_broadcast(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None))
    async with client.ws_connect("/cable", protocols=("actioncable-v1-json",)) as ws:
        assert ws.protocol == "actioncable-v1-json"
        assert await receive_json(ws) == {"type": "welcome"}
        await ws.send_str(json.dumps({"command": "subscribe", "identifier": IDENTIFIER}))
        assert await receive_json(ws) == {"identifier": IDENTIFIER, "type": "confirm_subscription"}
        posted = await client.post(f"{A}/conversations/2/messages", json={"content": "hello"})
        message = await posted.json()
        assert await receive_json(ws) == {
            "identifier": IDENTIFIER,
            "message": {"event": "message.created", "data": message},
        }


async def test_cable_ignores_garbage_and_broadcasts_only_to_subscribers(
    aiohttp_client: Any,
) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None))
    async with client.ws_connect("/cable") as ws:
        assert await receive_json(ws) == {"type": "welcome"}
        await ws.send_str("not json")
        await ws.send_str('{"command": "subscribe"}')  # no identifier
        await client.post(f"{A}/conversations/2/messages", json={"content": "unseen"})
        await ws.send_str(json.dumps({"command": "subscribe", "identifier": IDENTIFIER}))
        # The next frame is the confirmation: the earlier message went to no subscription.
        assert (await receive_json(ws))["type"] == "confirm_subscription"


async def test_cable_pings(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None, ping_interval=0.02))
    async with client.ws_connect("/cable") as ws:
        assert await receive_json(ws) == {"type": "welcome"}
        ping = await receive_json(ws)
        assert ping["type"] == "ping" and isinstance(ping["message"], int)


@pytest.mark.parametrize("live_interval", [None, 0.01])
async def test_shutdown_ends_streams_and_leaves_no_tasks(
    aiohttp_server: Any, live_interval: float | None
) -> None:
    server = await aiohttp_server(make_demo_app(live_interval=live_interval, ping_interval=0.01))
    async with aiohttp.ClientSession() as session:
        stream = await session.get(server.make_url(f"{A}/live"))
        ws = await session.ws_connect(server.make_url("/cable"))
        await ws.receive()  # welcome
        await asyncio.wait_for(server.close(), WAIT)
        assert await asyncio.wait_for(stream.content.read(), WAIT) is not None
        assert stream.content.at_eof()
        closing = await asyncio.wait_for(ws.receive(), WAIT)
        while closing.type is WSMsgType.TEXT:  # pings queued before the close
            closing = await asyncio.wait_for(ws.receive(), WAIT)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        stream.close()
        await ws.close()
    names = {t.get_coro().__qualname__ for t in asyncio.all_tasks()}  # type: ignore[union-attr]
    assert not names & {"_pump", "_generate", "sse", "cable"}
