"""Per-role masking end to end: real upstream, real tokens, real gateway (SPEC 3.1-3.5)."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import aiohttp
import brotli
import orjson
import pytest
from aiohttp import web

from tests.conftest import (
    MINIMAL_RULES,
    Gateway,
    GatewayFactory,
    UpstreamApp,
    bearer,
    get_request,
    raw_http,
    token,
)

RULES = (
    MINIMAL_RULES
    + """
attributes: { user_name: name, user_number: phone }
routes:
  - name: contact
    match: { method: [GET], path: "/api/v1/accounts/{account_id}/contacts/{id}" }
    response:
      - { path: "$.payload.phone_number", mask: phone }
      - { path: "$.payload.email", mask: email }
      - { path: "$.payload.name", mask: name }
      - { path: "$.payload.custom_attributes", mask: attributes }
      - { path: "$.payload.additional_attributes.notes", mask: text, roles: [agent] }
  - name: messages
    match: { path: "/api/v1/accounts/{account_id}/conversations/{id}/messages" }
    response:
      - { path: "$.payload[*].content", mask: text }
      - { path: "$..sender.phone_number", mask: phone }
  - name: export
    match: { path: "/export.csv" }
    response: [ { path: "$..email", mask: email } ]
  - name: report
    match: { path: "/report.csv" }
    non_json: pass
    response: [ { path: "$..email", mask: email } ]
  - name: stripped
    match: { path: "/strip/{id}" }
    write_guard: strip
    response: [ { path: "$.phone", mask: phone } ]
  - name: unguarded
    match: { path: "/free/{id}" }
    write_guard: "off"
    response: [ { path: "$.phone", mask: phone } ]
