"""Issue 10 class 4: masked values written back past the guard, against a lenient fake upstream.

Each row is sent twice: straight to the fake upstream, which must store the masked value (the
attempt WOULD overwrite real data without the gateway), then through a real gateway as an agent,
which must answer 422 `masked_value_write` and forward nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp.test_utils import TestServer
from lenient_upstream import CONTACT_PATH, LenientUpstream, holds

from tests.conftest import MINIMAL_RULES, GatewayFactory, bearer

RULES = (
    MINIMAL_RULES
    + """
routes:
  - name: contact
    match: { method: GET, path: "/api/v1/accounts/{account_id}/contacts/{id}" }
    response:
      - { path: "$.payload.phone_number", mask: phone }
      - { path: "$.payload.email", mask: email }
      - { path: "$.payload.name", mask: name }
  - name: cable
    match: { path: "/cable" }
    response:
      - { path: "$.message.phone", mask: phone }
"""
)
PHONE = "XXX-XXX-7890"
B = "multipart/{}; boundary=b"


def part(name: str, value: str, extra: str = "") -> bytes:
    return (
        f'--b\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n{value}\r\n--b--\r\n'
    ).encode()


# Each row: (method, query, Content-Type or None, body). The fake upstream stores PHONE for each.
ATTEMPTS = [
    ("PATCH", "phone_number=" + PHONE, None, b""),  # query only: Rails merges it into params
    ("PUT", "phone_number=" + PHONE, "application/json", b'{"note": "hi"}'),  # query + clean body
    ("POST", "", "application/json, text/plain", b'{"phone_number": "XXX-XXX-7890"}'),  # list
    ("PATCH", "", "application/x-json", b'{"phone_number": "XXX-XXX-7890"}'),
    ("PATCH", "", "application/json-patch+json", b'{"phone_number": "XXX-XXX-7890"}'),
    ("PATCH", "", None, b'{"phone_number": "XXX-XXX-7890"}'),  # no Content-Type
    ("PATCH", "", "application/octet-stream", b'{"phone_number": "XXX-XXX-7890"}'),
    ("PATCH", "", "application/octet-stream", b" " * 200 + b'{"phone_number": "XXX-XXX-7890"}'),
    ("POST", "", B.format("mixed"), part("phone_number", PHONE)),
    ("POST", "", B.format("related"), part("phone_number", PHONE)),
    ("POST", "", B.format("form-data") + "; boundary=c", part("phone_number", PHONE)),  # two
    ("POST", "", B.format("form-data"), part("phone_number", PHONE, '; filename=""')),
    ("PATCH", "", "application/json", b'{"phone_number": "   XXX-XXX-7890  "}'),  # padded
    (
        "PATCH",
        "",
        "application/json",
        b'{"contact": "{\\"phone_number\\": \\"XXX-XXX-7890\\"}"}',
    ),  # a string holding JSON
    (
        "PATCH",
        "",
        "application/json",
        b'{"phone_number": "XXX-XXX-7890", "phone_number": "+14155550000"}',
    ),  # the first of duplicate keys
    ("PATCH", "", "application/json", b'{"phone_number": "\\u0058XX-XXX-7890",}'),  # comma
    ("PATCH", "", "application/json", b'{"phone_number": "\\u0058XX-XXX-7890", "x": "\xff"}'),
    (
        "PATCH",
        "",
        "application/json",
        b'{"phone_number": "\\u0058XX-XXX-7890", "deep": ' + b"[" * 1500 + b"]" * 1500 + b"}",
    ),  # nesting deeper than the gateway's parsers allow
    ("PATCH", "", "application/x-www-form-urlencoded", b"contact[phone_number]=XXX-XXX-7890"),
    ("PATCH", "", "application/x-www-form-urlencoded", b"a=1;phone_number=XXX-XXX-7890"),
]


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    attempt: tuple[str, str, str | None, bytes],
    headers: dict[str, str],
) -> aiohttp.ClientResponse:
    method, query, content_type, body = attempt
    sent = dict(headers)
    if content_type is not None:
        sent["Content-Type"] = content_type
    target = f"{url}{CONTACT_PATH}" + (f"?{query}" if query else "")
    response = await session.request(
        method,
        yarl.URL(target, encoded=True),
        data=body or None,
        headers=sent,
        skip_auto_headers=["Content-Type"],
    )
    await response.read()
    return response


@pytest.fixture
async def lenient(
    upstream_app: Callable[[Any], Awaitable[TestServer]],
) -> tuple[LenientUpstream, TestServer]:
    fake = LenientUpstream()
    return fake, await upstream_app(fake.app())


NAMES = [
    "query-no-body", "query-and-body", "type-list", "x-json", "json-patch", "no-type",
    "octet-stream", "octet-stream-after-spaces", "multipart-mixed", "multipart-related", "two-boundaries", "empty-filename",
    "padded", "json-in-string", "first-duplicate", "escaped-trailing-comma",
    "escaped-invalid-byte", "escaped-too-deep", "nested-form-key", "semicolon-form",
]  # fmt: skip


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=NAMES)
async def test_attempt_would_write_back_and_the_gateway_refuses_it(
    lenient: tuple[LenientUpstream, TestServer],
    make_gateway: GatewayFactory,
    attempt: tuple[str, str, str | None, bytes],
) -> None:
    fake, server = lenient
    async with aiohttp.ClientSession() as session:
        await _send(session, str(server.make_url("")).rstrip("/"), attempt, {})
    assert fake.stored and holds(fake.stored[-1], PHONE), "the fake upstream must be fooled"
    fake.stored.clear()

    gateway = await make_gateway(server, RULES)
    url = str(gateway.client.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        response = await _send(session, url, attempt, bearer("agent"))
        error = (await response.json())["error"]
    assert response.status == 422
    assert error["code"] == "masked_value_write"
    assert fake.stored == []  # nothing was forwarded


async def test_admin_writes_pass_untouched(
    lenient: tuple[LenientUpstream, TestServer], make_gateway: GatewayFactory
) -> None:
    fake, server = lenient
    gateway = await make_gateway(server, RULES)
    url = str(gateway.client.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        response = await _send(session, url, ATTEMPTS[0], bearer("admin"))
    assert response.status == 200 and holds(fake.stored[-1], PHONE)


async def test_binary_uploads_stream_past_the_guard_whatever_their_size(
    lenient: tuple[LenientUpstream, TestServer], make_gateway: GatewayFactory
) -> None:
    fake, server = lenient
    gateway = await make_gateway(server, RULES, max_body=1024)
    upload = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64  # 16 KiB, over --max-body
    response = await gateway.client.put(
        CONTACT_PATH,
        data=upload,
        headers={**bearer("agent"), "Content-Type": "application/octet-stream"},
    )
    assert response.status == 200  # streamed, not buffered (no 413) and not refused
    assert len(fake.environ) == 1  # it reached the upstream


# Each row: a client->upstream WebSocket text frame that writes a masked value back.
FRAMES = [
    '{"command": "message", "data": "{\\"phone\\": \\" XXX-XXX-7890\\"}"}',  # ActionCable
    '{"phone": "\\u0058XX-XXX-7890",}',  # escaped, not strict JSON
    '42["update", {"email": "****@example.com"}]',  # Socket.IO
    "J*** D***",  # a bare text frame
]


async def _frames_through(url: str, headers: dict[str, str], fake: LenientUpstream) -> None:
    async with aiohttp.ClientSession() as session:
        socket = await session.ws_connect(url, headers=headers)
        for frame in ["hello", *FRAMES, "bye"]:
            await socket.send_str(frame)
        await socket.close()
    for _ in range(200):  # the upstream side closes after the relayed close; wait boundedly
        if "bye" in fake.frames:
            return
        await asyncio.sleep(0.01)


async def test_websocket_frames_writing_masked_values_are_dropped(
    lenient: tuple[LenientUpstream, TestServer], make_gateway: GatewayFactory
) -> None:
    fake, server = lenient
    await _frames_through(str(server.make_url("/cable")), {}, fake)
    assert fake.frames == ["hello", *FRAMES, "bye"]  # straight, every frame arrives
    fake.frames.clear()
    gateway = await make_gateway(server, RULES)
    await _frames_through(str(gateway.client.make_url("/cable")), bearer("agent"), fake)
    assert fake.frames == ["hello", "bye"]
    fake.frames.clear()
    await _frames_through(str(gateway.client.make_url("/cable")), bearer("admin"), fake)
    assert fake.frames == ["hello", *FRAMES, "bye"]  # a role without masking writes freely


async def test_websocket_upgrade_query_is_guarded(
    lenient: tuple[LenientUpstream, TestServer], make_gateway: GatewayFactory
) -> None:
    _, server = lenient
    gateway = await make_gateway(server, RULES)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                str(gateway.client.make_url("/cable")) + "?phone=XXX-XXX-7890",
                headers=bearer("agent"),
            )
    assert refused.value.status == 422
