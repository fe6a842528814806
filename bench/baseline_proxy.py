"""The baseline: the least an aiohttp reverse proxy does. `python -m bench.baseline_proxy PORT URL`

One pooled ClientSession, no decompression, bodies streamed both ways, hop-by-hop headers dropped.
No auth, no routing, no logging: what the gateway costs beyond this is the price of its features.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web

from bench.processes import install_uvloop

HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host"}
SESSION = web.AppKey("session", aiohttp.ClientSession)
UPSTREAM = web.AppKey("upstream", str)


def end_to_end(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP}


async def forward(request: web.Request) -> web.StreamResponse:
    body = request.content if request.body_exists else None
    async with request.app[SESSION].request(
        request.method,
        request.app[UPSTREAM] + request.path_qs,
        headers=end_to_end(request.headers),
        data=body,
        allow_redirects=False,
    ) as upstream:
        response = web.StreamResponse(status=upstream.status, headers=end_to_end(upstream.headers))
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response


async def session_ctx(app: web.Application) -> AsyncIterator[None]:
    app[SESSION] = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
    )
    yield
    await app[SESSION].close()


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2].rstrip("/")
    install_uvloop()
    app = web.Application()
    app[UPSTREAM] = upstream
    app.cleanup_ctx.append(session_ctx)
    app.router.add_route("*", "/{tail:.*}", forward)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
