"""Known values and the residual sentinel (SPEC 3.9), end to end through a live gateway.

A real loopback upstream serves one contact-shaped document on many paths; each route of the
rules below sets the sentinel another way, so every action and setting is exercised over HTTP,
SSE and WebSocket, with the metric and the access log checked.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY

from gateway.detect import Detector
from gateway.sentinel import Residual, SentinelSettings
from gateway.transform import Outcome
from tests.conftest import MINIMAL_RULES, Gateway, bearer

RULES = (
    MINIMAL_RULES
    + """
sentinel:
  action: mask
  protect: ["/protected/**"]
  allow: ["+1 800 555 0100", "help@example.com"]
  ignore: ["$.payload.inbox.phone"]
routes:
  - name: contact
    match: { path: "/contacts/{id}" }
    response: &contact
      - { path: "$.payload.name", mask: name }
      - { path: "$.payload.email", mask: email }
      - { path: "$.payload.phone", mask: phone }
      - { path: "$.payload.team_note", mask: text, roles: [team_manager] }
  - name: blocking
    match: { path: "/blocking/{id}" }
    sentinel: { action: block }
    response: *contact
  - name: reporting
    match: { path: "/reporting/{id}" }
    sentinel: { action: report }
    response: *contact
  - name: silent
    match: { path: "/silent/{id}" }
    sentinel: { action: "off" }
    known_values: false
    response: *contact
  - name: stream
    match: { path: "/stream/{id}" }
    response: *contact
