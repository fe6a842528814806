"""WebSocket relay: both ways, frames as they arrive; upstream->client masked on masked routes.

The role is fixed at upgrade time from the token (browsers send it as a query parameter). Sending
awaits the peer's drain, so a slow client slows the upstream read instead of growing memory.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

from gateway import json_codec, metrics
from gateway.transform import Outcome, TransformFailed, mask_document, transform_document
from gateway.web_forward import checked_query, forwarded_headers, write_guard_mode
from gateway.web_request import Prepared, request_id_of
from gateway.web_state import GatewayState
from gateway.write_guard import check_frame

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


async def relay_websocket(
    request: web.Request, prepared: Prepared, state: GatewayState
) -> web.StreamResponse:
    upstream = state.upstream
    assert upstream is not None
    headers = forwarded_headers(request, prepared, _HANDSHAKE)
    protocols = tuple(
        p.strip()
        for value in request.headers.getall("Sec-WebSocket-Protocol", ())
        for p in value.split(",")
        if p.strip()
    )
    mode = write_guard_mode(request, prepared)  # SECURITY: the write guard, SPEC 3.5 and 3.6
    url = upstream.url_for(prepared.path, checked_query(prepared.query, mode))
    try:
        upstream_ws = await upstream.ws_connect(url, headers, protocols)
    except aiohttp.WSServerHandshakeError as exc:
        # The upstream answered without upgrading: relay its status as it is.
        return web.Response(status=exc.status, headers={"X-Request-Id": prepared.request_id})
    client_ws = web.WebSocketResponse(
        protocols=(upstream_ws.protocol,) if upstream_ws.protocol else (),
        autoping=False,
        autoclose=False,
        max_msg_size=0,
    )
    client_ws.headers["X-Request-Id"] = request_id_of(request)
    await client_ws.prepare(request)
    frame_mask = _FrameMask(prepared) if prepared.view.masking else None
    to_upstream = asyncio.create_task(_pump(client_ws, upstream_ws, None, guard=mode != "off"))
    to_client = asyncio.create_task(_pump(upstream_ws, client_ws, frame_mask))
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
        await asyncio.gather(to_upstream, to_client, return_exceptions=True)
        await upstream_ws.close()
        await client_ws.close()
    if frame_mask is not None:
        for (route, mask), count in frame_mask.outcome.masked.items():
            metrics.VALUES_MASKED.labels(route, mask).inc(count)
    return client_ws


WebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


async def _pump(
    source: WebSocket, sink: WebSocket, frame_mask: _FrameMask | None, *, guard: bool = False
) -> None:
    async for message in source:
        kind = message.type
        if guard and kind == WSMsgType.TEXT and check_frame(message.data):
            # SECURITY: a client frame writing a masked value back is dropped (SPEC 3.6).
            metrics.STREAM_ITEMS.labels("websocket", "write_refused").inc()
            continue
        if kind == WSMsgType.TEXT:
            try:
                text = message.data if frame_mask is None else frame_mask.text(message.data)
            except TransformFailed:
                # PII: a frame that cannot be masked ends the stream rather than pass through.
                metrics.STREAMS_CLOSED.labels("transform").inc()
                metrics.FAIL_CLOSED.labels("transform").inc()
                await sink.close(code=1011, message=b"unmaskable frame")
                return
            await sink.send_str(text)
        elif kind == WSMsgType.BINARY:
            if frame_mask is not None and not frame_mask.binary_pass:
                # PII: an opaque frame cannot be masked, so it is dropped on masked routes.
                metrics.STREAM_ITEMS.labels("websocket", "dropped").inc()
                continue
            await sink.send_bytes(message.data)
        elif kind == WSMsgType.PING:
            await sink.ping(message.data)
        elif kind == WSMsgType.PONG:
            await sink.pong(message.data)
        elif kind == WSMsgType.CLOSE:
            await sink.close(code=message.data or 1000, message=(message.extra or "").encode())
            return
        else:  # CLOSING, CLOSED, ERROR
            await sink.close(code=1011 if kind == WSMsgType.ERROR else 1000)
            return
    await sink.close(code=source.close_code or 1000)


class _FrameMask:
    """Masks upstream text frames: JSON by the route's rules, anything else as chat text."""

    def __init__(self, prepared: Prepared) -> None:
        self.view = prepared.view
        self.text_mask = prepared.plan.text_mask
        self.binary_pass = prepared.view.binary_pass
        self.outcome = Outcome()

    def _mask_json(self, document: Any) -> Any:
        return transform_document(document, self.view, self.outcome)

    def text(self, data: str) -> str:
        metrics.STREAM_ITEMS.labels("websocket", "masked").inc()
        try:
            document = json_codec.loads(data)
        except ValueError:
            return str(self.text_mask(data))
        nested = _expand_nested(document)
        document = mask_document(document, self._mask_json, self.text_mask)
        for key in nested:
            if isinstance(document, dict) and key in document:
                document[key] = json_codec.dumps(document[key]).decode()
        return json_codec.dumps(document).decode()


def _expand_nested(document: Any) -> list[str]:
    """ActionCable-style frames carry JSON as a string (`"message": "{...}"`): parse it in place,
    so the route's rules see one document; returns the keys to serialise back afterwards."""
    keys: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, str) and value[:1] in ("{", "["):
                try:
                    document[key] = json_codec.loads(value)
                except ValueError:
                    continue
                keys.append(key)
    return keys
