"""Work done per request path, remembered for the current rule plan.

Some request-path work depends on nothing but (plan, path): the normalised path and the webhook it
delivers to, the path as the access log writes it. Clients repeat the same few paths, so it is done
once per path and plan. A new plan (a reload) starts an empty memo: nothing computed under old rules
is used under new ones.

SECURITY: targets are client-chosen, so every memo is bounded in entries (`ENTRIES`, then it
starts over) and in bytes: a path longer than `MEMO_CHARS` is worked out every time, never kept
(4,096 distinct 16 KiB targets would otherwise pin ~130 MiB). Work that raises is never kept.
PII: the keys are request paths as received, in this process's memory only, never written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Generic, TypeVar

P = TypeVar("P")  # the plan (or None before one is loaded)
T = TypeVar("T")

ENTRIES: Final = 4096
# The longest path (or path and query) any per-path memo keeps, the plan's route matches and the
# upstream URLs included.
MEMO_CHARS: Final = 512


class PathMemo(Generic[P, T]):
    """`memo(plan, path)`: `compute(plan, path)`, remembered per path for the current plan."""

    __slots__ = ("_compute", "state")

    def __init__(self, compute: Callable[[P, str], T]) -> None:
        self._compute = compute
        # (plan, its paths), swapped as one: a reader never pairs one plan with another's paths
        self.state: tuple[P | None, dict[str, T]] = (None, {})

    def __call__(self, plan: P, path: str) -> T:
        cached_plan, paths = self.state
        if cached_plan is not plan:
            paths = {}
            self.state = (plan, paths)
        found = paths.get(path)
        if found is None:
            found = self._compute(plan, path)
            if len(path) <= MEMO_CHARS:
                if len(paths) >= ENTRIES:
                    paths.clear()
                paths[path] = found
        return found
