"""The bench's upstream chat API, run in its own process: `python -m bench.upstream PORT`.

Bodies are built once at start; a request costs the upstream as little as aiohttp allows, so the
numbers of the proxies in front of it are not drowned by the upstream's own work.

    GET  /bench/small                                 ~300 B JSON
    GET  /bench/large                                 ~200 KB chat document (fixed texts)
    POST /bench/echo                                  reads the body, answers a small JSON
    GET  /api/v1/accounts/1/conversations/1/messages  realistic chat document, new texts each time
    GET  /api/v1/accounts/1/conversations/2/messages  adversarial chat document, likewise
    GET  /bench/live                                  WebSocket: "next" -> one frame,
                                                      "burst N" -> N frames
"""

from __future__ import annotations

import itertools
import sys

import orjson
from aiohttp import WSMsgType, web

from bench import documents
from bench.processes import install_uvloop

WS_FRAMES = 1_000  # distinct frames a burst cycles through


def build_app() -> web.Application:
    small = documents.small_bytes()
    large = documents.with_variant(documents.messages_bytes("realistic"), 0)
    templates = {
        "1": documents.messages_bytes("realistic"),
        "2": documents.messages_bytes("adversarial"),
    }
    frames = [documents.ws_frame(i) for i in range(WS_FRAMES)]
    counter = itertools.count(1)
    ok = orjson.dumps({"ok": True})

    async def get_small(request: web.Request) -> web.Response:
        return web.Response(body=small, content_type="application/json")

    async def get_large(request: web.Request) -> web.Response:
        return web.Response(body=large, content_type="application/json")

    async def post_echo(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=ok, content_type="application/json")

    async def get_messages(request: web.Request) -> web.Response:
        template = templates.get(request.match_info["id"])
        if template is None:
            raise web.HTTPNotFound()
        body = documents.with_variant(template, next(counter))
        return web.Response(body=body, content_type="application/json")

    async def live(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        index = 0
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            command, _, arg = message.data.partition(" ")
            count = int(arg) if command == "burst" else 1
            variant = next(counter)
            for _ in range(count):
                frame = documents.with_variant(frames[index % WS_FRAMES], variant)
                await ws.send_str(frame.decode())
                index += 1
        return ws

    app = web.Application()
    app.router.add_get("/bench/small", get_small)
    app.router.add_get("/bench/large", get_large)
    app.router.add_post("/bench/echo", post_echo)
    app.router.add_get("/api/v1/accounts/1/conversations/{id}/messages", get_messages)
    app.router.add_get("/bench/fields/{id}/messages", get_messages)  # the same documents
    app.router.add_get("/bench/live", live)
    return app


def main() -> None:
    port = int(sys.argv[1])
    install_uvloop()
    web.run_app(build_app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
