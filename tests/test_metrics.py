"""Metrics (SPEC 6): every counter exists from start-up with its known labels at zero, the reload
gauge and the build info are exported, and /metrics speaks OpenMetrics when asked to."""

from __future__ import annotations

import contextlib
import io
import platform
import re
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY

from gateway import __version__, metrics
from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.web_admin import build_admin_app
from gateway.web_state import GatewayState
from tests.conftest import OMNICHANNEL_RULES, loopback_settings

GATEWAY = Path(__file__).resolve().parents[1] / "gateway"
RULES = (
    OMNICHANNEL_RULES
    + """
webhooks:
  - { channel: whatsapp, path: /webhooks/whatsapp, secret_env: META_APP_SECRET }
routes:
  - name: primed-contacts
    match: { path: "/primed/{id}" }
    response: [ { path: "$.phone", mask: phone }, { path: "$.email", mask: email } ]
"""
)


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(RULES))
    return tmp_path


def _value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        # fail-closed reasons: the first 502 unmaskable_response must be an increase from 0
        ("omnigate_fail_closed_total", {"reason": "transform"}),
        ("omnigate_fail_closed_total", {"reason": "too_large"}),
        # token failures by reason
        ("omnigate_token_failures_total", {"reason": "expired"}),
        ("omnigate_token_failures_total", {"reason": "missing"}),
        # reload outcomes: the first failed reload must alert
        ("omnigate_rule_reloads_total", {"outcome": "failure"}),
        ("omnigate_rule_reloads_total", {"outcome": "success"}),
        # webhooks by configured channel and outcome
        ("omnigate_webhooks_total", {"channel": "whatsapp", "outcome": "bad_signature"}),
        ("omnigate_webhooks_total", {"channel": "whatsapp", "outcome": "stamped"}),
        # identities stamped by configured channel and kind, and in API responses
        ("omnigate_identities_stamped_total", {"channel": "whatsapp", "kind": "phone"}),
        ("omnigate_identities_stamped_total", {"channel": "api", "kind": "response"}),
        ("omnigate_identity_failures_total", {"channel": "whatsapp"}),
        # values masked by configured route and the masks it uses
        ("omnigate_values_masked_total", {"route": "primed-contacts", "mask": "phone"}),
        ("omnigate_values_masked_total", {"route": "primed-contacts", "mask": "email"}),
        # the route's latency histograms
        ("omnigate_request_duration_seconds_count", {"route": "primed-contacts"}),
        # masked streams
        ("omnigate_streams_closed_total", {"reason": "event_too_large"}),
        ("omnigate_stream_items_total", {"kind": "websocket", "action": "dropped"}),
    ],
)
def test_prime_creates_the_known_series_at_zero(
    plan_dir: Path, name: str, labels: dict[str, str]
) -> None:
    metric = next(m for m in REGISTRY.collect() if name.startswith(m.name))
    family = _FAMILIES[metric.name]
    with contextlib.suppress(KeyError):  # prometheus-client < 0.21 raises for an absent child
        family.remove(*labels.values())  # as if no event had happened in this process yet
    metrics.child.cache_clear()
    assert _value(name, **labels) is None
    metrics.prime(load_plan(plan_dir))
    assert _value(name, **labels) == 0.0


_FAMILIES = {
    "omnigate_fail_closed": metrics.FAIL_CLOSED,
    "omnigate_token_failures": metrics.TOKEN_FAILURES,
    "omnigate_rule_reloads": metrics.RULE_RELOADS,
    "omnigate_webhooks": metrics.WEBHOOKS,
    "omnigate_identities_stamped": metrics.IDENTITIES_STAMPED,
    "omnigate_identity_failures": metrics.IDENTITY_FAILURES,
    "omnigate_values_masked": metrics.VALUES_MASKED,
    "omnigate_request_duration_seconds": metrics.REQUEST_SECONDS,
    "omnigate_streams_closed": metrics.STREAMS_CLOSED,
    "omnigate_stream_items": metrics.STREAM_ITEMS,
}