"""
)

CONTACT = {
    "payload": {
        "id": 2,
        "name": "Jane Doe",
        "email": "Jane.Doe@Example.com",
        "phone_number": "+1 (415) 555-7890",
        "custom_attributes": {
            "user_name": "Jane Doe",
            "user_number": "919876543210",
            "plan": "pro",
        },
        "additional_attributes": {"notes": "call me on +44 20 7946 0958", "city": "Lisbon"},
    }
}
CONTACT_PATH = "/api/v1/accounts/1/contacts/2"


class Upstream:
    """A real chat API stand-in that records what reached it."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str, dict[str, str], bytes]] = []
        self.responses: dict[str, tuple[int, bytes, dict[str, str]]] = {}

    def set(self, path: str, body: bytes | object, status: int = 200, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {"Content-Type": "application/json", **headers}
        self.responses[path] = (status, raw, {k.replace("_", "-"): v for k, v in headers.items()})

    def app(self) -> web.Application:
        async def handler(request: web.Request) -> web.Response:
            body = await request.read()
            self.hits.append((request.method, request.path, dict(request.headers), body))
            status, raw, headers = self.responses.get(request.path, (200, b"{}", {}))
            return web.Response(status=status, body=raw, headers=headers)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        return app


@pytest.fixture
async def setup(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> tuple[Gateway, Upstream]:
    upstream = Upstream()
    upstream.set(CONTACT_PATH, CONTACT)
    server = await upstream_app(upstream.app())
    gw = await make_gateway(server, RULES, max_body=64 * 1024)
    return gw, upstream


async def get_json(
    gw: Gateway, path: str, role: str = "agent", **kw: Any
) -> tuple[aiohttp.ClientResponse, Any]:
    resp = await gw.client.get(path, headers={**bearer(role), **kw.pop("headers", {})}, **kw)
    return resp, orjson.loads(await resp.read())


async def test_agent_sees_masked_contact(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    resp, body = await get_json(gw, CONTACT_PATH, "agent")
    assert resp.status == 200
    assert body["payload"] == {
        "id": 2,
        "name": "J*** D***",
        "email": "****@example.com",
        "phone_number": "XXX-XXX-7890",
        "custom_attributes": {
            "user_name": "J*** D***",
            "user_number": "XXX-XXX-3210",
            "plan": "pro",
        },
        "additional_attributes": {"notes": "call me on XXX-XXX-0958", "city": "Lisbon"},
    }
    assert resp.headers["Cache-Control"].startswith("private")
    assert "Authorization" in resp.headers["Vary"]
    access = [orjson.loads(line) for line in gw.access.getvalue().splitlines()]
    assert access[-1]["role"] == "agent" and access[-1]["route"] == "contact"
    assert access[-1]["masked"] == 5  # the attributes object counts once
    assert "Jane" not in gw.access.getvalue() and "7890" not in gw.access.getvalue()


async def test_team_manager_rule_roles_apply(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    _, body = await get_json(gw, CONTACT_PATH, "team_manager")
    assert body["payload"]["phone_number"] == "XXX-XXX-7890"
    # the notes rule lists only agent
    assert body["payload"]["additional_attributes"]["notes"] == "call me on +44 20 7946 0958"


async def test_admin_sees_clear_data_and_is_audited(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    resp, body = await get_json(gw, CONTACT_PATH, "admin")
    assert body == CONTACT
    assert resp.headers["Cache-Control"].startswith("private")  # clear data is never shared
    audit = [orjson.loads(line) for line in gw.audit.getvalue().splitlines()]
    assert len(audit) == 1
    event = audit[0]
    assert event["event"] == "reveal" and event["role"] == "admin" and event["route"] == "contact"
    assert event["sub"] == "user-admin" and event["values_revealed"] == 5
    assert event["request_id"] == resp.headers["X-Request-Id"]


async def test_list_role_claim_picks_most_privileged(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    resp = await gw.client.get(
        CONTACT_PATH, headers={"Authorization": f"Bearer {token(['agent', 'admin'])}"}
    )
    assert orjson.loads(await resp.read()) == CONTACT


async def test_missing_token_gets_default_role(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    resp = await gw.client.get(CONTACT_PATH)
    assert orjson.loads(await resp.read())["payload"]["email"] == "****@example.com"


@pytest.mark.parametrize(
    "auth",
    [
        f"Bearer {token('admin', secret='another-secret-another-secret-another')}",  # bad signature
        f"Bearer {token('admin', exp=1)}",  # expired
        "Bearer not.a.token",  # garbage
    ],
)
async def test_invalid_token_is_401_and_never_forwarded(
    setup: tuple[Gateway, Upstream], auth: str
) -> None:
    gw, upstream = setup
    resp = await gw.client.get(CONTACT_PATH, headers={"Authorization": auth})
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert (await resp.json())["error"]["code"] == "invalid_token"
    assert upstream.hits == []


async def test_expect_continue_is_answered_after_the_token_check(
    setup: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = setup
    request = (
        f"PUT {CONTACT_PATH} HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer bad\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    answer = await raw_http(gw.client.port, request, read_timeout=1)
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"100 Continue" not in answer
    assert upstream.hits == []


async def test_expect_continue_with_good_token_proceeds(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    request = (
        f"PUT /api/v1/other HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer {token('agent')}\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
        "Connection: close\r\n\r\n{}"
    ).encode()
    answer = await raw_http(gw.client.port, request)
    assert answer.startswith(b"HTTP/1.1 100 Continue")
    assert b"HTTP/1.1 200" in answer


@pytest.mark.parametrize(
    "path",
    [
        "//api/v1/accounts/1/contacts/2",
        "/api/v1/accounts/1/contacts/2/",
        "/api/v1/accounts/1/./contacts/2",
        "/api/v1/accounts/1/x/../contacts/2",
        "/%61pi/v1/accounts/1/contacts/%32",
        "/api//v1/accounts/1/contacts//2",
        "/api/v1/accounts/1/contacts/2.json",  # Rails format suffix
        "/API/V1/Accounts/1/Contacts/2",  # case-insensitive upstreams
        "/api/v1/accounts/1/contacts;jsessionid=1/2",  # servlet matrix parameters
    ],
)
async def test_path_variants_never_skip_a_rule(setup: tuple[Gateway, Upstream], path: str) -> None:
    gw, upstream = setup
    for alias in (
        "/api/v1/accounts/1/contacts/2/",
        "/api/v1/accounts/1/contacts/2.json",
        "/API/V1/Accounts/1/Contacts/2",
        "/api/v1/accounts/1/contacts;jsessionid=1/2",
    ):
        upstream.set(alias, CONTACT)
    answer = await raw_http(
        gw.client.port, get_request(path, {"Authorization": f"Bearer {token()}"})
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert b"7890" not in body.replace(b"XXX-XXX-7890", b"")
    assert b"Jane" not in body


async def test_error_bodies_are_masked_too(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    upstream.set(
        "/api/v1/accounts/1/conversations/3/messages",
        {"payload": [{"content": "no such user +1 415 555 7890"}]},
        status=404,
    )
    resp, body = await get_json(gw, "/api/v1/accounts/1/conversations/3/messages")
    assert resp.status == 404
    assert body == {"payload": [{"content": "no such user XXX-XXX-7890"}]}


@pytest.mark.parametrize(
    ("path", "raw", "headers", "reason"),
    [
        ("/export.csv", b"email\njane@example.com\n", {"Content-Type": "text/csv"}, "content_type"),
        ("/export.csv", b"{not json", {}, "invalid_json"),
        (
            "/export.csv",
            b'{"email": "jane@example.com"}',
            {"Content-Encoding": "compress"},
            "encoding",
        ),
        ("/export.csv", b"x" * (128 * 1024), {}, "too_large"),
        (
            "/export.csv",
            gzip.compress(b'{"e":"' + b"a" * 200_000 + b'"}'),
            {"Content-Encoding": "gzip"},
            "too_large",
        ),
    ],
)
async def test_fail_closed(
    setup: tuple[Gateway, Upstream], path: str, raw: bytes, headers: dict[str, Any], reason: str
) -> None:
    gw, upstream = setup
    upstream.set(path, raw, **headers)
    resp = await gw.client.get(path, headers=bearer("agent"))
    assert resp.status == 502
    body = await resp.read()
    assert b"jane" not in body
    assert orjson.loads(body)["error"]["code"] == "unmaskable_response"


async def test_non_json_for_admin_passes(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    upstream.set("/export.csv", b"email\njane@example.com\n", Content_Type="text/csv")
    resp = await gw.client.get("/export.csv", headers=bearer("admin"))
    assert resp.status == 200
    assert await resp.read() == b"email\njane@example.com\n"


async def test_non_json_pass_route(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    upstream.set("/report.csv", b"a,b\n", Content_Type="text/csv")
    resp = await gw.client.get("/report.csv", headers=bearer("agent"))
    assert resp.status == 200 and await resp.read() == b"a,b\n"


@pytest.mark.parametrize(
    ("encode", "coding"),
    [(gzip.compress, "gzip"), (brotli.compress, "br")],
)
async def test_compressed_bodies_are_masked_and_regzipped(
    setup: tuple[Gateway, Upstream], encode: Any, coding: str
) -> None:
    gw, upstream = setup
    upstream.set(CONTACT_PATH, encode(orjson.dumps(CONTACT)), Content_Encoding=coding)
    resp = await gw.client.get(CONTACT_PATH, headers={**bearer(), "Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    body = orjson.loads(gzip.decompress(await resp.read()))
    assert body["payload"]["phone_number"] == "XXX-XXX-7890"
    # a client that does not accept gzip gets identity
    resp = await gw.client.get(CONTACT_PATH, headers={**bearer(), "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in resp.headers
    assert orjson.loads(await resp.read())["payload"]["email"] == "****@example.com"


async def test_cdn_cache_headers_are_dropped_on_masked_routes(
    setup: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = setup
    upstream.set(
        CONTACT_PATH, CONTACT, Surrogate_Control="max-age=600", CDN_Cache_Control="max-age=600"
    )
    resp = await gw.client.get(CONTACT_PATH, headers=bearer("admin"))
    assert "Surrogate-Control" not in resp.headers and "CDN-Cache-Control" not in resp.headers


async def test_range_is_dropped_on_masked_routes(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    await gw.client.get(CONTACT_PATH, headers={**bearer(), "Range": "bytes=0-10", "If-Range": "x"})
    sent = upstream.hits[-1][2]
    assert "Range" not in sent and "If-Range" not in sent


@pytest.mark.parametrize("method", ["PUT", "PATCH", "POST"])
async def test_write_guard_rejects_masked_values(
    setup: tuple[Gateway, Upstream], method: str
) -> None:
    gw, upstream = setup
    resp = await gw.client.request(
        method,
        CONTACT_PATH,
        json={"phone_number": "XXX-XXX-7890", "nested": [{"email": "****@example.com"}]},
        headers=bearer("agent"),
    )
    assert resp.status == 422
    error = (await resp.json())["error"]
    assert error["code"] == "masked_value_write"
    assert "$.phone_number" in error["message"] and "$.nested[0].email" in error["message"]
    assert upstream.hits == []


async def test_write_guard_lets_real_values_and_admins_through(
    setup: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = setup
    resp = await gw.client.patch(
        CONTACT_PATH, json={"phone_number": "+14155550000"}, headers=bearer("agent")
    )
    assert resp.status == 200
    resp = await gw.client.patch(
        CONTACT_PATH, json={"phone_number": "XXX-XXX-7890"}, headers=bearer("admin")
    )
    assert resp.status == 200
    assert len(upstream.hits) == 2


async def test_write_guard_strip_and_off(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    upstream.set("/strip/1", {})
    upstream.set("/free/1", {})
    resp = await gw.client.put(
        "/strip/1", json={"phone": "XXX-XXX-1234", "note": "ok"}, headers=bearer()
    )
    assert resp.status == 200
    assert orjson.loads(upstream.hits[-1][3]) == {"note": "ok"}
    resp = await gw.client.put("/free/1", json={"phone": "XXX-XXX-1234"}, headers=bearer())
    assert resp.status == 200
    assert orjson.loads(upstream.hits[-1][3]) == {"phone": "XXX-XXX-1234"}


async def test_unmatched_routes_are_untouched(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    raw = b'{"phone_number": "+14155557890",   "x": 1.50}'
    upstream.set("/api/v1/profile", raw)
    resp = await gw.client.get("/api/v1/profile", headers=bearer())
    assert await resp.read() == raw
    assert "Cache-Control" not in resp.headers


async def test_masked_sse_events_arrive_as_sent(gateway_for: GatewayFactory) -> None:
    release = asyncio.Event()

    async def live(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(
            b'event: m\r\ndata: {"payload": [{"content": "call 415 555 7890"}]}\r\n\r\n'
        )
        await release.wait()
        await resp.write(b"data: mail jane@example.com\n\n")
        return resp

    gw = await gateway_for(live, "/api/v1/accounts/1/conversations/1/messages", RULES)
    resp = await gw.client.get("/api/v1/accounts/1/conversations/1/messages", headers=bearer())
    first = await asyncio.wait_for(resp.content.readuntil(b"\r\n\r\n"), 5)
    assert first == b'event: m\r\ndata: {"payload":[{"content":"call XXX-XXX-7890"}]}\r\n\r\n'
    release.set()
    assert await resp.content.read() == b"data: mail ****@example.com\n\n"


async def test_masked_websocket_frames(gateway_for: GatewayFactory) -> None:
    async def cable(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        inner = {"event": "message.created", "sender": {"phone_number": "+1 415 555 7890"}}
        await ws.send_str(
            orjson.dumps({"identifier": "x", "message": orjson.dumps(inner).decode()}).decode()
        )
        await ws.send_bytes(b"+14155557890")
        await ws.send_str("plain jane@example.com")
        async for msg in ws:
            await ws.send_str("got " + msg.data)
        return ws

    gw = await gateway_for(cable, "/api/v1/accounts/1/conversations/1/messages", RULES)
    async with gw.client.ws_connect(
        "/api/v1/accounts/1/conversations/1/messages", headers=bearer()
    ) as ws:
        first = orjson.loads(await ws.receive_str(timeout=5))
        # JSON nested as a string (ActionCable) is masked by the route's rules, and stays a string
        assert orjson.loads(first["message"]) == {
            "event": "message.created",
            "sender": {"phone_number": "XXX-XXX-7890"},
        }
        # the binary frame is dropped on a masked route
        assert await ws.receive_str(timeout=5) == "plain ****@example.com"
        await ws.send_str("+14155557890")  # client -> upstream passes as it is
        assert await ws.receive_str(timeout=5) == "got XXX-XXX-7890"


async def test_websocket_upgrade_checks_the_token(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    app = web.Application()
    gw = await make_gateway(await upstream_app(app), RULES)
    resp = await gw.client.get(
        "/api/v1/accounts/1/conversations/1/messages",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Authorization": "Bearer bad",
        },
    )
    assert resp.status == 401


async def test_oversized_body_under_the_write_guard_is_413(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    big = {"notes": "x" * (70 * 1024)}  # the fixture's --max-body is 64 KiB
    resp = await gw.client.put(CONTACT_PATH, json=big, headers=bearer("agent"))
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"
    assert upstream.hits == []


async def test_missing_token_rejected_when_configured(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    rules = RULES.replace("role_claim: role }", "role_claim: role }\n  missing_token: reject")
    upstream = Upstream()
    upstream.set(CONTACT_PATH, CONTACT)
    gw = await make_gateway(await upstream_app(upstream.app()), rules)
    resp = await gw.client.get(CONTACT_PATH)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "missing_token"
    resp = await gw.client.get(CONTACT_PATH, headers=bearer("agent"))
    assert resp.status == 200


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {"X-HTTP-Method-Override": "GET"}),  # override header
        ("?_method=get", {}),  # Rails query parameter
        ("", {"Content-Type": "application/x-www-form-urlencoded"}),  # may carry a _method field
    ],
)
async def test_method_override_cannot_skip_a_get_only_route(
    setup: tuple[Gateway, Upstream], query: str, headers: dict[str, Any]
) -> None:
    gw, _ = setup
    resp = await gw.client.post(
        CONTACT_PATH + query, data=b"_method=get", headers={**bearer(), **headers}
    )
    body = await resp.read()
    assert b"7890" not in body.replace(b"XXX-XXX-7890", b"")
    assert b"Jane" not in body


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"phone_number": "XXX-XXX-7890"}', None),  # no Content-Type at all
        (b'{"phone_number": "XXX-XXX-7890"}', "text/plain"),  # JSON sent as text
        (b'\xef\xbb\xbf{"phone_number": "XXX-XXX-7890"}', "application/json"),  # BOM
        (b'{"phone_number": "XXX-XXX-7890", "n": NaN}', "application/json"),  # lenient JSON
        (b"phone_number=XXX-XXX-7890&note=hi", "application/x-www-form-urlencoded"),  # form
    ],
)
async def test_write_guard_reads_what_lenient_upstreams_read(
    setup: tuple[Gateway, Upstream], body: bytes, content_type: str | None
) -> None:
    gw, upstream = setup
    headers = {**bearer(), **({"Content-Type": content_type} if content_type else {})}
    resp = await gw.client.patch(
        CONTACT_PATH, data=body, headers=headers, skip_auto_headers=["Content-Type"]
    )
    assert resp.status == 422
    form = content_type == "application/x-www-form-urlencoded"
    expected = "form.phone_number" if form else "$.phone_number"  # SPEC 3.5 path names
    assert expected in (await resp.json())["error"]["message"]
    assert upstream.hits == []


async def test_head_on_a_masked_route_does_not_describe_the_clear_body(
    setup: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = setup
    upstream.set(CONTACT_PATH, CONTACT, ETag='"clear-v1"')
    resp = await gw.client.head(CONTACT_PATH, headers=bearer())
    assert resp.status == 200
    assert "ETag" not in resp.headers
    assert resp.headers.get("Content-Length") in (None, "0")


async def test_sse_with_bom_and_bare_json_strings_is_masked(gateway_for: GatewayFactory) -> None:
    async def live(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'\xef\xbb\xbfdata: "call +1 415 555 7890"\n\n')
        return resp

    gw = await gateway_for(live, "/api/v1/accounts/1/conversations/1/messages", RULES)
    resp = await gw.client.get("/api/v1/accounts/1/conversations/1/messages", headers=bearer())
    assert await resp.read() == b'data: "call XXX-XXX-7890"\n\n'


async def test_repeated_form_fields_are_all_guarded(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    resp = await gw.client.patch(
        CONTACT_PATH,
        data=b"phone=XXX-XXX-0132&phone=ok",
        headers={**bearer(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 422
    assert upstream.hits == []


@pytest.mark.parametrize("depth", [990, 1500])
async def test_deeply_nested_json_fails_closed(setup: tuple[Gateway, Upstream], depth: int) -> None:
    gw, upstream = setup
    upstream.set("/export.csv", b"[" * depth + b"]" * depth)
    resp = await gw.client.get("/export.csv", headers=bearer())
    assert resp.status == 502
    assert (await resp.json())["error"]["code"] == "unmaskable_response"


@pytest.mark.parametrize("carrier", ["cookie", "query"])
async def test_tokens_from_cookies_and_query(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp, carrier: str
) -> None:
    rules = RULES.replace(
        "role_claim: role }",
        "role_claim: role, token_from: [header, 'cookie:session', 'query:access_token'] }",
    )
    upstream = Upstream()
    upstream.set(CONTACT_PATH, CONTACT)
    gw = await make_gateway(await upstream_app(upstream.app()), rules)
    if carrier == "cookie":
        resp = await gw.client.get(CONTACT_PATH, headers={"Cookie": f"session={token('admin')}"})
    else:
        resp = await gw.client.get(CONTACT_PATH + f"?access_token={token('admin')}")
    assert orjson.loads(await resp.read()) == CONTACT  # admin: clear
    vary = resp.headers["Vary"]
    assert "Authorization" in vary and "Cookie" in vary


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accounts/1/contacts/2#frag",  # a fragment is never part of the resource
        "/api/v1/accounts/1/x/..;/contacts/2",  # servlet dot-segment with parameters
        "/api/v1/accounts/1/x/%2e%2e;/contacts/2",  # the same, encoded
    ],
)
async def test_more_path_variants_never_skip_a_rule(
    setup: tuple[Gateway, Upstream], path: str
) -> None:
    gw, _ = setup
    answer = await raw_http(
        gw.client.port, get_request(path, {"Authorization": f"Bearer {token()}"})
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert b"Jane" not in body and b"7890" not in body.replace(b"XXX-XXX-7890", b"")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"phone_number": "XXX-XXX-7890" /* note */}', "application/json"),  # comments
        (b'{"phone_number": "XXX-XXX-7890",}', "application/json"),  # trailing comma
        (b'{"phone_number": "XXX-XXX-7890", "x": "\xff"}', "application/json"),  # invalid UTF-8
        (b'{"phone_number": "XXX-XXX-7890"}', "text/x-json"),  # Rails reads it as JSON
        (
            b'--b\r\nContent-Disposition: form-data; name="phone_number"\r\n\r\nXXX-XXX-7890\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),  # a multipart text field
    ],
)
async def test_write_guard_reads_lenient_bodies(
    setup: tuple[Gateway, Upstream], body: bytes, content_type: str
) -> None:
    gw, upstream = setup
    resp = await gw.client.patch(
        CONTACT_PATH, data=body, headers={**bearer(), "Content-Type": content_type}
    )
    assert resp.status == 422
    assert upstream.hits == []


async def test_compressed_request_bodies_pass_as_sent(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    seen: list[tuple[str | None, bytes]] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Content-Encoding"), await request.content.read()))
        return web.json_response({})

    app = web.Application(handler_args={"auto_decompress": False})  # see the bytes as sent
    app.router.add_post("/upload", receive)
    gw = await make_gateway(await upstream_app(app), RULES)
    payload = gzip.compress(b'{"a": 1}')
    resp = await gw.client.post(
        "/upload", data=payload, headers={**bearer(), "Content-Encoding": "gzip"}
    )
    assert resp.status == 200
    assert seen == [("gzip", payload)]


async def test_conditional_headers_are_dropped_for_masked_roles(
    setup: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = setup
    conditionals = {
        "If-None-Match": '"guess"',
        "If-Modified-Since": "Sun, 01 Jan 2026 00:00:00 GMT",
    }
    await gw.client.get(CONTACT_PATH, headers={**bearer("agent"), **conditionals})
    assert not {"If-None-Match", "If-Modified-Since"} & set(upstream.hits[-1][2])
    await gw.client.get(CONTACT_PATH, headers={**bearer("admin"), **conditionals})
    assert {"If-None-Match", "If-Modified-Since"} <= set(upstream.hits[-1][2])


async def test_aiohttp_own_answers_use_the_error_shape(setup: tuple[Gateway, Upstream]) -> None:
    gw, _ = setup
    answer = await raw_http(
        gw.client.port, b"OPTIONS * HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
    )
    body = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert set(body["error"]) == {"code", "message", "request_id"}


async def test_bare_json_string_body_is_chat_text(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    upstream.set(CONTACT_PATH, b'"call me on +1 415 555 7890"')
    resp = await gw.client.get(CONTACT_PATH, headers=bearer())
    assert await resp.read() == b'"call me on XXX-XXX-7890"'


async def test_several_content_types_fail_closed(gateway_for: GatewayFactory) -> None:
    async def double(request: web.Request) -> web.Response:
        resp = web.Response(body=orjson.dumps(CONTACT))
        resp.headers.add("Content-Type", "text/event-stream")
        resp.headers.add("Content-Type", "application/json")  # browsers take the last one
        return resp

    gw = await gateway_for(double, CONTACT_PATH, RULES)
    resp = await gw.client.get(CONTACT_PATH, headers=bearer())
    assert resp.status == 502
    assert b"Jane" not in await resp.read()


async def test_utf16_json_is_masked_and_labelled_utf8(setup: tuple[Gateway, Upstream]) -> None:
    gw, upstream = setup
    upstream.set(
        CONTACT_PATH,
        orjson.dumps(CONTACT).decode().encode("utf-16"),
        Content_Type="application/json; charset=utf-16",
    )
    resp = await gw.client.get(CONTACT_PATH, headers=bearer())
    if resp.status == 200:  # readable: masked and re-labelled
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        assert b"7890" not in (await resp.read()).replace(b"XXX-XXX-7890", b"")
    else:  # or not readable: failed closed
        assert resp.status == 502


@pytest.mark.parametrize(
    ("body", "content_type", "path"),
    [
        (b'"XXX-XXX-1234"', "application/json", "/strip/1"),  # the body is a masked value
        (b'{"phone": "XXX-XXX-1234"}', "application/x-www-form-urlencoded", CONTACT_PATH),
        (
            b'--b\r\nContent-Disposition: form-data; name="doc"\r\nContent-Type: application/json'
            b'\r\n\r\n{"phone": "XXX-XXX-1234"}\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
            CONTACT_PATH,
        ),  # a JSON part of a multipart body
    ],
)
async def test_write_guard_refuses_what_it_cannot_strip(
    setup: tuple[Gateway, Upstream], body: bytes, content_type: str, path: str
) -> None:
    gw, upstream = setup
    upstream.set(path, {})
    resp = await gw.client.put(path, data=body, headers={**bearer(), "Content-Type": content_type})
    assert resp.status == 422
    assert upstream.hits == []


async def test_unsupported_expect_is_417_in_the_error_shape(
    setup: tuple[Gateway, Upstream],
) -> None:
    gw, _ = setup
    request = (
        f"PUT {CONTACT_PATH} HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\nExpect: teapot\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    answer = await raw_http(gw.client.port, request, read_timeout=1)
    assert answer.startswith(b"HTTP/1.1 417")
    assert orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "bad_request"


async def test_two_different_session_cookies_are_refused(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp
) -> None:
    rules = RULES.replace(
        "role_claim: role }", "role_claim: role, token_from: ['cookie:session'] }"
    )
    upstream = Upstream()
    upstream.set(CONTACT_PATH, CONTACT)
    gw = await make_gateway(await upstream_app(upstream.app()), rules)
    cookie = f"session={token('agent')}; session={token('admin')}"
    resp = await gw.client.get(CONTACT_PATH, headers={"Cookie": cookie})
    assert resp.status == 401
    assert upstream.hits == []
