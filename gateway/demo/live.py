"""The demo's live feed: new messages pushed over Server-Sent Events and an ActionCable WebSocket.

Every new message (posted through the API, or made up every `interval` seconds while someone is
listening) is published once to `LiveFeed`, which fans it out to one bounded queue per listener.
Shutdown closes the feed, which ends every stream handler; the generator task lives in a
cleanup context, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from random import Random

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from gateway.demo.conventions import STORE, require_account
from gateway.demo.data import synthetic_message
from gateway.demo.store import Json

QUEUE_SIZE = 256  # per listener; a listener that falls this far behind misses messages
EVENT = "message.created"


@dataclass(frozen=True, slots=True)
class LiveSettings:
    seed: int
    interval: float | None  # seconds between made-up messages; None or 0 turns them off
    ping_interval: float  # ActionCable pings
    keepalive: float  # SSE comment lines while nothing happens


class LiveFeed:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Json | None]] = set()
        self._closed = False

    @property
    def listeners(self) -> int:
        return len(self._queues)

    def subscribe(self) -> asyncio.Queue[Json | None]:
        queue: asyncio.Queue[Json | None] = asyncio.Queue(QUEUE_SIZE)
        if self._closed:
            queue.put_nowait(None)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Json | None]) -> None:
        self._queues.discard(queue)

    def publish(self, message: Json) -> None:
        for queue in self._queues:
            if not queue.full():
                queue.put_nowait(message)

    def close(self) -> None:
        """Ends every listener: each queue gets the `None` sentinel, even a full one."""
        self._closed = True
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)


FEED = web.AppKey("omnigate_demo_feed", LiveFeed)
SETTINGS = web.AppKey("omnigate_demo_live_settings", LiveSettings)


def dumps(value: Json) -> str:
    return orjson.dumps(value).decode()


async def sse(request: web.Request) -> web.StreamResponse:
    """`GET /api/v1/accounts/{account_id}/live`: one `message.created` event per new message."""
    require_account(request)
    keepalive = request.app[SETTINGS].keepalive
    response = web.StreamResponse(headers={"Cache-Control": "no-cache"})
    response.content_type = "text/event-stream"
    # Subscribed before the headers go out: a client that has them misses no message.
    queue = request.app[FEED].subscribe()
    try:
        await response.prepare(request)
        while True:
            try:
                async with asyncio.timeout(keepalive):
                    message = await queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")  # also notices a vanished client
                continue
            if message is None:
                break
            await response.write(
                f"event: {EVENT}\nid: {message['id']}\ndata: {dumps(message)}\n\n".encode()
            )
    except ConnectionResetError:
        pass  # the client went away
    finally:
        request.app[FEED].unsubscribe(queue)
    return response


async def cable(request: web.Request) -> web.WebSocketResponse:
    """`GET /cable`: Chatwoot's ActionCable shape (welcome, confirm_subscription, ping, broadcasts).

    Any identifier is accepted: the demo has no pubsub tokens to check.
    """
    ws = web.WebSocketResponse(protocols=("actioncable-v1-json",))
    await ws.prepare(request)
    identifiers: list[str] = []
    queue = request.app[FEED].subscribe()
    await ws.send_str(dumps({"type": "welcome"}))
    pump = asyncio.create_task(_pump(ws, queue, identifiers, request.app[SETTINGS].ping_interval))
    try:
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                await _command(ws, frame.data, identifiers)
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        request.app[FEED].unsubscribe(queue)
    return ws


async def _command(ws: web.WebSocketResponse, text: str, identifiers: list[str]) -> None:
    try:
        command = orjson.loads(text)
    except orjson.JSONDecodeError:
        return
    if not isinstance(command, dict) or not isinstance(command.get("identifier"), str):
        return
    identifier: str = command["identifier"]
    if command.get("command") == "subscribe":
        if identifier not in identifiers:
            identifiers.append(identifier)
        await ws.send_str(dumps({"identifier": identifier, "type": "confirm_subscription"}))
    elif command.get("command") == "unsubscribe" and identifier in identifiers:
        identifiers.remove(identifier)


async def _pump(
    ws: web.WebSocketResponse,
    queue: asyncio.Queue[Json | None],
    identifiers: list[str],
    ping_interval: float,
) -> None:
    loop = asyncio.get_running_loop()
    next_ping = loop.time() + ping_interval
    while True:
        try:
            # Not wait_for: on 3.11 its timeout can swallow an item already taken off the queue.
            async with asyncio.timeout_at(next_ping):
                message = await queue.get()
        except TimeoutError:
            await ws.send_str(dumps({"type": "ping", "message": int(time.time())}))
            next_ping = loop.time() + ping_interval
            continue
        if message is None:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
            return
        for identifier in tuple(identifiers):
            event = {"identifier": identifier, "message": {"event": EVENT, "data": message}}
            await ws.send_str(dumps(event))


async def synthetic_messages(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: while anyone listens, a made-up message every `interval` seconds."""
    settings = app[SETTINGS]
    task = asyncio.create_task(_generate(app, settings)) if settings.interval else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _generate(app: web.Application, settings: LiveSettings) -> None:
    # Its own stream, so the seeded data stays the same. Not a secret.
    rng = Random(settings.seed + 1)  # noqa: S311
    store, feed = app[STORE], app[FEED]
    while True:
        await asyncio.sleep(settings.interval or 0)
        if feed.listeners:
            message = synthetic_message(store, rng, int(time.time()))
            feed.publish(store.render_message(message))


async def close_feed(app: web.Application) -> None:
    """on_shutdown: end the open streams so the server's drain does not wait on them."""
    app[FEED].close()
