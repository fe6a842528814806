"""Remembering recently seen signed tokens so a captured delivery cannot be replayed (Mailgun)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

REPLAY_WINDOW_S = 600.0  # SPEC 5: a timestamp more than 10 minutes old is refused
_CAPACITY = 100_000


class ReplayGuard:
    """Admits each (fresh) token once.

    A token needs remembering only while its timestamp is inside the window; after that the
    timestamp check refuses it anyway. Memory is bounded: past `capacity` the oldest entries are
    forgotten first. The memory is per process, so with several workers a replay can reach a
    different worker, but never outside the 10-minute window.
    """

    def __init__(
        self,
        window_s: float = REPLAY_WINDOW_S,
        capacity: int = _CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._window = window_s
        self._capacity = capacity
        self._clock = clock
        # token -> when it may be forgotten, in arrival order. Ordered: the oldest is found and
        # dropped in O(1) (a plain dict's first key is found by skipping every slot deleted
        # before it, a cost that grows with the churn of a busy webhook).
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def admit(self, token: str, timestamp: float) -> bool:
        """True the first time a fresh token is seen; False for stale or repeated ones."""
        now = self._clock()
        # SECURITY: timestamps far in the future are refused too, or the window would be
        # unbounded for a delivery signed with a skewed clock.
        if abs(now - timestamp) > self._window:
            return False
        self._forget_expired(now)
        if token in self._expiry:
            return False
        self._expiry[token] = timestamp + self._window
        if len(self._expiry) > self._capacity:
            self._expiry.popitem(last=False)
        return True

    def _forget_expired(self, now: float) -> None:
        expiry = self._expiry
        while expiry:
            token, until = next(iter(expiry.items()))
            if until >= now:
                return
            del expiry[token]
