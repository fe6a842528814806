"""The record stage (`exchange_record.record`) as a plain function: one access line, the request
metrics and the audit event per exchange (SPEC 6), from an exchange on a mocked request."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from gateway.exchange import Exchange
from gateway.exchange_record import CLIENT_GONE, record
from tests.conftest import bearer
from tests.stage_kit import RULES, Logs, decided_exchange, mocked, plan_of, state_of

CONTACT = "/api/contacts/7"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def exchange_on(tmp_path: Path, role: str, target: str = CONTACT) -> tuple[Logs, Exchange]:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", target + "?q=secret", bearer(role))
    return stage, await decided_exchange(request)


async def test_one_access_line_and_one_count_however_often_it_is_called(tmp_path: Path) -> None:
    stage, exchange = await exchange_on(tmp_path, "agent")
    exchange.status = 200
    exchange.tally.upstream_seconds = 0.002
    labels = {"route": "contacts", "role": "agent", "status": "200"}
    before = sample("omnigate_requests_total", **labels)
    record(stage.state, exchange)
    record(stage.state, exchange)  # a second call (a handler's finally) changes nothing
    [line] = stage.access()
    assert line["request_id"] == exchange.request_id
    assert (line["method"], line["route"], line["role"], line["status"]) == (
        "GET",
        "contacts",
        "agent",
        200,
    )
    # PII: the path is logged as the route's template (SPEC 3.10), without its query string
    assert line["path"] == "/api/contacts/{id}" and "secret" not in str(line)
    assert line["sub"] == "user-agent" and line["upstream_ms"] == 2.0
    assert sample("omnigate_requests_total", **labels) == before + 1
    assert stage.audit() == []  # a masked role reveals nothing


async def test_a_client_that_left_unanswered_is_499(tmp_path: Path) -> None:
    stage, exchange = await exchange_on(tmp_path, "agent")
    record(stage.state, exchange)  # status never set: nothing was answered
    assert [line["status"] for line in stage.access()] == [CLIENT_GONE]


async def test_a_request_refused_before_a_decision_has_no_route(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", "/api/contacts/7?q=1")
    exchange = Exchange(request, "rid-1")
    exchange.status = 401
    exchange.tally.token_failure = "expired"
    before = sample("omnigate_token_failures_total", reason="expired")
    record(stage.state, exchange)
    [line] = stage.access()
    assert (line["route"], line["role"], line["sub"], line["path"]) == (
        "-",
        "-",
        None,
        "/api/contacts/{id}",  # PII: SPEC 3.10, the matching route's template, not the id
    )
    assert sample("omnigate_token_failures_total", reason="expired") == before + 1


async def test_an_unmasked_role_on_a_masked_route_is_audited(tmp_path: Path) -> None:
    stage, exchange = await exchange_on(tmp_path, "admin")
    exchange.status = 200
    exchange.tally.revealed = 3
    record(stage.state, exchange)
    [event] = stage.audit()
    assert event["event"] == "reveal"
    assert (event["sub"], event["role"], event["route"], event["values_revealed"]) == (
        "user-admin",
        "admin",
        "contacts",
        3,
    )


async def test_an_unmasked_role_elsewhere_is_not_audited(tmp_path: Path) -> None:
    stage, exchange = await exchange_on(tmp_path, "admin", "/elsewhere")
    exchange.status = 200
    record(stage.state, exchange)
    assert stage.audit() == []


@pytest.mark.parametrize(
    ("field", "value", "metric", "labels"),
    [
        # a masked body failed closed
        ("fail_closed", "too_large", "omnigate_fail_closed_total", {"reason": "too_large"}),
        # the gateway closed a masked stream
        ("stream_closed", "transform", "omnigate_streams_closed_total", {"reason": "transform"}),
    ],
)
async def test_tally_reasons_are_counted(
    tmp_path: Path, field: str, value: str, metric: str, labels: dict[str, str]
) -> None:
    stage, exchange = await exchange_on(tmp_path, "agent")
    exchange.status = 502
    setattr(exchange.tally, field, value)
    before = sample(metric, **labels)
    record(stage.state, exchange)
    assert sample(metric, **labels) == before + 1


async def test_masked_values_and_stream_items_are_counted(tmp_path: Path) -> None:
    stage, exchange = await exchange_on(tmp_path, "agent")
    exchange.status = 200
    exchange.tally.outcome.masked[("contacts", "phone")] += 2
    exchange.tally.stream_items[("sse", "masked")] += 4
    masked = {"route": "contacts", "mask": "phone"}
    items = {"kind": "sse", "action": "masked"}
    before = (
        sample("omnigate_values_masked_total", **masked),
        sample("omnigate_stream_items_total", **items),
    )
    record(stage.state, exchange)
    assert sample("omnigate_values_masked_total", **masked) == before[0] + 2
    assert sample("omnigate_stream_items_total", **items) == before[1] + 4
    assert stage.access()[0]["masked"] == 2


async def test_a_webhook_delivery_is_counted_by_channel_and_outcome(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "POST", "/webhooks/whatsapp")
    exchange = await decided_exchange(request)
    exchange.status = 200
    exchange.tally.webhook_outcome = "no_identity"
    labels = {"channel": "whatsapp", "outcome": "no_identity"}
    before = (
        sample("omnigate_webhooks_total", **labels),
        sample("omnigate_identity_failures_total", channel="whatsapp"),
    )
    record(stage.state, exchange)
    assert sample("omnigate_webhooks_total", **labels) == before[0] + 1
    assert sample("omnigate_identity_failures_total", channel="whatsapp") == before[1] + 1
    [line] = stage.access()
    assert (line["route"], line["role"]) == ("webhook:whatsapp", "-")


async def test_the_logged_path_is_remembered_per_plan_never_shared_across_plans(
    tmp_path: Path,
) -> None:
    unmatched = state_of(plan_of(tmp_path / "a"), tmp_path / "a")
    # a reload that adds a route for the path: its template is logged from then on
    routed = (
        RULES
        + """
  - name: later
    match: { path: "/unmatched/{who}/{n}" }
"""
    )
    matched = state_of(plan_of(tmp_path / "b", routed), tmp_path / "b")
    logged = []
    for stage in (unmatched, unmatched, matched, unmatched):
        request = mocked(stage.state, "GET", "/unmatched/jane@example.com/42", bearer("agent"))
        exchange = await decided_exchange(request)
        exchange.status = 200
        record(stage.state, exchange)
        logged.append(stage.access()[-1]["path"])
    # PII: remembered or not, the email is redacted on every request where no route matches
    assert logged == [
        "/unmatched/{redacted}/42",
        "/unmatched/{redacted}/42",
        "/unmatched/{who}/{n}",
        "/unmatched/{redacted}/42",
    ]
