"""Request metrics batched until the registry is collected (SPEC 6).

`omnigate_requests_total` and the two duration histograms are written once per request on every
path, pass-through included; `exchange_record` adds each request to one `RequestSeries` per
(route, role), and `flush_requests` writes them into prometheus-client before each collection.
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from typing import Any

from prometheus_client import Histogram

from gateway.metrics import BEFORE_COLLECT, BUCKETS, REQUEST_SECONDS, REQUESTS, UPSTREAM_SECONDS

# Three locked updates of prometheus-client values per request cost more than the rest of the
# record step, so they are added up here in plain numbers and written into prometheus-client when
# the registry is next collected (`metrics.BEFORE_COLLECT`: a scrape reads exactly what
# per-request updates would show). In multiprocess mode another worker answers scrapes from the
# files, so every update is written at once (`BATCHED` False).
_BOUNDS = [*BUCKETS, math.inf]


def _batchable() -> bool:
    """Whether a histogram child has the internals a flush writes (else: public API per request)."""
    probe = Histogram("omnigate_probe", "p", buckets=BUCKETS, registry=None)
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
# every series made, by (route, role): read by `request_series` (and inline by exchange_record)
SERIES: dict[tuple[str, str], RequestSeries] = {}
_DURATIONS: dict[str, tuple[_Durations, _Durations]] = {}


def request_series(route: str, role: str) -> RequestSeries:
    """The series an exchange of `role` on `route` adds to (made once per pair)."""
    found = SERIES.get((route, role))
    if found is None:
        if len(SERIES) >= 4096:  # route names and roles come from rules: bounded, but reloads
            flush_requests()  # a fresh _Durations starts from the child's flushed sum
            SERIES.clear()
            _DURATIONS.clear()
        durations = _DURATIONS.get(route)
        if durations is None:
            durations = _DURATIONS[route] = (
                _Durations(REQUEST_SECONDS.labels(route)),
                _Durations(UPSTREAM_SECONDS.labels(route)),
            )
        found = SERIES[(route, role)] = RequestSeries(route, role, *durations)
    return found


def flush_requests() -> None:
    """Write the batched request metrics into prometheus-client (on the event loop's thread)."""
    while _PENDING:
        _PENDING.pop().flush()


BEFORE_COLLECT.append(flush_requests)
