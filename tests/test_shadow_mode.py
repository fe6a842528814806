"""Shadow mode end to end (SPEC 3.11): everything computed and counted, nothing applied."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from gateway import metrics
from gateway.rules_source import RuleLoadError, load_rules
from gateway.web_admin import build_admin_app
from tests.conftest import MINIMAL_RULES, Gateway, GatewayFactory, bearer

CONTACT = {"payload": {"name": "Jane Doe", "phone_number": "+14155557890"}}
RULES = (
    MINIMAL_RULES
    + """
routes:
  - name: contact
    mode: shadow
    match: { path: "/contacts/{id}" }
    response:
      - { path: "$.payload.name", mask: name }
      - { path: "$.payload.phone_number", mask: phone }
  - name: enforced
    match: { path: "/enforced/{id}" }
    response:
      - { path: "$.payload.name", mask: name }
      - { path: "$.payload.phone_number", mask: phone }
"""
)
UpstreamFactory = Callable[[web.Application], Awaitable[TestServer]]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _upstream(upstream_app: UpstreamFactory) -> TestServer:
    async def contact(request: web.Request) -> web.Response:
        return web.json_response(CONTACT)

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="Jane Doe +14155557890", content_type="text/plain")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), content_type="application/json")

    app = web.Application()
    app.router.add_get("/contacts/{id}", contact)
    app.router.add_get("/enforced/{id}", contact)
    app.router.add_get("/contacts/{id}/card", text)
    app.router.add_put("/contacts/{id}", echo)
    return await upstream_app(app)


async def _gateway(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory, rules: str = RULES
) -> Gateway:
    return await make_gateway(await _upstream(upstream_app), rules)


async def test_a_masked_route_in_shadow_returns_clear_bytes_and_counts_the_masks(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    gateway = await _gateway(make_gateway, upstream_app)
    before = sample("omnigate_values_masked_total", route="contact", mask="phone")
    response = await gateway.client.get("/contacts/1", headers=bearer("agent"))
    assert response.status == 200
    assert orjson.loads(await response.read()) == CONTACT  # the upstream's own values
    assert response.headers["Omnigate-Mode"] == "shadow"
    # the masks ran and were counted, as in enforce mode
    assert sample("omnigate_values_masked_total", route="contact", mask="phone") == before + 1


async def test_an_enforced_route_beside_a_shadow_route_still_masks(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    gateway = await _gateway(make_gateway, upstream_app)
    response = await gateway.client.get("/enforced/1", headers=bearer("agent"))
    body = orjson.loads(await response.read())
    assert body == {"payload": {"name": "J*** D***", "phone_number": "XXX-XXX-7890"}}
    assert "Omnigate-Mode" not in response.headers


async def test_top_level_shadow_applies_to_every_route_that_does_not_say_enforce(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    rules = RULES.replace("routes:", "mode: shadow\nroutes:").replace(
        "  - name: enforced\n", "  - name: enforced\n    mode: enforce\n"
    )
    gateway = await _gateway(make_gateway, upstream_app, rules)
    shadowed = await gateway.client.get("/contacts/1", headers=bearer("agent"))
    enforced = await gateway.client.get("/enforced/1", headers=bearer("agent"))
    assert orjson.loads(await shadowed.read()) == CONTACT
    assert orjson.loads(await enforced.read())["payload"]["name"] == "J*** D***"
    assert "Omnigate-Mode" not in enforced.headers
    unmatched = await gateway.client.get("/nowhere", headers=bearer("agent"))
    assert unmatched.headers["Omnigate-Mode"] == "shadow"  # the top-level mode says


async def test_non_json_on_a_shadow_route_passes_and_counts_a_would_be_fail_closed(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    rules = RULES.replace('"/contacts/{id}"', '"/contacts/**"')
    gateway = await _gateway(make_gateway, upstream_app, rules)
    labels = {"route": "contact", "verdict": "fail_closed", "reason": "content_type"}
    before = sample("omnigate_shadow_verdicts_total", **labels)
    fail_closed = sample("omnigate_fail_closed_total", reason="content_type")
    response = await gateway.client.get("/contacts/1/card", headers=bearer("agent"))
    assert response.status == 200
    assert await response.text() == "Jane Doe +14155557890"
    assert response.headers["Omnigate-Mode"] == "shadow"
    assert sample("omnigate_shadow_verdicts_total", **labels) == before + 1
    # no real fail-closed answer was sent: that alert stays quiet
    assert sample("omnigate_fail_closed_total", reason="content_type") == fail_closed


async def test_the_write_guard_in_shadow_forwards_and_counts(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    gateway = await _gateway(make_gateway, upstream_app)
    labels = {"route": "contact", "verdict": "write_refused", "reason": "masked_value"}
    before = sample("omnigate_shadow_verdicts_total", **labels)
    sent = b'{"payload": {"phone_number": "XXX-XXX-7890"}}'
    headers = {**bearer("agent"), "Content-Type": "application/json"}
    response = await gateway.client.put("/contacts/1", data=sent, headers=headers)
    assert response.status == 200  # enforce would answer 422
    assert await response.read() == sent  # forwarded as sent (the upstream echoes it)
    assert sample("omnigate_shadow_verdicts_total", **labels) == before + 1
    # the same write on an enforced path is still refused
    enforced = RULES.replace("    mode: shadow\n", "")
    strict = await _gateway(make_gateway, upstream_app, enforced)
    refused = await strict.client.put("/contacts/1", data=sent, headers=headers)
    assert refused.status == 422


async def test_the_admin_listener_says_the_mode(
    make_gateway: GatewayFactory,
    upstream_app: UpstreamFactory,
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
) -> None:
    gateway = await _gateway(make_gateway, upstream_app)
    admin = await aiohttp_client(build_admin_app(gateway.state))
    ready = await (await admin.get("/readyz")).json()
    rules = await (await admin.get("/rules")).json()
    assert ready == {"status": "ready", "mode": "enforce", "shadow_routes": ["contact"]}
    assert (rules["mode"], rules["shadow_routes"]) == ("enforce", ["contact"])
    # the verdict series of a shadow route exist from start-up (an alert needs a sample)
    assert gateway.state.plan is not None
    metrics.prime(gateway.state.plan)  # what serve does at start and on each reload
    labels = {"route": "contact", "verdict": "write_refused", "reason": "unreadable"}
    assert REGISTRY.get_sample_value("omnigate_shadow_verdicts_total", labels) is not None


async def test_an_unknown_mode_is_a_rule_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(MINIMAL_RULES + "mode: dry-run\n")
    try:
        load_rules(str(path))
    except RuleLoadError as exc:
        assert any("mode" in error for error in exc.errors)
    else:
        raise AssertionError("mode: dry-run was accepted")


async def test_an_event_stream_in_shadow_is_relayed_as_sent_and_counted(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    events = b'data: {"payload": {"name": "Jane Doe"}}\n\ndata: call +1 415 555 7890\n\n'

    async def live(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(events)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/contacts/{id}", live)
    gateway = await make_gateway(await upstream_app(app), RULES)
    before = sample("omnigate_stream_items_total", kind="sse", action="masked")
    response = await gateway.client.get("/contacts/live", headers=bearer("agent"))
    assert await response.read() == events
    assert response.headers["Omnigate-Mode"] == "shadow"
    assert sample("omnigate_stream_items_total", kind="sse", action="masked") == before + 2


async def test_a_body_over_max_body_in_shadow_is_forwarded_whole_and_counted(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    gateway = await make_gateway(await _upstream(upstream_app), RULES, max_body=64)
    labels = {"route": "contact", "verdict": "write_refused", "reason": "too_large"}
    before = sample("omnigate_shadow_verdicts_total", **labels)
    sent = orjson.dumps({"payload": {"notes": "x" * 200}})
    headers = {**bearer("agent"), "Content-Type": "application/json"}
    response = await gateway.client.put("/contacts/1", data=sent, headers=headers)
    assert response.status == 200  # enforce would answer 413
    assert await response.read() == sent
    assert sample("omnigate_shadow_verdicts_total", **labels) == before + 1


async def test_a_role_with_masking_off_has_nothing_to_count_in_shadow(
    make_gateway: GatewayFactory, upstream_app: UpstreamFactory
) -> None:
    gateway = await _gateway(make_gateway, upstream_app)
    labels = {"route": "contact", "verdict": "write_refused", "reason": "masked_value"}
    before = sample("omnigate_shadow_verdicts_total", **labels)
    sent = b'{"payload": {"phone_number": "XXX-XXX-7890"}}'
    headers = {**bearer("admin"), "Content-Type": "application/json"}
    response = await gateway.client.put("/contacts/1", data=sent, headers=headers)
    assert (response.status, await response.read()) == (200, sent)
    assert response.headers["Omnigate-Mode"] == "shadow"
    assert sample("omnigate_shadow_verdicts_total", **labels) == before  # admins are not guarded


async def test_the_gateways_own_error_on_a_shadow_route_says_shadow(
    make_gateway: GatewayFactory,
) -> None:
    gateway = await make_gateway("http://127.0.0.1:9", RULES)  # nothing listens there
    response = await gateway.client.get("/contacts/1", headers=bearer("agent"))
    assert response.status == 502
    assert response.headers["Omnigate-Mode"] == "shadow"
