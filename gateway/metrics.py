"""Prometheus metrics (SPEC 6). Correct with several workers via prometheus-client's multiprocess
mode: `web_server` sets PROMETHEUS_MULTIPROC_DIR before any worker imports this module.

Every counter exists from start-up with its known label values at zero (`prime`, at start and on
each reload): `increase()` needs a sample before the first event, or an alert on the first
fail-closed answer or failed reload would never fire.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import aiohttp
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder

from gateway import __version__, shadow_mode

if TYPE_CHECKING:
    from gateway.rules_plan import Plan


class _BeforeCollect:
    """Registered ahead of every metric: each collection of the registry (a scrape, a test's
    `get_sample_value`) first runs `BEFORE_COLLECT` (`request_metrics` writes what it batched)."""

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> list[Any]:
        for step in BEFORE_COLLECT:
            step()
        return []


BEFORE_COLLECT: list[Callable[[], None]] = []
REGISTRY.register(_BeforeCollect())

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "omnigate_requests", "Requests answered, by route, role and status", ["route", "role", "status"]
)
REQUEST_SECONDS = Histogram(
    "omnigate_request_duration_seconds", "Total time per request", ["route"], buckets=BUCKETS
)
UPSTREAM_SECONDS = Histogram(
    "omnigate_upstream_duration_seconds",
    "Time to upstream response headers",
    ["route"],
    buckets=BUCKETS,
)
VALUES_MASKED = Counter("omnigate_values_masked", "Values masked", ["route", "mask"])
FAIL_CLOSED = Counter("omnigate_fail_closed", "Fail-closed answers by reason", ["reason"])
TOKEN_FAILURES = Counter("omnigate_token_failures", "Rejected tokens by reason", ["reason"])
WEBHOOKS = Counter("omnigate_webhooks", "Webhooks by channel and outcome", ["channel", "outcome"])
IDENTITIES_STAMPED = Counter(
    "omnigate_identities_stamped", "Identities stamped by channel and kind", ["channel", "kind"]
)
IDENTITY_FAILURES = Counter(
    "omnigate_identity_failures", "Payloads left unstamped for want of an identity", ["channel"]
)
RULE_RELOADS = Counter("omnigate_rule_reloads", "Rule reloads by outcome", ["outcome"])
STREAM_ITEMS = Counter(
    "omnigate_stream_items",
    "SSE events and WebSocket frames on masked routes, by kind and action",
    ["kind", "action"],
)
STREAMS_CLOSED = Counter(
    "omnigate_streams_closed", "Masked streams closed by the gateway, by reason", ["reason"]
)
SENTINEL_FINDINGS = Counter(
    "omnigate_sentinel_findings",
    "Residual PII the sentinel found after the rules, by route, kind and action",
    ["route", "kind", "action"],
)
# With several workers, the lowest live worker's value: 0 as soon as any one rejected a reload.
RELOAD_OK = Gauge(
    "omnigate_rules_last_reload_successful",
    "1 when the rules last loaded (at start or on reload) were accepted, 0 after a failed reload",
    multiprocess_mode="livemin",
)
BUILD_INFO = Gauge(
    "omnigate_build_info",
    "Always 1; the labels say which omnigate, Python and aiohttp are running",
    ["version", "python", "aiohttp"],
    multiprocess_mode="max",
)

# The label values known before any event. Reasons and outcomes are the gateway's own
# vocabulary (errors.UnmaskableResponse, auth InvalidToken/MissingToken, channels.contract);
# a test keeps these lists in step with the code that counts them.
FAIL_CLOSED_REASONS = (
    "content_type",
    "encoding",
    "invalid_json",
    "too_large",
    "transform",
    "residual_pii",
)
TOKEN_FAILURE_REASONS = (
    "bad_audience",
    "bad_issuer",
    "bad_signature",
    "disallowed_algorithm",
    "expired",
    "iat_in_future",
    "invalid",
    "jwks_unavailable",
    "malformed",
    "missing",
    "missing_exp",
    "not_yet_valid",
    "unknown_kid",
)
RELOAD_OUTCOMES = ("success", "failure")
WEBHOOK_OUTCOMES = (
    "bad_signature",
    "no_identity",
    "passthrough",
    "stamped",
    "stamped_header_only",
    "too_large",
    "unparsable",
)
IDENTITY_KINDS = ("phone", "email")
STREAM_ITEM_KEYS = (
    ("sse", "masked"),
    ("websocket", "masked"),
    ("websocket", "dropped"),
    ("websocket", "write_refused"),
)
STREAM_CLOSE_REASONS = ("event_too_large", "transform", "residual_pii")


@lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """The labelled child of `metric`, looked up once (`labels()` costs a lock and a hash)."""
    return metric.labels(*labels)


def prime(plan: Plan) -> None:
    """Create every series whose labels are known from the code and from `plan`, at zero.

    Called at start and after each accepted reload (new routes, masks and channels); series of
    routes a reload removed stay, frozen, until the process restarts (Prometheus expects that).
    """
    BUILD_INFO.labels(__version__, platform.python_version(), aiohttp.__version__).set(1)
    for reasons, metric in (
        (FAIL_CLOSED_REASONS, FAIL_CLOSED),
        (TOKEN_FAILURE_REASONS, TOKEN_FAILURES),
        (RELOAD_OUTCOMES, RULE_RELOADS),
        (STREAM_CLOSE_REASONS, STREAMS_CLOSED),
    ):
        for reason in reasons:
            child(metric, reason)
    for kind, action in STREAM_ITEM_KEYS:
        child(STREAM_ITEMS, kind, action)
    for route in plan.routes:
        REQUEST_SECONDS.labels(route.name)
        UPSTREAM_SECONDS.labels(route.name)
        for rule in route.rules:
            child(VALUES_MASKED, route.name, rule.mask.name)
        _prime_sentinel(plan, route.name, route.sentinel, bool(route.rules))
    if plan.residual is not None and plan.residual.protect:
        _prime_sentinel(plan, "-", None, True)  # paths only `sentinel.protect` names
    shadow_mode.prime(plan)  # SPEC 3.11: omnigate_shadow_verdicts_total
    if plan.resolver is not None:
        child(IDENTITIES_STAMPED, "api", "response")  # stamps in API responses
    for hook in plan.webhooks.values():
        channel = hook.channel.name
        for outcome in WEBHOOK_OUTCOMES:
            child(WEBHOOKS, channel, outcome)
        for kind in IDENTITY_KINDS:
            child(IDENTITIES_STAMPED, channel, kind)
        child(IDENTITY_FAILURES, channel)


def _prime_sentinel(plan: Plan, route: str, own: Any, guarded: bool) -> None:
    """`omnigate_sentinel_findings_total` of a masked route, at zero for its action (SPEC 3.9)."""
    residual = plan.residual
    if residual is None or not guarded:
        return
    action = (own or residual.settings).action
    if action != "off":
        for kind in IDENTITY_KINDS:
            child(SENTINEL_FINDINGS, route, kind, action)


def render_metrics(accept: str | None = None) -> tuple[bytes, str]:
    """The exposition, aggregated over every worker when there are several; OpenMetrics when
    the scraper's `Accept` asks for it, else the Prometheus text format."""
    encoder, content_type = choose_encoder(accept or "")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return encoder(registry), content_type
    return encoder(REGISTRY), content_type
