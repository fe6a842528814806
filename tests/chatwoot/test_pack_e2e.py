"""The Chatwoot pack served by a real gateway in front of a real loopback upstream."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.web_app import build_app
from gateway.web_state import GatewayState
from tests.chatwoot import fixtures
from tests.chatwoot.test_pack import PACK, checked_pii
from tests.conftest import JWT_SECRET, GatewayTestServer, loopback_settings, token

DOCUMENTS = dict(fixtures.documents())
CONTACT = "GET /api/v1/accounts/1/contacts/11"
EMAIL_MESSAGES = "GET /api/v1/accounts/1/conversations/43/messages"
CABLE_FRAME = next(body for request, body in fixtures.documents() if request == "GET /cable")


@pytest.fixture
async def chatwoot(
    monkeypatch: pytest.MonkeyPatch,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> TestClient[Any, Any]:
    """A gateway with rules/chatwoot in front of an upstream answering like Chatwoot."""
    monkeypatch.setenv("CHATWOOT_GATEWAY_JWT_SECRET", JWT_SECRET)

    def answer(request_line: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(DOCUMENTS[request_line])

        return handler

    async def cable(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "welcome"}))
        await ws.send_str(json.dumps(CABLE_FRAME))
        await ws.close()
        return ws

    app = web.Application()
    for request_line in (CONTACT, EMAIL_MESSAGES):
        app.router.add_get(request_line.split(" ", 1)[1], answer(request_line))
    app.router.add_get("/cable", cable)
    upstream = await aiohttp_server(app)
    settings = loopback_settings(
        yarl.URL(str(upstream.make_url("/"))), PACK, max_body=16 * 1024 * 1024
    )
    state = GatewayState(
        settings=settings,
        access_log=EventLog(io.StringIO(), "json"),
        audit_log=EventLog(io.StringIO(), "json"),
        plan=load_plan(PACK),
    )
    return await aiohttp_client(GatewayTestServer(build_app(state, watch=False)))


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role)}"}


def leaked(text: str) -> list[str]:
    return [value for value in checked_pii() if value in text]


async def test_agent_gets_a_masked_contact_and_administrator_the_clear_one(
    chatwoot: TestClient[Any, Any],
) -> None:
    path = CONTACT.split(" ", 1)[1]
    response = await chatwoot.get(path, headers=bearer("agent"))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "private"
    body = await response.text()
    assert not leaked(body)
    contact = json.loads(body)["payload"]
    assert (contact["name"], contact["phone_number"]) == ("P*** S***", "XXX-XXX-3210")

    response = await chatwoot.get(path, headers=bearer("administrator"))
    assert await response.json() == DOCUMENTS[CONTACT]


async def test_an_email_message_reaches_a_supervisor_masked(chatwoot: TestClient[Any, Any]) -> None:
    response = await chatwoot.get(EMAIL_MESSAGES.split(" ", 1)[1], headers=bearer("supervisor"))
    body = await response.json()
    email = body["payload"][0]["content_attributes"]["email"]
    assert email["from"] == ["****@uol.com.br"]
    assert email["subject"] == "Order 4411 - please call XXX-XXX-4321"
    assert body["payload"][1]["sender"]["name"] == fixtures.AGENT["name"]  # the agent's reply
    assert not leaked(json.dumps(body, ensure_ascii=False))


async def test_a_token_without_a_role_gets_the_default_role(chatwoot: TestClient[Any, Any]) -> None:
    response = await chatwoot.get(CONTACT.split(" ", 1)[1])
    assert not leaked(await response.text())


async def test_actioncable_frames_reach_an_agent_masked(chatwoot: TestClient[Any, Any]) -> None:
    # The dashboard's socket cannot send headers: the token rides in the query (00-auth.yaml).
    frames: list[Any] = []
    async with chatwoot.ws_connect(f"/cable?access_token={token('agent')}") as ws:
        async for message in ws:
            frames.append(json.loads(message.data))
    assert frames[0] == {"type": "welcome"}
    event = frames[1]
    assert event["identifier"] == CABLE_FRAME["identifier"]  # JSON text, written back as text
    data = event["message"]["data"]
    assert data["sender"]["name"] == "P*** S***"
    assert data["performer"]["name"] == fixtures.AGENT["name"]
    assert not leaked(json.dumps(frames, ensure_ascii=False))


async def test_writing_a_masked_value_back_is_refused(chatwoot: TestClient[Any, Any]) -> None:
    response = await chatwoot.patch(
        "/api/v1/accounts/1/contacts/11",
        headers=bearer("agent"),
        json={"phone_number": "XXX-XXX-3210"},
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "masked_value_write"
