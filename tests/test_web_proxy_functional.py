"""The transparent proxy, end to end: real upstream on loopback, real client, real gateway."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest
from aiohttp import web

from tests.conftest import GatewayFactory, UpstreamApp, bearer, get_request, raw_http


def echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.raw_path.partition("?")[0],
                "query": request.query_string,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "xff": request.headers.getall("X-Forwarded-For", []),
                "body_len": len(body),
                "body_head": body[:32].decode("latin-1"),
            },
            headers={"X-Upstream": "yes"},
        )

    app = web.Application(client_max_size=1 << 30)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


async def test_method_path_query_headers_and_body_are_forwarded(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    upstream = await upstream_app(echo_app())
    gw = await make_gateway(upstream)
    resp = await gw.client.request(
        "PUT",
        "/api/v1/things/7?b=2&a=%20x",
        data=b"hello",
        headers={"Host": "chat.example.com", "X-Custom": "1", "X-Forwarded-For": "203.0.113.9"},
    )
    assert resp.status == 200
    assert resp.headers["X-Upstream"] == "yes"
    seen = await resp.json()
    assert seen["method"] == "PUT"
    assert seen["path"] == "/api/v1/things/7"
    assert seen["query"] == "b=2&a= x"
    assert seen["headers"]["host"] == "chat.example.com"  # Host preserved
    assert seen["headers"]["x-custom"] == "1"
    assert seen["xff"] == ["203.0.113.9, 127.0.0.1"]  # appended
    assert seen["headers"]["x-forwarded-proto"] == "http"
    assert seen["headers"]["x-forwarded-host"] == "chat.example.com"
    assert seen["body_len"] == 5
    # X-Request-Id generated, sent upstream, returned
    assert resp.headers["X-Request-Id"] == seen["headers"]["x-request-id"]
    assert "via" not in seen["headers"]


async def test_request_id_from_client_is_kept(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    gw = await make_gateway(await upstream_app(echo_app()))
    resp = await gw.client.get("/x", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["X-Request-Id"] == "abc-123"
    assert (await resp.json())["headers"]["x-request-id"] == "abc-123"


async def test_hop_by_hop_removed_both_ways(gateway_for: GatewayFactory) -> None:
    async def handler(request: web.Request) -> web.Response:
        seen = {k.lower() for k in request.headers}
        return web.Response(
            body=orjson.dumps(sorted(seen)),
            headers={"Connection": "X-Internal", "X-Internal": "secret", "Keep-Alive": "5"},
        )

    gw = await gateway_for(handler, "/h")
    resp = await gw.client.get(
        "/h",
        headers={
            "Connection": "keep-alive, X-Drop-Me, X-Forwarded-For",
            "X-Drop-Me": "1",
            "X-Forwarded-For": "10.9.9.9",
            "TE": "trailers",
            "Proxy-Authorization": "Basic Zm9vOmJhcg==",
        },
    )
    seen = orjson.loads(await resp.read())
    assert "x-drop-me" not in seen
    assert "te" not in seen and "proxy-authorization" not in seen
    assert "x-forwarded-for" in seen  # ours, added after stripping
    assert "X-Internal" not in resp.headers
    assert "Keep-Alive" not in resp.headers


@pytest.mark.parametrize(
    "status", [200, 201, 202, 301, 302, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503]
)
async def test_statuses_relayed(gateway_for: GatewayFactory, status: int) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text="s", headers={"Location": "/elsewhere"})

    gw = await gateway_for(handler, "/s")
    resp = await gw.client.get("/s", allow_redirects=False)
    assert resp.status == status
    assert await resp.text() == "s"


@pytest.mark.parametrize("status", [204, 304])
async def test_no_body_statuses(gateway_for: GatewayFactory, status: int) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"ETag": '"v1"'})

    gw = await gateway_for(handler, "/n")
    resp = await gw.client.get("/n")
    assert resp.status == status
    assert await resp.read() == b""
    assert resp.headers["ETag"] == '"v1"'


async def test_head_keeps_content_length(gateway_for: GatewayFactory) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1234)

    gw = await gateway_for(handler, "/f")
    resp = await gw.client.head("/f")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == "1234"
    assert await resp.read() == b""


async def test_compressed_body_passes_byte_for_byte(gateway_for: GatewayFactory) -> None:
    payload = gzip.compress(b'{"a": 1}' * 100)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=payload, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    gw = await gateway_for(handler, "/z")
    resp = await gw.client.get("/z", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert await resp.read() == payload


async def test_chunked_response_arrives_in_chunks(gateway_for: GatewayFactory) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/plain"
        await resp.prepare(request)
        await resp.write(b"first;")
        await release.wait()
        await resp.write(b"second")
        await resp.write_eof()
        return resp

    gw = await gateway_for(handler, "/c")
    resp = await gw.client.get("/c")
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in resp.headers
    first = await asyncio.wait_for(resp.content.readexactly(6), 5)
    assert first == b"first;"  # observed while the upstream is still sending
    release.set()
    assert await resp.content.read() == b"second"


async def test_large_upload_and_download_stream(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    size = 64 * 1024 * 1024
    received: list[int] = []

    async def upload(request: web.Request) -> web.Response:
        total = 0
        async for chunk in request.content.iter_chunked(1 << 20):
            total += len(chunk)
        received.append(total)
        return web.Response(text=str(total))

    async def download(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = size
        await resp.prepare(request)
        block = b"y" * (1 << 20)
        for _ in range(size // len(block)):
            await resp.write(block)
        return resp

    async def body() -> AsyncIterator[bytes]:
        block = b"x" * (1 << 20)
        for _ in range(size // len(block)):
            yield block

    app = web.Application()
    app.router.add_post("/up", upload)
    app.router.add_get("/down", download)
    gw = await make_gateway(await upstream_app(app))
    resp = await gw.client.post("/up", data=body())
    assert await resp.text() == str(size)
    resp = await gw.client.get("/down")
    assert resp.headers["Content-Length"] == str(size)
    total = 0
    async for chunk in resp.content.iter_chunked(1 << 20):
        total += len(chunk)
    assert total == size


async def test_upstream_unreachable_is_502(
    make_gateway: GatewayFactory, unused_tcp_port: int
) -> None:
    gw = await make_gateway(f"http://127.0.0.1:{unused_tcp_port}")
    resp = await gw.client.get("/x")
    assert resp.status == 502
    error = (await resp.json())["error"]
    assert error["code"] == "upstream_unavailable"
    assert error["request_id"] == resp.headers["X-Request-Id"]


async def test_upstream_slow_headers_is_504(gateway_for: GatewayFactory) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    gw = await gateway_for(slow, "/slow", upstream_timeout=0.3)
    resp = await gw.client.get("/slow")
    assert resp.status == 504
    assert (await resp.json())["error"]["code"] == "upstream_timeout"


async def test_slow_body_after_headers_is_not_cut(gateway_for: GatewayFactory) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(3):
            await asyncio.sleep(0.3)
            await resp.write(b"tick ")
        return resp

    gw = await gateway_for(trickle, "/t", upstream_timeout=0.5)
    resp = await gw.client.get("/t")
    assert await resp.read() == b"tick tick tick "  # 0.9 s in total: no total timeout


async def test_upstream_reset_mid_body_is_not_a_complete_response(
    gateway_for: GatewayFactory,
) -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 1000
        await resp.prepare(request)
        await resp.write(b"x" * 100)
        assert request.transport is not None
        request.transport.abort()
        return resp

    gw = await gateway_for(broken, "/b")
    resp = await gw.client.get("/b")
    # small body: nothing was sent yet, so the gateway can still say what happened
    assert resp.status == 502
    assert (await resp.json())["error"]["code"] == "upstream_unavailable"


async def test_upstream_reset_mid_stream_cuts_the_client_off(gateway_for: GatewayFactory) -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 10_000_000
        await resp.prepare(request)
        await resp.write(b"x" * 300_000)
        await asyncio.sleep(0.1)
        assert request.transport is not None
        request.transport.abort()
        return resp

    gw = await gateway_for(broken, "/b")
    resp = await gw.client.get("/b")
    assert resp.status == 200  # headers were already relayed
    with pytest.raises(aiohttp.ClientPayloadError):  # ...so the body must not look whole
        await resp.read()


async def test_client_disconnect_mid_stream_leaves_no_stuck_tasks(
    gateway_for: GatewayFactory,
) -> None:
    finished = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            while True:
                await resp.write(b"z" * 1024)
                await asyncio.sleep(0.01)
        except (ConnectionError, asyncio.CancelledError):
            finished.set()
            raise
        return resp

    gw = await gateway_for(endless, "/e")
    before = len(asyncio.all_tasks())
    resp = await gw.client.get("/e")
    await resp.content.readexactly(2048)
    resp.close()
    await asyncio.wait_for(finished.wait(), 5)  # the upstream side was torn down too
    await asyncio.sleep(0.1)
    assert len(asyncio.all_tasks()) <= before + 1


@pytest.mark.parametrize(
    ("path", "upstream_path"),
    [
        ("//api///v1/./x", "/api/v1/x"),
        ("/api/v1/%2e%2e/v1/x", "/api/v1/x"),
        ("/api/v2/../v1/x/", "/api/v1/x/"),
        ("/%61pi/v1/x", "/api/v1/x"),
    ],
)
async def test_normalised_path_goes_upstream(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp, path: str, upstream_path: str
) -> None:
    gw = await make_gateway(await upstream_app(echo_app()))
    answer = await raw_http(gw.client.port, get_request(path))
    assert answer.startswith(b"HTTP/1.1 200")
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert orjson.loads(body)["path"] == upstream_path


@pytest.mark.parametrize("path", ["/api%2Fv1", "/api%5cv1", "/api%00x"])
async def test_encoded_separators_refused(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp, path: str
) -> None:
    gw = await make_gateway(await upstream_app(echo_app()))
    answer = await raw_http(gw.client.port, get_request(path))
    assert answer.startswith(b"HTTP/1.1 400")
    assert orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "bad_request"


async def test_content_length_with_transfer_encoding_refused(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    gw = await make_gateway(await upstream_app(echo_app()))
    request = (
        b"POST /x HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"
    )
    answer = await raw_http(gw.client.port, request)
    assert answer.split(b" ", 2)[1] == b"400"
    body = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "bad_request"  # the gateway's shape, not a parser dump


async def test_sse_events_arrive_before_the_stream_ends(gateway_for: GatewayFactory) -> None:
    release = asyncio.Event()

    async def events(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"event: a\ndata: one\n\n")
        await release.wait()
        await resp.write(b"data: two\n\n")
        return resp

    gw = await gateway_for(events, "/events")
    resp = await gw.client.get("/events", headers=bearer("admin"))
    first = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 5)
    assert first == b"event: a\ndata: one\n\n"
    release.set()
    assert await resp.content.read() == b"data: two\n\n"


async def test_websocket_echo_both_ways(gateway_for: GatewayFactory) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat.v1",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str("echo:" + msg.data)
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(b"echo:" + msg.data)
        return ws

    gw = await gateway_for(ws_handler, "/ws")
    async with gw.client.ws_connect("/ws", protocols=("chat.v1",), headers=bearer("admin")) as ws:
        assert ws.protocol == "chat.v1"
        await ws.send_str("hi")
        assert (await ws.receive_str(timeout=5)) == "echo:hi"
        await ws.send_bytes(b"\x00\x01")
        assert (await ws.receive_bytes(timeout=5)) == b"echo:\x00\x01"
        await ws.close(code=4001, message=b"bye")


async def test_websocket_close_code_from_upstream_is_relayed(gateway_for: GatewayFactory) -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close(code=4003, message=b"go away")
        return ws

    gw = await gateway_for(ws_handler, "/ws")
    async with gw.client.ws_connect("/ws", headers=bearer("admin")) as ws:
        msg = await ws.receive(timeout=5)
        assert msg.type == web.WSMsgType.CLOSE
        assert ws.close_code == 4003
