"""The client-facing application: one catch-all route into the proxy pipeline.

Resources live in `cleanup_ctx`: the pooled upstream session and the rule watcher open before the
listener accepts and close after it drains.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import cast

from aiohttp import web

from gateway.client_upstream import make_session
from gateway.errors import HttpRefusal
from gateway.rules_reload import retire, watch_rules
from gateway.tracing import traced_handler, upstream_class
from gateway.web_errors import render_error
from gateway.web_expect import expect_handler
from gateway.web_proxy import proxy_handler
from gateway.web_request import request_id_of
from gateway.web_runner import CATCH_ALL, RENDER_HTTP_ERROR, Handler
from gateway.web_state import STATE, GatewayState


def build_app(state: GatewayState, *, watch: bool = True) -> web.Application:
    # Bodies are streamed, never read whole by aiohttp: client_max_size does not apply to them.
    # auto_decompress=False: request bodies pass upstream exactly as sent, with their own
    # Content-Encoding; the write guard decodes a copy when it must look inside.
    app = web.Application(
        handler_args={
            "max_field_size": 16 * 1024,
            "max_line_size": 16 * 1024,
            "auto_decompress": False,
        },
    )
    app[STATE] = state
    app[RENDER_HTTP_ERROR] = render_http_error  # by GatewayRunner's gate, not a middleware
    app.cleanup_ctx.append(_upstream_session)
    app.cleanup_ctx.append(_masking_pool)
    if watch:
        app.cleanup_ctx.append(_rule_watcher)
        app.cleanup_ctx.append(_log_flusher)
    # With tracing off (the default) these are `handle` and `Upstream` themselves.
    handler = traced_handler(proxy_handler(state))
    app.router.add_route("*", "/{tail:.*}", handler, expect_handler=expect_handler)
    # the app's one route, which the gate calls without the router (with the web.Request objects
    # the app's request factory makes, as the router would)
    app[CATCH_ALL] = cast(Handler, handler)
    return app


def render_http_error(exc: web.HTTPException, request: web.BaseRequest) -> web.StreamResponse:
    """aiohttp's own answers (no route for `OPTIONS *`, a bad `Expect`) in the SPEC 6 shape."""
    error = HttpRefusal(exc.reason or "bad request", exc.status)
    return render_error(error, request_id_of(request))


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    session = make_session(state.settings.upstream_timeout)
    upstream = upstream_class()
    state.upstream = upstream(state.settings.upstream, session, state.settings.upstream_timeout)
    if state.plan is not None:
        await state.plan.auth.start(session)
    yield
    for retired in list(state.retired):
        await retire(state, retired)
    if state.plan is not None:
        await state.plan.auth.close()
    await session.close()
    state.upstream = None


async def _masking_pool(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    state.masking_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omnigate-mask")
    yield
    state.masking_pool.shutdown(wait=True)
    state.masking_pool = None


async def _rule_watcher(app: web.Application) -> AsyncIterator[None]:
    async with watch_rules(app[STATE]):
        yield


async def _log_flusher(app: web.Application) -> AsyncIterator[None]:
    """Access lines are buffered; this bounds how long one waits when traffic stops."""

    async def flush_forever() -> None:
        while True:
            await asyncio.sleep(1.0)
            app[STATE].access_log.flush()

    task = asyncio.create_task(flush_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    app[STATE].access_log.flush()
