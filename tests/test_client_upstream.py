"""The upstream head deadline (`client_upstream.HeadDeadlines`): one loop timer for every send in
flight, each send still cancelled at its own deadline, and only its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from gateway.client_upstream import HeadDeadlines, Upstream, make_session
from gateway.errors import GatewayError


@contextlib.asynccontextmanager
async def upstream_for(
    answer: Callable[[web.Request], Awaitable[web.Response]],
) -> AsyncIterator[Upstream]:
    """An `Upstream` (head timeout 0.3 s) in front of a loopback server answering with `answer`."""
    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    async with TestServer(app) as server:
        session = make_session(1.0)
        try:
            yield Upstream(yarl.URL(str(server.make_url("/"))), session, 0.3)
        finally:
            await session.close()


async def test_each_task_is_cancelled_at_its_own_deadline_by_one_timer() -> None:
    deadlines = HeadDeadlines(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    ended: dict[str, float] = {}

    async def wait(name: str, finish_after: float | None) -> None:
        task = asyncio.current_task()
        assert task is not None
        deadlines.watch(task)
        try:
            await asyncio.sleep(finish_after if finish_after is not None else 10)
        except asyncio.CancelledError:
            assert deadlines.release(task)  # cancelled because its deadline passed
            ended[name] = loop.time() - started
            return
        assert not deadlines.release(task)
        ended[name] = -1.0  # finished in time

    first = asyncio.create_task(wait("quick", 0.05))  # done well before its deadline
    await asyncio.sleep(0.1)
    second = asyncio.create_task(wait("stuck", None))  # its deadline: 0.1 + 0.2
    third = asyncio.create_task(wait("stuck too", None))
    await asyncio.gather(first, second, third)
    assert ended["quick"] == -1.0
    # the timer was armed for the first send (0.2) and re-armed for the stuck ones: never
    # cancelled before their own deadline (0.3 at the earliest; a timer may fire 1 ms early)
    assert ended["stuck"] >= 0.299 and ended["stuck too"] >= 0.299
    assert deadlines.release(second) is False  # nothing is kept once released


async def test_a_slow_upstream_times_out_a_prompt_one_beside_it_does_not() -> None:
    async def answer(request: web.Request) -> web.Response:
        if request.path == "/slow":
            await asyncio.sleep(5)
        return web.Response(text="ok")

    async with upstream_for(answer) as upstream:

        async def fetch(path: str) -> str:
            try:
                response = await upstream.send(
                    "GET", upstream.url_for(path, ""), CIMultiDict(), None
                )
            except GatewayError as exc:
                return exc.code
            async with response:
                return await response.text()

        slow = asyncio.create_task(fetch("/slow"))
        await asyncio.sleep(0.1)
        assert await fetch("/fast") == "ok"  # sent after the slow one, answered first
        assert await slow == "upstream_timeout"


async def test_a_client_that_goes_away_is_a_cancellation_not_a_timeout() -> None:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    async with upstream_for(answer) as upstream:
        task = asyncio.create_task(
            upstream.send("GET", upstream.url_for("/x", ""), CIMultiDict(), None)
        )
        await asyncio.sleep(0.05)
        task.cancel()  # as aiohttp does when the client's connection is lost
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the send was not cancelled")
        assert upstream.deadlines.release(task) is False  # not counted as expired
