"""The demo as `omnigate demo` runs it: the demo API behind the real gateway with rules/examples.

Checks the promises docs/demo.md makes: each role's view, masked chat text, fail-closed CSV, the
write-back guard, masked SSE events and ActionCable frames, and one customer across channels.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yarl
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner

from gateway.demo import make_demo_app
from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.settings import Listen, Settings
from gateway.web_app import build_app
from gateway.web_runner import GatewayRunner
from gateway.web_state import GatewayState

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "examples"
DEMO_ENV = {
    "OMNIGATE_JWT_SECRET": "demo-jwt-secret-change-me-in-production",
    "OMNIGATE_HASH_KEY": "demo-hash-key",
    "OMNIGATE_ID_SECRET": "demo-id-secret",
    "META_APP_SECRET": "demo-meta-secret",
}
A = "/api/v1/accounts/1"
JANE_OMNI_ID = "omni_zvhuqtfdxkmtbzwukbloa5bh6h"  # phone:+14155550132 under demo-id-secret
WAIT = 5.0

# The demo's fixed JWT secret is shorter than RFC 7518 recommends; it is public anyway.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


class _GatewayServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return GatewayRunner(self.app, **kwargs)


def auth(role: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": f"demo-{role}", "role": role, "iat": now, "exp": now + 600}
    return {
        "Authorization": "Bearer "
        + jwt.encode(claims, DEMO_ENV["OMNIGATE_JWT_SECRET"], algorithm="HS256")
    }


@pytest.fixture
async def gateway(aiohttp_client: Any, aiohttp_server: Any) -> TestClient[Any, Any]:
    upstream = await aiohttp_server(make_demo_app(live_interval=None))
    settings = Settings(
        upstream=yarl.URL(str(upstream.make_url("/"))),
        listen=Listen("127.0.0.1", 0),
        admin_listen=Listen("127.0.0.1", 0),
        rules=EXAMPLES,
        workers=1,
        upstream_timeout=5.0,
        max_body=16 * 1024 * 1024,
        log_format="json",
        audit_log="-",
    )
    state = GatewayState(
        settings=settings,
        access_log=EventLog(io.StringIO(), "json"),
        audit_log=EventLog(io.StringIO(), "json"),
        plan=load_plan(EXAMPLES, DEMO_ENV),
    )
    client: TestClient[Any, Any] = await aiohttp_client(
        _GatewayServer(build_app(state, watch=False))
    )
    return client


async def test_each_role_sees_contact_one_as_documented(gateway: TestClient[Any, Any]) -> None:
    views = {}
    for role in ("admin", "team_manager", "agent"):
        resp = await gateway.get(f"{A}/contacts/1", headers=auth(role))
        assert resp.status == 200
        views[role] = (await resp.json())["payload"]
    assert views["admin"]["phone_number"] == "+14155550132"
    for role in ("team_manager", "agent"):
        view = views[role]
        assert (view["name"], view["email"], view["phone_number"]) == (
            "J*** D***",
            "****@example.com",
            "XXX-XXX-0132",
        )
        assert view["additional_attributes"]["description"] == (
            "Lived in London, old number XXX-XXX-0958"
        )
    assert views["team_manager"]["identifier"] == "cus_4f9c2a7d1e"
    assert views["agent"]["identifier"] == "h_d4099411731b40aa"
    assert {v["omni_customer_id"] for v in views.values()} == {JANE_OMNI_ID}
    anonymous = await gateway.get(f"{A}/contacts/1")  # no token: the default role, agent
    assert (await anonymous.json())["payload"] == views["agent"]


async def test_chat_text_is_masked(gateway: TestClient[Any, Any]) -> None:
    resp = await gateway.get(f"{A}/conversations/1/messages", headers=auth("agent"))
    contents = [m["content"] for m in (await resp.json())["payload"]]
    assert "my number is XXX-XXX-0132, or mail me at ****@example.com" in contents
    assert "Hi! My order #123456789 hasn't arrived yet." in contents


async def test_csv_export_fails_closed_for_masked_roles(gateway: TestClient[Any, Any]) -> None:
    for role in ("agent", "team_manager"):
        resp = await gateway.get(f"{A}/contacts/export.csv", headers=auth(role))
        assert resp.status == 502
        assert (await resp.json())["error"]["code"] == "unmaskable_response"
    resp = await gateway.get(f"{A}/contacts/export.csv", headers=auth("admin"))
    assert resp.status == 200 and resp.content_type == "text/csv"


async def test_masked_values_are_not_written_back(gateway: TestClient[Any, Any]) -> None:
    resp = await gateway.put(
        f"{A}/contacts/1",
        headers=auth("agent"),
        json={"name": "Jane Doe", "phone_number": "XXX-XXX-0132"},
    )
    assert resp.status == 422
    assert (await resp.json())["error"]["code"] == "masked_value_write"
    resp = await gateway.patch(
        f"{A}/contacts/1", headers=auth("agent"), json={"custom_attributes": {"plan": "enterprise"}}
    )
    assert resp.status == 200
    assert (await resp.json())["payload"]["phone_number"] == "XXX-XXX-0132"
    clear = await (await gateway.get(f"{A}/contacts/1", headers=auth("admin"))).json()
    assert clear["payload"]["phone_number"] == "+14155550132"
    assert clear["payload"]["custom_attributes"]["plan"] == "enterprise"


async def test_live_sse_events_are_masked(gateway: TestClient[Any, Any]) -> None:
    async with gateway.get(f"{A}/live", headers=auth("agent")) as stream:
        assert stream.status == 200
        await gateway.post(
            f"{A}/conversations/1/messages",
            headers=auth("admin"),
            json={"content": "call +44 20 7946 0958", "message_type": "incoming"},
        )
        data = None
        while data is None:
            line = (await asyncio.wait_for(stream.content.readline(), WAIT)).decode()
            assert line, "stream ended"
            if line.startswith("data:"):
                data = json.loads(line.removeprefix("data:"))
    assert data["content"] == "call XXX-XXX-0958"
    assert data["sender"]["phone_number"] == "XXX-XXX-0132"


async def test_cable_frames_are_masked(gateway: TestClient[Any, Any]) -> None:
    identifier = '{"channel":"RoomChannel","pubsub_token":"demo"}'
    async with gateway.ws_connect("/cable", headers=auth("agent")) as ws:
        assert json.loads((await asyncio.wait_for(ws.receive(), WAIT)).data)["type"] == "welcome"
        await ws.send_str(json.dumps({"command": "subscribe", "identifier": identifier}))
        confirm = json.loads((await asyncio.wait_for(ws.receive(), WAIT)).data)
        assert confirm == {"identifier": identifier, "type": "confirm_subscription"}
        await gateway.post(
            f"{A}/conversations/1/messages",
            headers=auth("admin"),
            json={"content": "mail jane.doe@example.com", "message_type": "incoming"},
        )
        frame = await asyncio.wait_for(ws.receive(), WAIT)
        while frame.type is WSMsgType.TEXT and json.loads(frame.data).get("type") == "ping":
            frame = await asyncio.wait_for(ws.receive(), WAIT)
    broadcast = json.loads(frame.data)
    assert broadcast["message"]["data"]["content"] == "mail ****@example.com"
    assert broadcast["message"]["data"]["sender"]["name"] == "J*** D***"


async def test_one_customer_across_channels(gateway: TestClient[Any, Any]) -> None:
    crm = json.dumps({"customer": {"mobile": "(415) 555-0132"}}).encode()
    resp = await gateway.post(
        "/webhooks/crm", data=crm, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    whatsapp = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "contacts": [
                                    {"profile": {"name": "Jane Doe"}, "wa_id": "14155550132"}
                                ],
                                "messages": [
                                    {
                                        "from": "14155550132",
                                        "id": "wamid.1",
                                        "timestamp": "1",
                                        "type": "text",
                                        "text": {"body": "hi"},
                                    }
                                ],
                            },
                        }
                    ]
                }
            ],
        }
    ).encode()
    signature = hmac.new(DEMO_ENV["META_APP_SECRET"].encode(), whatsapp, hashlib.sha256)
    resp = await gateway.post(
        "/webhooks/whatsapp",
        data=whatsapp,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + signature.hexdigest(),
        },
    )
    assert resp.status == 200
    customers = await (await gateway.get(f"{A}/customers", headers=auth("admin"))).json()
    assert [(c["omni_customer_id"], c["channels"]) for c in customers["payload"]] == [
        (JANE_OMNI_ID, ["crm", "whatsapp"])
    ]


def test_documented_omni_id_is_the_demo_secret_one() -> None:
    digest = hmac.new(
        DEMO_ENV["OMNIGATE_ID_SECRET"].encode(), b"phone:+14155550132", hashlib.sha256
    ).digest()
    assert "omni_" + base64.b32encode(digest).decode().lower()[:26] == JANE_OMNI_ID
