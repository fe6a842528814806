"""Prometheus metrics (SPEC 6). Correct with several workers via prometheus-client's multiprocess
mode: `web_server` sets PROMETHEUS_MULTIPROC_DIR before any worker imports this module.

Every counter exists from start-up with its known label values at zero (`prime`, at start and on
each reload): `increase()` needs a sample before the first event, or an alert on the first
fail-closed answer or failed reload would never fire.
"""

from __future__ import annotations

import math
import os
import platform
from bisect import bisect_left
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


class _PendingFlush:
    """Registered ahead of every metric: each collection of the registry (a scrape, a test's
    `get_sample_value`) first writes the request metrics batched since the last one."""

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> list[Any]:
        flush_requests()
        return []


REGISTRY.register(_PendingFlush())

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "omnigate_requests", "Requests answered, by route, role and status", ["route", "role", "status"]
)
REQUEST_SECONDS = Histogram(
    "omnigate_request_duration_seconds", "Total time per request", ["route"], buckets=_BUCKETS
)
UPSTREAM_SECONDS = Histogram(
    "omnigate_upstream_duration_seconds",
    "Time to upstream response headers",
    ["route"],
    buckets=_BUCKETS,
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


# Request metrics (`omnigate_requests_total` and the two duration histograms) are written once
# per request on every path, pass-through included: three locked updates of prometheus-client
# values per request cost more than the rest of the record step. They are added up here in plain
# numbers and written into prometheus-client when the registry is next collected (`_PendingFlush`:
# a scrape reads exactly what per-request updates would show). In multiprocess mode another
# worker answers scrapes from the files, so every update is written at once (`BATCHED` False).
_BOUNDS = [*_BUCKETS, math.inf]


def _batchable() -> bool:
    """Whether a histogram child has the internals a flush writes (else: public API per request)."""
    probe = Histogram("omnigate_probe", "p", buckets=_BUCKETS, registry=None)
    sum_value = getattr(probe, "_sum", None)
    buckets = getattr(probe, "_buckets", None)
    return (
        getattr(probe, "_upper_bounds", None) == _BOUNDS
        and isinstance(buckets, list)
        and all(callable(getattr(b, "inc", None)) for b in buckets)
        and callable(getattr(sum_value, "get", None))
        and callable(getattr(sum_value, "set", None))
    )


BATCHED = not os.environ.get("PROMETHEUS_MULTIPROC_DIR") and _batchable()


class _Durations:
    """One route's duration histogram, observed in plain numbers until the next flush.

    It keeps the child's running sum itself, adding each amount in turn as `Histogram.observe`
    does, so the flushed sum is bit for bit what per-request observations would give.
    """

    __slots__ = ("_child", "counts", "total")

    def __init__(self, child: Any) -> None:
        self._child = child
        self.total: float = child._sum.get() if BATCHED else 0.0
        self.counts = [0] * len(_BOUNDS)

    def observe(self, amount: float) -> None:
        if not BATCHED:
            self._child.observe(amount)
            return
        self.total += amount
        self.counts[bisect_left(_BOUNDS, amount)] += 1

    def flush(self) -> None:
        if not BATCHED:
            return
        child, counts = self._child, self.counts
        child._sum.set(self.total)
        for index, count in enumerate(counts):
            if count:
                child._buckets[index].inc(count)
                counts[index] = 0


class RequestSeries:
    """What one (route, role) writes per request: its count by status and the route's durations.

    `add` is the request path's only metrics call; `flush` writes into prometheus-client."""

    __slots__ = ("_requests", "pending", "role", "route", "seconds", "statuses", "upstream")

    def __init__(self, route: str, role: str, seconds: _Durations, upstream: _Durations) -> None:
        self.route, self.role = route, role
        self.seconds, self.upstream = seconds, upstream
        self.statuses: dict[int, int] = {}
        self._requests: dict[int, Any] = {}
        self.pending = False

    def add(self, status: int, seconds: float, upstream: float | None) -> None:
        if not BATCHED:
            self._write_through(status, seconds, upstream)
            return
        statuses = self.statuses
        statuses[status] = statuses.get(status, 0) + 1
        durations = self.seconds  # `_Durations.observe`, inlined: this runs once per request
        durations.total += seconds
        durations.counts[bisect_left(_BOUNDS, seconds)] += 1
        if upstream is not None:
            durations = self.upstream
            durations.total += upstream
            durations.counts[bisect_left(_BOUNDS, upstream)] += 1
        if not self.pending:
            self.pending = True
            _PENDING.append(self)

    def _write_through(self, status: int, seconds: float, upstream: float | None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.seconds.observe(seconds)
        if upstream is not None:
            self.upstream.observe(upstream)
        self.flush()

    def flush(self) -> None:
        self.pending = False
        statuses = self.statuses
        if statuses:
            self.statuses = {}
            for status, count in statuses.items():
                child = self._requests.get(status)
                if child is None:
                    child = self._requests[status] = REQUESTS.labels(
                        self.route, self.role, str(status)
                    )
                child.inc(count)
        self.seconds.flush()
        self.upstream.flush()


_PENDING: list[RequestSeries] = []
_SERIES: dict[tuple[str, str], RequestSeries] = {}
_DURATIONS: dict[str, tuple[_Durations, _Durations]] = {}


def request_series(route: str, role: str) -> RequestSeries:
    """The series an exchange of `role` on `route` adds to (made once per pair)."""
    found = _SERIES.get((route, role))
    if found is None:
        if len(_SERIES) >= 4096:  # route names and roles come from rules: bounded, but reloads
            flush_requests()  # a fresh _Durations starts from the child's flushed sum
            _SERIES.clear()
            _DURATIONS.clear()
        durations = _DURATIONS.get(route)
        if durations is None:
            durations = _DURATIONS[route] = (
                _Durations(REQUEST_SECONDS.labels(route)),
                _Durations(UPSTREAM_SECONDS.labels(route)),
            )
        found = _SERIES[(route, role)] = RequestSeries(route, role, *durations)
    return found


def flush_requests() -> None:
    """Write the batched request metrics into prometheus-client (on the event loop's thread)."""
    while _PENDING:
        _PENDING.pop().flush()
