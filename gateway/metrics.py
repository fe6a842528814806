"""Prometheus metrics (SPEC 6). Correct with several workers via prometheus-client's multiprocess
mode: `web_server` sets PROMETHEUS_MULTIPROC_DIR before any worker imports this module."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

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


@lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """The labelled child of `metric`, looked up once (`labels()` costs a lock and a hash)."""
    return metric.labels(*labels)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text, aggregated over every worker when there are several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
