"""The gate's direct call of the app's catch-all route: only for requests aiohttp's router would
certainly send there, and answered exactly as through the router."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.web_runner import _routes_to_catch_all
from tests.conftest import GatewayFactory, raw_http, token


async def _answer(request: web.Request) -> web.Response:
    return web.Response(text="routed")


def _catch_all_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _answer)  # the gateway's one route (web_app)
    return app


# Each row: (target, extra headers, taken directly?).
DIRECT_ROWS: list[tuple[str, dict[str, str], bool]] = [
    ("/contacts/7?x=1", {}, True),  # the common request: the router would match it
    ("//a/../b;c", {}, True),  # odd but %-free: `.*` matches it too
    ("/a%0Ab", {}, False),  # a decoded line break fails the route's `.*`: the router's 404
    ("/contacts?q=%41", {}, False),  # any `%` takes the router's way (it decodes first)
    ("/contacts", {"Expect": "100-continue"}, False),  # the app's expect handler runs first
]


@pytest.mark.parametrize(("target", "headers", "direct"), DIRECT_ROWS)
def test_routes_to_catch_all(target: str, headers: dict[str, str], direct: bool) -> None:
    request = make_mocked_request("GET", target, headers)
    assert _routes_to_catch_all(request, target) is direct


PATH_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="%?#")


@settings(max_examples=5, deadline=None)
@given(paths=st.lists(st.text(PATH_CHARS, max_size=30), min_size=40, max_size=40))
async def test_the_router_sends_every_direct_request_to_the_catch_all(paths: list[str]) -> None:
    # The claim `_routes_to_catch_all` rests on, checked against aiohttp's own parser and router
    # (a real server: the parser builds a request's URL unlike `make_mocked_request`).
    routed = 0
    async with TestServer(_catch_all_app()) as server:
        for path in paths:
            target = "/" + path
            assert _routes_to_catch_all(make_mocked_request("GET", "/", {}), target)
            request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            answer = await raw_http(server.port, request.encode())
            if answer.startswith(b"HTTP/1.0 400 "):  # refused by the parser: never routed
                continue
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"routed"), target
            routed += 1
    assert routed >= len(paths) // 2  # most targets reach the router: the check checks


# Each row: (raw target, expected status through the gateway, which way it took).
ANSWER_ROWS = [
    ("/contacts/7", 200, "direct"),  # proxied
    ("/a%0Ab", 404, "router"),  # the router finds no route: the SPEC 6 JSON 404, as before
    ("/%63ontacts/7", 200, "router"),  # decoded by the router, proxied as before
]


@pytest.mark.parametrize(("target", "status", "way"), ANSWER_ROWS)
async def test_answers_are_the_routers(
    make_gateway: GatewayFactory,
    upstream_app: Any,
    target: str,
    status: int,
    way: str,
) -> None:
    upstream = web.Application()
    upstream.router.add_route("*", "/{tail:.*}", _answer)
    gw = await make_gateway(await upstream_app(upstream))
    request = (
        f"GET {target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n"
        f"Authorization: Bearer {token('agent')}\r\n\r\n"
    ).encode()
    answer = await raw_http(gw.client.port, request)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert (b"routed" in answer) is (status == 200)
    if status == 404:  # aiohttp's own 404, in the SPEC 6 shape (`web_app.render_http_error`)
        assert b'{"error":{"code":"bad_request","message":"Not Found"' in answer
