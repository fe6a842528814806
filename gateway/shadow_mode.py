"""Shadow mode (SPEC 3.11): what enforce mode would have done, counted and logged, not done.

On a route in shadow every mask, fail-closed decision and write-guard verdict is computed as in
enforce mode, then the upstream's bytes (and the client's) go through unchanged. The respond and
forward stages call `note` where enforce mode would have refused or rewritten, so a team can watch
`omnigate_shadow_verdicts_total` before switching the route to `enforce`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from prometheus_client import Counter

from gateway.exchange import ApiRequest, Decision

if TYPE_CHECKING:
    from gateway.rules_plan import Plan

MODE_HEADER = "Omnigate-Mode"
SHADOW = "shadow"
# verdict -> the reasons it is counted with (created at zero for every route in shadow)
VERDICT_REASONS = {
    "fail_closed": ("content_type", "encoding", "invalid_json", "too_large", "transform"),
    "write_refused": ("masked_value", "unreadable", "too_large"),
    "write_stripped": ("masked_value",),
}
VERDICTS = Counter(
    "omnigate_shadow_verdicts",
    "Answers enforce mode would have refused or rewritten, on routes in shadow mode",
    ["route", "verdict", "reason"],
)
LOG_EVERY = 60.0  # seconds between two log lines for one (route, verdict, reason)
_LOG = logging.getLogger("omnigate.shadow")
_last_logged: dict[tuple[str, str, str], float] = {}


def in_shadow(decision: Decision | None) -> bool:
    """Whether the response to `decision` is a shadow response (it carries `Omnigate-Mode`)."""
    if not isinstance(decision, ApiRequest):
        return False
    policy = decision.policy
    if policy.route_label == "-":  # no route matched: the top-level mode says
        return decision.plan.mode == SHADOW
    return policy.shadow


def note(api: ApiRequest, verdict: str, reason: str) -> None:
    """Count (and log, at most once a minute per route and reason) what enforce would do.

    PII: the log line names the route, the verdict and the reason, never a value or a path."""
    route = api.route_label
    VERDICTS.labels(route, verdict, reason).inc()
    key = (route, verdict, reason)
    now = time.monotonic()
    if now - _last_logged.get(key, -LOG_EVERY) >= LOG_EVERY:
        _last_logged[key] = now
        _LOG.warning(
            "shadow mode: enforce would have answered %s (%s) on route %s, request %s",
            verdict,
            reason,
            route,
            api.request_id,
        )


def prime(plan: Plan) -> None:
    """Every verdict series of every route in shadow, at zero (SPEC 6: alerts need a sample)."""
    for route in plan.routes:
        if route.shadow and route.rules:
            for verdict, reasons in VERDICT_REASONS.items():
                for reason in reasons:
                    VERDICTS.labels(route.name, verdict, reason)
