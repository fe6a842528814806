"""The verified-token cache: honours expiry, key-set changes and its size bound."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.auth.token_cache import TokenCache

# Each row: (expires_at, generation at get, get time, hit?). Stored at t=1000 with generation 1.
ROWS = [
    (2000.0, 1, 1200.0, True),  # valid and recent
    (2000.0, 1, 1300.0, False),  # cached for max_age (300 s) -> verify again
    (1100.0, 1, 1099.9, True),  # just before exp (+leeway)
    (1100.0, 1, 1100.0, False),  # at exp: expired, never served from the cache
    (1100.0, 2, 1050.0, False),  # the key set changed since: verify again
    (float("inf"), 1, 1299.0, True),  # no exp (require_exp: false): bounded by max_age only
    (float("inf"), 1, 1300.0, False),  # ... and gone after it
]


@pytest.mark.parametrize(("expires_at", "generation", "now", "hit"), ROWS)
def test_cache_validity(expires_at: Any, generation: int, now: float, hit: bool) -> None:
    cache: TokenCache[str] = TokenCache(max_age=300.0)
    cache.put("tok", "identity", expires_at, now=1000.0, generation=1)
    assert (cache.get("tok", now, generation) == "identity") is hit
    if not hit:
        assert len(cache) == 0  # a stale entry is dropped, not kept around


def test_cache_is_bounded_and_evicts_least_recently_used() -> None:
    cache: TokenCache[int] = TokenCache(max_entries=3)
    for n in range(3):
        cache.put(f"t{n}", n, 2000.0, now=1000.0, generation=0)
    assert cache.get("t0", 1001.0, 0) == 0  # t0 is now the most recent
    cache.put("t3", 3, 2000.0, now=1000.0, generation=0)
    assert len(cache) == 3
    assert cache.get("t1", 1001.0, 0) is None  # the least recently used went
    assert [cache.get(t, 1001.0, 0) for t in ("t0", "t2", "t3")] == [0, 2, 3]
