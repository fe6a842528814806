"""Header rules and the access log's path (SPEC 3.10): unit rows, then through a live gateway."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from gateway.header_rules import builtin_header_rules, mask_headers
from gateway.log_path import log_path
from gateway.masks import MaskContext
from gateway.rules_plan import load_plan
from tests.conftest import MINIMAL_RULES, Gateway, bearer, get_request, raw_http

BUILTIN = builtin_header_rules(MaskContext())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # A phone in a redirect's path segment.
        ("Location", "/contacts/by-phone/+14155557890", "/contacts/by-phone/XXX-XXX-7890"),
        # An email in a query value, percent-encoded.
        (
            "Content-Location",
            "https://api.example.com/search?q=jane%40example.com",
            "https://api.example.com/search?q=****@example.com",
        ),
        # Each URL of a Link.
        (
            "Link",
            '</u/jane@example.com>; rel="author", </app.css>; rel=preload',
            '</u/****@example.com>; rel="author", </app.css>; rel=preload',
        ),
        # The url= of a Refresh.
        ("Refresh", "5; url=/call/+14155557890", "5; url=/call/XXX-XXX-7890"),
        # File names, quoted and RFC 8187.
        (
            "Content-Disposition",
            "attachment; filename=\"jane@example.com.pdf\"; filename*=UTF-8''%2B14155557890.pdf",
            "attachment; filename=\"****@example.com.pdf\"; filename*=UTF-8''XXX-XXX-7890.pdf",
        ),
        # No PII: unchanged.
        ("Location", "/contacts/2", "/contacts/2"),
    ],
)
def test_builtin_header_rules(name: str, value: str, expected: str) -> None:
    headers: CIMultiDict[str] = CIMultiDict({name: value})
    mask_headers(headers, BUILTIN)
    assert headers[name] == expected


RULES = (
    MINIMAL_RULES
    + """
routes:
  - name: contact
    match: { path: "/api/v1/accounts/{account_id}/contacts/{id}" }
    response: [ { path: "$.phone", mask: phone } ]
    headers: [ { name: X-Contact-Email, mask: email } ]
  - name: open
    match: { path: "/open/{id}" }
"""
)


async def _answer(request: web.Request) -> web.StreamResponse:
    return web.json_response(
        {"phone": "+14155557890"},
        headers={
            "Location": "/by-phone/+14155557890",
            "X-Contact-Email": "Jane.Doe@Example.com",
            "Content-Disposition": 'attachment; filename="jane@example.com.csv"',
        },
    )


@pytest.fixture
async def gateway(
    make_gateway: Callable[..., Awaitable[Gateway]],
    upstream_app: Callable[[web.Application], Awaitable[TestServer]],
) -> Gateway:
    app = web.Application()
    app.router.add_get("/{tail:.*}", _answer)
    return await make_gateway(await upstream_app(app), RULES)


async def test_masked_route_masks_headers_for_masked_roles(gateway: Gateway) -> None:
    response = await gateway.client.get("/api/v1/accounts/1/contacts/2", headers=bearer())
    assert response.headers["Location"] == "/by-phone/XXX-XXX-7890"
    assert response.headers["X-Contact-Email"] == "****@example.com"
    assert response.headers["Content-Disposition"] == 'attachment; filename="****@example.com.csv"'
    admin = await gateway.client.get("/api/v1/accounts/1/contacts/2", headers=bearer("admin"))
    assert admin.headers["X-Contact-Email"] == "Jane.Doe@Example.com"  # masking off: clear


async def test_route_without_rules_keeps_headers(gateway: Gateway) -> None:
    response = await gateway.client.get("/open/1", headers=bearer())
    assert response.headers["Location"] == "/by-phone/+14155557890"


def _paths(gw: Gateway) -> list[str]:
    gw.state.access_log.flush()
    return [json.loads(line)["path"] for line in gw.access.getvalue().strip().splitlines()]


async def test_access_log_path_is_the_template_or_redacted(gateway: Gateway) -> None:
    await gateway.client.get("/api/v1/accounts/1/contacts/2", headers=bearer())
    await gateway.client.get("/unmatched/jane@example.com/14155557890/42", headers=bearer())
    assert _paths(gateway) == [
        "/api/v1/accounts/{account_id}/contacts/{id}",  # the matched route's template
        "/unmatched/{redacted}/{redacted}/42",  # an email, a long digit run; 42 stays
    ]


async def test_interim_link_header_is_masked(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    from tests.test_protocol_conformance import RawUpstream

    hints = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </u/jane@example.com>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    async with RawUpstream(hints) as upstream:
        gw = await make_gateway(upstream.url, RULES)
        answer = await raw_http(gw.client.port, get_request("/api/v1/accounts/1/contacts/2"))
    assert b"Link: </u/****@example.com>; rel=preload" in answer
    assert b"jane@" not in answer


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/plain/path/7", "/plain/path/7"),  # nothing to redact
        ("/x/+1%20415%20555%207890", "/x/{redacted}"),  # a percent-encoded phone
        ("/orders/12345678", "/orders/{redacted}"),  # a digit run of 7+
    ],
)
def test_log_path_rows(path: str, logged: str) -> None:
    assert log_path(None, path) == logged


def test_log_path_uses_the_plan_detector(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    plan = load_plan(rules)
    assert log_path(plan, "/a/jane@example.com") == "/a/{redacted}"
    assert log_path(plan, "/open/jane@example.com") == "/open/{id}"