"""
)

CONTACT: dict[str, Any] = {
    "payload": {
        "name": "Jane Doe",
        "email": "Jane.Doe@Example.com",
        "phone": "+1 (415) 555-7890",
        "team_note": "Jane prefers jane.doe@example.com",
        "inbox": {"phone": "+1 212 555 0199"},
        "shared": "call us on +1 800 555 0100 or help@example.com",
        "messages": [
            {"content": "Hi, Jane here: reach me at 415.555.7890 or JANE.DOE%40example.com"},
            {"content": "Doe family order 12345, mail jane.doe@example.com"},
            {"content": "new number: +44 20 7946 0958", "from_jane@mail.example.com": 1},
        ],
    }
}


def _upstream_app() -> web.Application:
    async def document(request: web.Request) -> web.StreamResponse:
        return web.json_response(CONTACT)

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: " + orjson.dumps(CONTACT) + b"\n\n")
        await response.write_eof()
        return response

    async def socket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps(CONTACT))
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/stream/sse", events)
    app.router.add_get("/stream/ws", socket)
    app.router.add_get("/protected/plain", _plain)
    app.router.add_get("/{tail:.*}", document)
    return app


async def _plain(request: web.Request) -> web.StreamResponse:
    return web.Response(text="call +1 415 555 7890", content_type="text/plain")


@pytest.fixture
async def gateway(
    make_gateway: Callable[..., Awaitable[Gateway]],
    upstream_app: Callable[[web.Application], Awaitable[TestServer]],
) -> Gateway:
    return await make_gateway(await upstream_app(_upstream_app()), RULES)


async def _get(gw: Gateway, path: str, role: str = "agent") -> tuple[int, Any]:
    response = await gw.client.get(path, headers=bearer(role))
    body = await response.read()
    try:
        return response.status, orjson.loads(body)
    except orjson.JSONDecodeError:
        return response.status, body.decode()


def _findings(route: str, kind: str, action: str) -> float:
    labels = {"route": route, "kind": kind, "action": action}
    return REGISTRY.get_sample_value("omnigate_sentinel_findings_total", labels) or 0.0


def _last_access(gw: Gateway) -> dict[str, Any]:
    gw.state.access_log.flush()
    return dict(json.loads(gw.access.getvalue().strip().splitlines()[-1]))


async def test_known_values_and_mask_action(gateway: Gateway) -> None:
    before = _findings("contact", "phone", "mask")
    status, body = await _get(gateway, "/contacts/1")
    assert status == 200
    payload = body["payload"]
    text = json.dumps({**payload, "team_note": None})
    for clear in ("Jane", "Doe", "415.555.7890", "jane.doe", "JANE.DOE", "7946 0958"):
        assert clear not in text, clear  # PII: nothing of the customer's survives
    # Known values: the name as whole words, the phone in another format, the email in any case
    # and percent-encoded, each with the mask its rule wrote.
    assert payload["messages"][0]["content"] == (
        "Hi, J*** here: reach me at XXX-XXX-7890 or ****@example.com"
    )
    assert payload["messages"][1]["content"] == "D*** family order 12345, mail ****@example.com"
    # The sentinel: a number no rule knows; an address in an object key.
    assert payload["messages"][2] == {
        "content": "new number: XXX-XXX-0958",
        "****@mail.example.com": 1,
    }
    # Not findings: allowed values, ignored paths.
    assert payload["shared"] == "call us on +1 800 555 0100 or help@example.com"
    assert payload["inbox"]["phone"] == "+1 212 555 0199"
    # A rule for team managers only is a deliberate reveal for agents: known values and the
    # sentinel leave it alone.
    assert payload["team_note"] == "Jane prefers jane.doe@example.com"
    assert _findings("contact", "phone", "mask") == before + 1
    assert _last_access(gateway)["sentinel_findings"] == 2  # one phone, one email (the key)


async def test_a_role_the_rule_names_gets_it_masked(gateway: Gateway) -> None:
    _, body = await _get(gateway, "/contacts/1", role="team_manager")
    assert body["payload"]["team_note"] == "J*** prefers ****@example.com"


async def test_admin_sees_everything(gateway: Gateway) -> None:
    _, body = await _get(gateway, "/contacts/1", role="admin")
    assert body == CONTACT


async def test_block_answers_502_residual_pii(gateway: Gateway) -> None:
    labels = {"reason": "residual_pii"}
    before = REGISTRY.get_sample_value("omnigate_fail_closed_total", labels) or 0.0
    status, body = await _get(gateway, "/blocking/1")
    assert status == 502
    assert body["error"]["code"] == "unmaskable_response"
    assert "7946" not in json.dumps(body)
    assert REGISTRY.get_sample_value("omnigate_fail_closed_total", labels) == before + 1


async def test_report_forwards_the_finding_and_counts_it(gateway: Gateway) -> None:
    before = _findings("reporting", "phone", "report")
    status, body = await _get(gateway, "/reporting/1")
    assert status == 200
    assert body["payload"]["messages"][2]["content"] == "new number: +44 20 7946 0958"
    # Known values still apply under report: it is independent of the sentinel.
    assert "Jane" not in body["payload"]["messages"][0]["content"]
    assert _findings("reporting", "phone", "report") == before + 1


async def test_off_and_known_values_false_leave_the_rest(gateway: Gateway) -> None:
    status, body = await _get(gateway, "/silent/1")
    assert status == 200
    assert body["payload"]["name"] == "J*** D***"  # the rules still apply
    assert body["payload"]["messages"] == CONTACT["payload"]["messages"]


async def test_protect_scans_json_on_unmatched_paths(gateway: Gateway) -> None:
    status, body = await _get(gateway, "/protected/anything")
    assert status == 200
    # No rules there: no known values, but the sentinel masks what it detects.
    assert body["payload"]["phone"] == "XXX-XXX-7890"
    assert body["payload"]["email"] == "****@example.com"
    assert body["payload"]["name"] == "Jane Doe"
    # Non-JSON on a protected path passes as before (no rule: nothing to fail closed).
    status, text = await _get(gateway, "/protected/plain")
    assert (status, text) == (200, "call +1 415 555 7890")
    # A path neither matched nor protected passes untouched.
    _, body = await _get(gateway, "/elsewhere")
    assert body == CONTACT


async def test_known_values_and_sentinel_on_sse(gateway: Gateway) -> None:
    response = await gateway.client.get("/stream/sse", headers=bearer())
    raw = (await response.read()).decode()
    event = json.loads(raw.split("data: ", 1)[1])
    assert event["payload"]["messages"][0]["content"] == (
        "Hi, J*** here: reach me at XXX-XXX-7890 or ****@example.com"
    )
    assert event["payload"]["messages"][2]["content"] == "new number: XXX-XXX-0958"


async def test_known_values_and_sentinel_on_websocket(gateway: Gateway) -> None:
    async with gateway.client.ws_connect("/stream/ws", headers=bearer()) as ws:
        message = await ws.receive()
    assert message.type == WSMsgType.TEXT
    frame = json.loads(message.data)
    assert frame["payload"]["messages"][1]["content"] == (
        "D*** family order 12345, mail ****@example.com"
    )
    assert frame["payload"]["messages"][2]["content"] == "new number: XXX-XXX-0958"


# Plain function tests of the residual pass (no gateway).
_DETECTOR = Detector("US")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("XXX-XXX-7890 and ****@example.com", 0),  # mask outputs are not findings
        ("omni_abcdefghijklmnopqrstuvwxyz", 0),  # the gateway's own stamp
        ("h_0123456789abcdef", 0),  # a hash mask output
        ("order 2024-11-29, id 5f3a9c", 0),  # ordinary digits
        ("ring +1 415 555 7890", 1),  # a phone no rule knows
        ("****@example.com,+14155557890", 1),  # a mask output does not hide what follows it
    ],
)
def test_what_counts_as_a_finding(text: str, found: int) -> None:
    residual = Residual("r", SentinelSettings(action="report"), False, _DETECTOR)
    tally = Outcome()
    assert residual.run({"t": text}, tally, [])[0] == {"t": text}
    assert sum(tally.findings.values()) == found


def test_numbers_of_seven_digits_or_more_are_scanned() -> None:
    residual = Residual("r", SentinelSettings(), False, _DETECTOR)
    assert residual.run({"n": 14155557890, "small": 12345}, Outcome(), [])[0] == {
        "n": "XXX-XXX-7890",
        "small": 12345,
    }