def test_prime_makes_a_fresh_series_zero_and_leaves_counted_ones(plan_dir: Path) -> None:
    plan = load_plan(plan_dir)
    # a label value first seen here: after prime it exists, at zero
    fresh = {"route": "primed-contacts", "mask": "email"}
    metrics.VALUES_MASKED.remove(*fresh.values())
    metrics.child.cache_clear()
    assert _value("omnigate_values_masked_total", **fresh) is None
    metrics.prime(plan)
    assert _value("omnigate_values_masked_total", **fresh) == 0.0
    # priming again (a reload) does not reset what was counted
    metrics.child(metrics.VALUES_MASKED, *fresh.values()).inc(3)
    metrics.prime(plan)
    assert _value("omnigate_values_masked_total", **fresh) == 3.0


def test_build_info_names_the_running_versions(plan_dir: Path) -> None:
    metrics.prime(load_plan(plan_dir))
    labels = {
        "version": __version__,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }
    assert _value("omnigate_build_info", **labels) == 1.0


@pytest.mark.parametrize(
    ("pattern", "folders", "known"),
    [
        # every fail-closed reason the code raises or sets is primed
        (
            r'(?:UnmaskableResponse\(\s*"[^"]*",\s*(?:reason=)?|fail_closed = )"(\w+)"\)?$',
            (".",),
            metrics.FAIL_CLOSED_REASONS,
        ),
        # ... set beside a stream's close reason
        (r'fail_closed = "\w+", "(\w+)"', (".",), metrics.FAIL_CLOSED_REASONS),
        # ... and the fail-closed reasons of the whole-body stage, passed as arguments
        (r'_refuse\(policy, "[^"]*", "(\w+)"', (".",), metrics.FAIL_CLOSED_REASONS),
        # every token failure reason
        (r'reason="(\w+)"', ("auth",), metrics.TOKEN_FAILURE_REASONS),
        # every webhook outcome the channels report, and those the glue sets
        (r'^[A-Z_]+ = "(\w+)"  #', ("channels",), metrics.WEBHOOK_OUTCOMES),
        (r'webhook_outcome = "(\w+)"', (".",), metrics.WEBHOOK_OUTCOMES),
        # every reason a masked stream is closed for
        (r'stream_closed(?:, tally\.fail_closed)? = "(\w+)"', (".",), metrics.STREAM_CLOSE_REASONS),
    ],
)
def test_the_primed_labels_cover_what_the_code_counts(
    pattern: str, folders: tuple[str, ...], known: tuple[str, ...]
) -> None:
    found: set[str] = set()
    for folder in folders:
        for path in (GATEWAY / folder).glob("*.py"):
            found.update(re.findall(pattern, path.read_text(), re.MULTILINE))
    assert found, "the pattern no longer finds anything: update it"
    assert found <= set(known)


async def _admin(
    plan_dir: Path,
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
) -> TestClient[web.Request, web.Application]:
    settings = loopback_settings(yarl.URL("http://127.0.0.1:9"), plan_dir, max_body=1 << 20)
    state = GatewayState(
        settings=settings,
        access_log=EventLog(io.StringIO(), "json"),
        audit_log=EventLog(io.StringIO(), "json"),
        plan=load_plan(plan_dir),
    )
    metrics.prime(load_plan(plan_dir))
    return await aiohttp_client(build_admin_app(state))


@pytest.mark.parametrize(
    ("accept", "content_type", "ends_with_eof"),
    [
        # no Accept: the Prometheus text format
        (None, "text/plain", False),
        # Prometheus 2.x/3.x asks for OpenMetrics first
        (
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "application/openmetrics-text",
            True,
        ),
        # a scraper that only speaks text
        ("text/plain;version=0.0.4", "text/plain", False),
    ],
)
async def test_metrics_speaks_openmetrics_when_asked(
    plan_dir: Path,
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
    accept: str | None,
    content_type: str,
    ends_with_eof: bool,
) -> None:
    client = await _admin(plan_dir, aiohttp_client)
    headers = {"Accept": accept} if accept else {}
    resp = await client.get("/metrics", headers=headers)
    assert resp.status == 200
    assert resp.content_type == content_type
    text = await resp.text()
    assert text.rstrip().endswith("# EOF") is ends_with_eof
    assert 'omnigate_fail_closed_total{reason="transform"} 0' in text
