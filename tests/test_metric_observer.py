"""The request metrics batched by `request_metrics.RequestSeries` read exactly what per-request
`Histogram.observe` and `Counter.inc` calls give, whenever the registry is collected."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from gateway import request_metrics
from gateway.metrics import BUCKETS
from gateway.request_metrics import _Durations

_NAMES = itertools.count()


def samples(registry: CollectorRegistry) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for metric in registry.collect()
        for sample in metric.samples
        if not sample.name.endswith("_created")
    ]


@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
                st.sampled_from(BUCKETS),  # exactly on a bound: that bucket, not the next
            ),
            st.booleans(),  # flush after this one (a scrape between two requests)
        ),
        max_size=30,
    )
)
def test_batched_durations_match_histogram_observe(amounts: list[tuple[float, bool]]) -> None:
    assert request_metrics.BATCHED  # the batched path is in use with this prometheus-client
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    name = f"t{next(_NAMES)}"
    batched = _Durations(
        Histogram(name, "h", ["route"], buckets=BUCKETS, registry=ours).labels("r")
    )
    public = Histogram(name, "h", ["route"], buckets=BUCKETS, registry=theirs).labels("r")
    for amount, flush in amounts:
        batched.observe(amount)
        public.observe(amount)
        if flush:
            batched.flush()
            assert samples(ours) == samples(theirs)
    batched.flush()
    assert samples(ours) == samples(theirs)  # the sum too, bit for bit


def test_a_collection_writes_what_is_pending_first() -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"route": "t-pending", **labels}) or 0.0

    before = (
        sample("omnigate_requests_total", role="agent", status="200"),
        sample("omnigate_requests_total", role="agent", status="404"),
        sample("omnigate_request_duration_seconds_count"),
        sample("omnigate_upstream_duration_seconds_bucket", le="0.1"),
    )
    series = request_metrics.request_series("t-pending", "agent")
    series.add(200, 0.004, None)
    series.add(200, 0.5, 0.1)
    series.add(404, 0.002, 0.001)
    # nothing flushed by hand: the registry's own collection (as a scrape's) writes the batch
    assert (
        sample("omnigate_requests_total", role="agent", status="200"),
        sample("omnigate_requests_total", role="agent", status="404"),
        sample("omnigate_request_duration_seconds_count"),
        # 0.1 is in the bucket whose bound it equals, and 0.001 too (buckets are cumulative)
        sample("omnigate_upstream_duration_seconds_bucket", le="0.1"),
    ) == (before[0] + 2, before[1] + 1, before[2] + 3, before[3] + 2)
