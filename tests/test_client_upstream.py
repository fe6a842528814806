"""The upstream head deadline (`client_upstream.HeadDeadlines`): one loop timer for every send in
flight, each send still cancelled at its own deadline, and only its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from gateway.client_upstream import HeadDeadlines, Upstream, arrived_body, make_session, read_whole
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


async def _answer_in_parts(request: web.Request) -> web.StreamResponse:
    """`/whole`: 5 bytes with the head; `/late`: the last bytes 0.2 s after the head;
    `/cut`: announces 10 bytes, sends 5 and closes the connection."""
    if request.path == "/whole":
        return web.Response(body=b"hello")
    response = web.StreamResponse()
    response.content_length = 10 if request.path == "/cut" else 7
    await response.prepare(request)
    await response.write(b"hello")
    await asyncio.sleep(0.2)
    if request.path == "/cut":
        assert request.transport is not None
        request.transport.close()
        return response
    await response.write(b"!!")
    await response.write_eof()
    return response


# Each row: (path, seconds after the head, what arrived_body gives then, what read_whole gives).
ARRIVED_ROWS: list[tuple[str, float, bytes | None, bytes | str]] = [
    ("/whole", 0.05, b"hello", b"hello"),  # arrived with its head: from the buffer, no wait
    ("/late", 0.05, None, b"hello!!"),  # still coming: None, and read_whole waits for the rest
    ("/cut", 0.05, None, "upstream_unavailable"),  # will end short: read_whole's error
    ("/cut", 0.4, None, "upstream_unavailable"),  # has ended short: not a body, the same error
]


@pytest.mark.parametrize(("path", "wait", "arrived", "whole"), ARRIVED_ROWS)
async def test_arrived_body(
    path: str, wait: float, arrived: bytes | None, whole: bytes | str
) -> None:
    app = web.Application()
    app.router.add_get("/{tail:.*}", _answer_in_parts)
    async with TestServer(app) as server:
        session = make_session(1.0)
        try:
            upstream = Upstream(yarl.URL(str(server.make_url("/"))), session, 1.0)
            response = await upstream.send("GET", upstream.url_for(path, ""), CIMultiDict(), None)
            await asyncio.sleep(wait)  # whatever came with the head (or after it) is in
            assert arrived_body(response) == arrived
            if arrived is not None:
                assert response.connection is None  # released to the pool at the body's end
                return
            try:
                got: bytes | str = await read_whole(response)
            except GatewayError as exc:
                got = exc.code
            assert got == whole
        finally:
            await session.close()


def test_upstream_urls_are_remembered_and_bounded() -> None:
    upstream = Upstream(yarl.URL("http://up.test:8080/api/"), None, 1.0)  # type: ignore[arg-type]
    first = upstream.url_for("/a b", "x=%2F")
    assert str(first) == "http://up.test:8080/api/a b?x=%2F"  # encoded=True: sent as given
    assert upstream.url_for("/a b", "x=%2F") is first  # built once per (path, query)
    assert str(upstream.url_for("/a b", "x=1")) == "http://up.test:8080/api/a b?x=1"
    for n in range(2000):  # targets come from clients: the memory of them stays bounded
        assert str(upstream.url_for(f"/{n}", "")) == f"http://up.test:8080/api/{n}"
    assert len(upstream._urls) <= 1024
