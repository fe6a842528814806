"""Records an exchange: the access log line, every request metric and the audit event.

The one place they are written (SPEC 6), once per exchange, whichever way it ended. The
request metrics go through one `request_metrics.RequestSeries` per (route, role), batched until the
registry is next collected.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gateway import metrics, tracing
from gateway.exchange import ApiRequest, Exchange, WebhookDelivery
from gateway.log_path import log_path
from gateway.path_memo import PathMemo
from gateway.request_metrics import SERIES, request_series
from gateway.web_state import GatewayState

if TYPE_CHECKING:
    from gateway.rules_plan import Plan
    from gateway.transform import Outcome

CLIENT_GONE = 499  # the client left before it was answered (nginx's convention)


# `log_path` on a path no route matches runs the text detector over every segment: the same work
# for every request to that path.
_logged_path: PathMemo[Plan | None, str] = PathMemo(log_path)


def record(state: GatewayState, exchange: Exchange) -> None:
    """Write what `exchange` did; a second call for the same exchange does nothing.

    Runs once per request on every path, pass-through included: written for few steps (locals,
    the common case first, the rare counters behind one test each)."""
    if exchange.recorded:
        return
    exchange.recorded = True
    elapsed = time.perf_counter() - exchange.started
    request, decision, tally = exchange.request, exchange.decision, exchange.tally
    status = exchange.status
    if status is None:
        status = CLIENT_GONE
    caller = sub = None
    if isinstance(decision, ApiRequest):
        caller = decision.caller
        route, role, sub = decision.policy.route_label, caller.role, caller.sub
        # PII: a route's template, or the path with PII-like segments redacted (SPEC 3.10).
        # (`_logged_path`'s lookup inline: it runs once per request)
        cached_plan, paths = _logged_path.state
        path = paths.get(decision.path) if cached_plan is decision.plan else None
        if path is None:
            path = _logged_path(decision.plan, decision.path)
    elif decision is None:
        route = role = "-"
        path = _logged_path(state.plan, request.path)
    else:
        route, role, path = decision.route_label, decision.role, decision.path
    upstream = tally.upstream_seconds
    series = SERIES.get((route, role))  # (`request_series`'s lookup inline)
    if series is None:
        series = request_series(route, role)
    series.add(status, elapsed, upstream)
    outcome, stream_items = tally.counted()
    masked = findings = 0
    if outcome is not None:
        masked = outcome.masked_total
        findings = sum(outcome.findings.values())  # residual-sentinel findings (SPEC 3.9)
        _record_outcome(outcome)
    if stream_items is not None:
        for (kind, action), count in stream_items.items():
            metrics.child(metrics.STREAM_ITEMS, kind, action).inc(count)
    if tally.token_failure is not None:
        metrics.child(metrics.TOKEN_FAILURES, tally.token_failure).inc()
    if tally.fail_closed is not None:
        metrics.child(metrics.FAIL_CLOSED, tally.fail_closed).inc()
    if tally.stream_closed is not None:
        metrics.child(metrics.STREAMS_CLOSED, tally.stream_closed).inc()
    if tally.webhook_outcome is not None and isinstance(decision, WebhookDelivery):
        _record_webhook(decision, tally.webhook_outcome, tally.webhook_stamped)

    tracer = tracing.TRACER
    # no tracing: the trace the client's traceparent names, which goes upstream as is
    traceparent = None if tracer is not None else request.headers.get("traceparent")
    # PII: the path has no query string; bodies, tokens and headers are never logged.
    fields = {
        "request_id": exchange.request_id,
        "trace_id": tracing.trace_id_of(traceparent) if traceparent else None,
        "method": request.method,
        "route": route,
        "path": path,
        "status": status,
        "role": role,
        "sub": sub,
        # round(ms, 3) without its decimal string made and parsed (a fifth of the cost): the
        # nearest double to a whole number of microseconds, the same value save where the
        # product lies within a rounding error of half a microsecond
        "duration_ms": round(elapsed * 1000 * 1000) / 1000,
        "upstream_ms": round(upstream * 1000 * 1000) / 1000 if upstream else None,
        "masked": masked,
        "sentinel_findings": findings,
    }
    if tracer is not None:  # the server span's trace (which continues the client's, if any)
        fields["trace_id"] = tracer.annotate(fields)
    state.access_log.write("access", fields)
    if caller is not None and not caller.masking and exchange.api.policy.guarded:
        state.audit_log.write(
            "reveal",
            {
                "request_id": exchange.request_id,
                "sub": sub,
                "role": role,
                "route": route,
                "values_revealed": tally.revealed,
            },
        )


def _record_outcome(outcome: Outcome) -> None:
    for (route_name, mask), count in outcome.masked.items():
        metrics.child(metrics.VALUES_MASKED, route_name, mask).inc(count)
    for (route_name, kind, action), count in outcome.findings.items():
        metrics.child(metrics.SENTINEL_FINDINGS, route_name, kind, action).inc(count)
    if outcome.stamped:
        metrics.child(metrics.IDENTITIES_STAMPED, "api", "response").inc(outcome.stamped)


def _record_webhook(delivery: WebhookDelivery, outcome: str, kinds: tuple[str, ...]) -> None:
    channel = delivery.hook.channel.name
    metrics.child(metrics.WEBHOOKS, channel, outcome).inc()
    for kind in kinds:
        metrics.child(metrics.IDENTITIES_STAMPED, channel, kind).inc()
    if outcome == "no_identity":
        metrics.child(metrics.IDENTITY_FAILURES, channel).inc()
