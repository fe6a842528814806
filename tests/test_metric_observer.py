"""The request-path observer of exchange_record gives exactly what Histogram.observe gives."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.exchange_record import _observer
from gateway.metrics import _BUCKETS

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
        st.one_of(
            st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
            st.sampled_from(_BUCKETS),  # exactly on a bound: that bucket, not the next
        ),
        max_size=30,
    )
)
def test_observer_matches_histogram_observe(amounts: list[float]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    name = f"t{next(_NAMES)}"
    fast = Histogram(name, "h", ["route"], buckets=_BUCKETS, registry=ours).labels("r")
    public = Histogram(name, "h", ["route"], buckets=_BUCKETS, registry=theirs).labels("r")
    observe = _observer(fast)
    assert observe != fast.observe  # the fast path is in use with this prometheus-client
    for amount in amounts:
        observe(amount)
        public.observe(amount)
    assert samples(ours) == samples(theirs)


def test_observer_falls_back_to_the_public_method() -> None:
    # a child without a histogram's internals (here a counter's) is observed through its API
    counter = Counter("t_fallback", "c", registry=CollectorRegistry())
    counter.observe = lambda amount: None  # type: ignore[attr-defined]
    assert _observer(counter) == counter.observe  # type: ignore[attr-defined]
