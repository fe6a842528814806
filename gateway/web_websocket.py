"""WebSocket relay: both ways, frames as they arrive; upstream->client masked on masked routes.

The role is fixed at upgrade time from the token (browsers send it as a query parameter). Sending
awaits the peer's drain, so a slow client slows the upstream read instead of growing memory.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

from gateway import json_codec
from gateway.document_masker import DocumentMasker
from gateway.exchange import Exchange, Tally
from gateway.sentinel import ResidualPII
from gateway.transform import TransformFailed
from gateway.web_forward import checked_query, forwarded_headers, write_guard_mode
from gateway.web_state import GatewayState
from gateway.write_guard import check_frame

# Closing both sides is bounded as a whole: aiohttp waits for the peer's close frame with a
# timeout per message, so a chatty peer could otherwise hold the close open for ever.
CLOSE_BOUND = 5.0
_UNMASKABLE = 1011
_CLOSE_REASON_MAX = 123  # RFC 6455 5.5: a control frame's payload is at most 125 bytes

_HANDSHAKE = (
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Accept",
)


def is_websocket_upgrade(request: web.BaseRequest) -> bool:
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() == "websocket"
        and "upgrade" in request.headers.get("Connection", "").lower()
    )


async def relay_websocket(exchange: Exchange, state: GatewayState) -> web.StreamResponse:
    request, api = exchange.request, exchange.api
    upstream = state.upstream
    assert upstream is not None
    headers = forwarded_headers(request, api, _HANDSHAKE)
    protocols = tuple(
        p.strip()
        for value in request.headers.getall("Sec-WebSocket-Protocol", ())
        for p in value.split(",")
        if p.strip()
    )
    mode = write_guard_mode(api)  # SECURITY: the write guard, SPEC 3.5 and 3.6
    url = upstream.url_for(api.path, checked_query(api.query, mode))
    try:
        upstream_ws = await upstream.ws_connect(url, headers, protocols)
    except aiohttp.WSServerHandshakeError as exc:
        # The upstream answered without upgrading: relay its status as it is.
        return web.Response(status=exc.status, headers={"X-Request-Id": exchange.request_id})
    client_ws = web.WebSocketResponse(
        protocols=(upstream_ws.protocol,) if upstream_ws.protocol else (),
        autoping=False,
        autoclose=False,
        max_msg_size=0,
    )
    client_ws.headers["X-Request-Id"] = exchange.request_id
    code = 1000
    try:
        await client_ws.prepare(request)
        exchange.status = client_ws.status
        policy = api.policy
        frames = (
            _FrameMask(policy.masker, policy.binary_pass, exchange.tally, state.settings.max_body)
            if policy.masking
            else None
        )
        guard = exchange.tally if mode != "off" else None
        to_upstream = asyncio.create_task(_pump(client_ws, upstream_ws, None, guard))
        to_client = asyncio.create_task(_pump(upstream_ws, client_ws, frames))
        try:
            _, pending = await asyncio.wait(
                {to_upstream, to_client}, return_when=asyncio.FIRST_COMPLETED
            )
            # Let the other side see the close that was just relayed, briefly.
            if pending:
                await asyncio.wait(pending, timeout=2)
        finally:
            for task in (to_upstream, to_client):
                task.cancel()
            results = await asyncio.gather(to_upstream, to_client, return_exceptions=True)
            if isinstance(results[1], Exception):
                code = _UNMASKABLE  # PII: the upstream->client pump broke: never a clean 1000
    finally:
        # SECURITY: whatever ended the session (either side, an error, a cancelled handler), the
        # upstream socket is closed within CLOSE_BOUND.
        await _close_both(upstream_ws, client_ws, code)
    return client_ws


async def _close_both(
    upstream_ws: aiohttp.ClientWebSocketResponse, client_ws: web.WebSocketResponse, code: int
) -> None:
    try:
        async with asyncio.timeout(CLOSE_BOUND):
            await upstream_ws.close()
    except TimeoutError:
        pass  # aiohttp drops the connection when its close is cancelled
    if client_ws.prepared:
        try:
            async with asyncio.timeout(CLOSE_BOUND):
                await client_ws.close(code=code)
        except TimeoutError:
            pass


WebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


async def _pump(
    source: WebSocket, sink: WebSocket, frames: _FrameMask | None, guard: Tally | None = None
) -> None:
    try:
        await _relay_frames(source, sink, frames, guard)
    except (TransformFailed, ValueError, TypeError, RecursionError) as exc:
        # PII: a frame that cannot be masked ends the stream rather than pass through (1011).
        if frames is not None:
            reason = "residual_pii" if isinstance(exc, ResidualPII) else "transform"
            frames.tally.stream_closed = frames.tally.fail_closed = reason
        await sink.close(code=_UNMASKABLE, message=b"unmaskable frame")


async def _relay_frames(
    source: WebSocket, sink: WebSocket, frames: _FrameMask | None, guard: Tally | None
) -> None:
    """`guard`: the tally to count refused client frames in, when the write guard is on."""
    # `receive()`, not `async for`: iteration stops at a close frame without yielding it, which
    # would lose the peer's close reason.
    while True:
        message = await source.receive()
        kind = message.type
        if guard is not None and kind == WSMsgType.TEXT and check_frame(message.data):
            # SECURITY: a client frame writing a masked value back is dropped (SPEC 3.6).
            guard.stream_items[("websocket", "write_refused")] += 1
            continue
        if kind == WSMsgType.TEXT:
            await sink.send_str(message.data if frames is None else frames.text(message.data))
        elif kind == WSMsgType.BINARY:
            if frames is not None and not frames.binary_pass:
                # PII: an opaque frame cannot be masked, so it is dropped on masked routes.
                frames.tally.stream_items[("websocket", "dropped")] += 1
                continue
            await sink.send_bytes(message.data)
        elif kind == WSMsgType.PING:
            await sink.ping(message.data if frames is None else frames.control(message.data))
        elif kind == WSMsgType.PONG:
            await sink.pong(message.data if frames is None else frames.control(message.data))
        elif kind == WSMsgType.CLOSE:
            reason = (message.extra or "").encode()
            if frames is not None:
                reason = frames.control(reason)[:_CLOSE_REASON_MAX]
            await sink.close(code=message.data or 1000, message=reason)
            return
        else:  # CLOSING, CLOSED, ERROR
            await sink.close(code=1011 if kind == WSMsgType.ERROR else 1000)
            return


class _FrameMask:
    """Masks upstream frames through the policy's document masker: JSON text frames by the
    route's rules, other text, ping/pong payloads and close reasons with the text mask."""

    def __init__(self, masker: DocumentMasker, binary_pass: bool, tally: Tally, limit: int) -> None:
        self.masker = masker
        self.binary_pass = binary_pass
        self.tally = tally
        self.limit = limit

    def text(self, data: str) -> str:
        if len(data) > self.limit:
            raise TransformFailed("frame larger than the body limit")
        self.tally.stream_items[("websocket", "masked")] += 1
        try:
            document = json_codec.loads(data)
        except ValueError:
            return self.masker.mask_text(data)
        nested = _expand_nested(document)
        document = self.masker.mask(document, self.tally.outcome).document
        for key in nested:
            if isinstance(document, dict) and key in document:
                document[key] = json_codec.dumps(document[key]).decode()
        return json_codec.dumps(document).decode()

    def control(self, payload: bytes) -> bytes:
        """A ping/pong payload or close reason: text-masked; PII: opaque bytes are not relayed."""
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return b""
        return self.masker.mask_text(text).encode()


def _expand_nested(document: Any) -> list[str]:
    """ActionCable-style frames carry JSON as a string (`"message": "{...}"`): parse it in place,
    so the route's rules see one document; returns the keys to serialise back afterwards."""
    keys: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            # PII: JSON parsers skip leading whitespace, so a client reads " {...}" as JSON too.
            if isinstance(value, str) and value.lstrip(" \t\r\n")[:1] in ("{", "["):
                try:
                    document[key] = json_codec.loads(value)
                except ValueError:
                    continue
                keys.append(key)
    return keys
