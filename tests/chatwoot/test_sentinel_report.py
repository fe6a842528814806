"""The rules/chatwoot pack measured by the residual sentinel (SPEC 3.9, issue 12 item 2).

With the sentinel in `report` mode and known values on, every fixture an agent receives must
produce zero findings: a finding is a phone or email the pack's rules left in the clear.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from gateway.auth import Caller
from gateway.rules_plan import Plan, load_plan
from gateway.sentinel import SentinelSettings
from tests.chatwoot import fixtures
from tests.chatwoot.test_pack import PACK

DOCUMENTS = fixtures.documents()


@pytest.fixture(autouse=True)
def _pack_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import JWT_SECRET

    monkeypatch.setenv("CHATWOOT_GATEWAY_JWT_SECRET", JWT_SECRET)


@pytest.fixture
def reporting_plan() -> Plan:
    """The pack as shipped, with the top-level sentinel switched to `report`."""
    plan = load_plan(PACK)
    assert plan.residual is not None
    settings = dataclasses.replace(plan.residual.settings, action="report")
    residual = dataclasses.replace(plan.residual, settings=settings, known_values=True)
    routes = tuple(
        dataclasses.replace(
            route,
            sentinel=None
            if route.sentinel is None
            else dataclasses.replace(route.sentinel, action="report"),
        )
        for route in plan.routes
    )
    return dataclasses.replace(plan, residual=residual, routes=routes)


@pytest.mark.parametrize(("request_line", "body"), DOCUMENTS, ids=[r for r, _ in DOCUMENTS])
def test_the_sentinel_finds_nothing_the_pack_left(
    reporting_plan: Plan, request_line: str, body: Any
) -> None:
    method, target = request_line.split(" ", 1)
    policy = reporting_plan.policy(method, target.split("?")[0], Caller("agent", True, "t", True))
    # Parsed as the gateway parses a body (a fixture may share one object in two places).
    masked = policy.masker.mask(json.loads(json.dumps(body)))
    assert policy.masker.residual is not None
    assert policy.masker.residual.action == "report"
    assert not masked.tally.findings  # (route, kind, action) of each residual finding


def test_report_mode_would_see_a_leak() -> None:
    """The measurement above can fail: a phone under a key the pack does not know is found."""
    plan = load_plan(PACK)
    assert plan.residual is not None
    settings = SentinelSettings(action="report")
    residual = dataclasses.replace(plan.residual, settings=settings)
    plan = dataclasses.replace(plan, residual=residual)
    policy = plan.policy("GET", "/api/v1/accounts/1/contacts/11", Caller("agent", True, "t", True))
    masked = policy.masker.mask({"payload": {"id": 11, "new_field": "+1 415 555 7890"}})
    assert sum(masked.tally.findings.values()) == 1
    assert masked.document["payload"]["new_field"] == "+1 415 555 7890"  # report: forwarded as is
