"""The per-process face of a link store: a cache on the hot path, the store in the background.

Stamping never waits for the store. `resolve(id)` and `learn(ids)` are plain functions that read
a cache (any thread: the masker thread stamps too); what they cannot answer is queued for a
background task on the event loop, which also watches the store's change log every
`POLL_SECONDS`, so a link learned by any replica (or worker) reaches this cache within about
half a second, one second at most (the SPEC's bound).

`settle()` is for call sites that may await once before stamping: it runs the stamping, and
when ids were met that the cache did not know, looks them up (one bounded round trip) and runs
the stamping again if one of them turned out to be linked.

Faults (SPEC 4.1): every store call is bounded by a timeout; an unreachable or slow store means
the unlinked id, `omnigate_identity_store_errors_total` counts the failed calls, and one warning
line marks the start (and one the end) of each outage. Queued links wait for the store to return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from itertools import islice
from typing import Any, Final, TypeVar

from prometheus_client import Counter

from gateway.identity.clusters import Cluster
from gateway.identity.link_store import LinkStore, Lookup, open_store, redact

log = logging.getLogger(__name__)
T = TypeVar("T")

STORE_ERRORS = Counter(
    "omnigate_identity_store_errors",
    "Identity-linking store calls that failed or timed out, by operation",
    ["operation"],
)
UNLINKED_STAMPS = Counter(
    "omnigate_identity_unlinked_stamps",
    "Ids stamped before their links were known (not yet cached, or the store unreachable)",
    ["reason"],
)
OPERATIONS: Final = ("link", "lookup", "refresh", "admin")
for _operation in OPERATIONS:
    STORE_ERRORS.labels(_operation)
for _reason in ("uncached", "store_down"):
    UNLINKED_STAMPS.labels(_reason)

TIMEOUT_SECONDS: Final = 0.5  # per store call on the request side of things
ADMIN_TIMEOUT_SECONDS: Final = 5.0  # an operator waits longer than a webhook should
POLL_SECONDS: Final = 0.5
_CLOSE_SECONDS: Final = 2.0  # closing a linker (shutdown, reload) is bounded
CAPACITY: Final = 100_000  # cached ids (about 20 MB); the oldest tenth goes when full
_QUEUE: Final = 10_000  # queued lookups / links; beyond that the oldest are dropped
_BATCH: Final = 500

_MISS: Final = object()
_MISSES: ContextVar[list[str] | None] = ContextVar("omnigate_link_misses", default=None)


class StoreUnavailable(Exception):
    """The store did not answer in time (admin calls only; stamping never raises)."""


class Linker:
    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url
        self._timeout = timeout
        # id -> (cluster id, cluster seq), or None: linked to nothing (as far as we know).
        self._cache: dict[str, tuple[str, int] | None] = {}
        self._wanted: deque[str] = deque(maxlen=_QUEUE)
        self._links: deque[tuple[str, ...]] = deque(maxlen=_QUEUE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store: LinkStore | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._woken = False
        self._generation: int | None = None
        self.down = False
        # Pairs already known to be linked, so stamping skips the second id's work: keys are
        # (first id, kind, hash(raw value)). PII: the salted hash of a value is kept, never the
        # value; a collision can only skip learning a link, never change a stamp.
        self.learned: dict[tuple[str, str, int], None] = {}
        # Links the store refused (an id split off by hand): not asked again until it changes.
        self._refused: dict[tuple[str, ...], None] = {}

    # -- the hot path: never awaits, never raises --------------------------------------------

    def resolve(self, omni_id: str) -> str:
        """The cluster id of `omni_id` as cached; itself when unknown (and looked up soon)."""
        entry = self._cache.get(omni_id, _MISS)
        if entry is _MISS:
            self._missed((omni_id,))
            return omni_id
        return omni_id if entry is None else entry[0]  # type: ignore[index]

    def learn(self, ids: Sequence[str]) -> str:
        """Note that `ids` (priority order) are one person; the id to stamp them with now."""
        entries = [self._cache.get(omni_id, _MISS) for omni_id in ids]
        known = [entry for entry in entries if entry is not _MISS and entry is not None]
        if len(known) == len(ids) and len({entry[0] for entry in known}) == 1:  # type: ignore[index]
            return known[0][0]  # type: ignore[index, no-any-return]
        if tuple(ids) in self._refused:
            return self.resolve(ids[0])
        self._links.append(tuple(ids))
        missing = [omni_id for omni_id, entry in zip(ids, entries, strict=True) if entry is _MISS]
        self._missed(missing)
        # What the store will decide, as far as the cache knows: the oldest known cluster wins
        # over ids never linked before; between new ids, the first in priority order.
        if known:
            return min(known, key=lambda entry: entry[1])[0]  # type: ignore[index, no-any-return]
        return ids[0]

    def together(self, ids: Sequence[str]) -> bool:
        """Whether the cache knows `ids` as one cluster (no side effects)."""
        entries = [self._cache.get(omni_id) for omni_id in ids]
        return all(entries) and len({entry[0] for entry in entries if entry}) == 1

    def _missed(self, ids: Iterable[str]) -> None:
        collected = _MISSES.get()
        reason = "store_down" if self.down else "uncached"
        for omni_id in ids:
            UNLINKED_STAMPS.labels(reason).inc()
            self._wanted.append(omni_id)
            if collected is not None:
                collected.append(omni_id)
        self._nudge()

    def _nudge(self) -> None:
        loop = self._running_loop()
        if loop is None or self._woken:
            return
        self._woken = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._wake_up)

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- awaited by call sites that can afford one round trip, and by the admin API -----------

    async def fetch(self, ids: Sequence[str]) -> bool:
        """Look `ids` up now (bounded); True when one of them is linked."""
        store = self._ensure()
        try:
            found = await self._call("lookup", store.lookup(list(dict.fromkeys(ids))))
        except StoreUnavailable:
            return False
        self._fill(ids, found)
        return bool(found)

    async def cluster(self, omni_id: str) -> Cluster:
        return await self._admin(lambda store: store.cluster(omni_id))

    async def link(self, ids: Sequence[str]) -> Cluster:
        return await self._admin(lambda store: store.link(ids, manual=True), ids)

    async def unlink(self, omni_id: str) -> Cluster:
        return await self._admin(lambda store: store.unlink(omni_id), [omni_id])

    async def _admin(
        self, call: Callable[[LinkStore], Awaitable[Cluster]], changed: Sequence[str] = ()
    ) -> Cluster:
        store = self._ensure()
        try:
            async with asyncio.timeout(ADMIN_TIMEOUT_SECONDS):
                cluster = await call(store)
        except Exception as exc:
            self._failed("admin", exc)
            problem = f"the identity store did not answer ({type(exc).__name__})"
            raise StoreUnavailable(problem) from exc
        self._up()
        self._refused.clear()
        if changed:
            # This process stamps by the change at once (other processes within a second). An
            # unlinked id's old cluster is re-read too: it may have a new id now.
            before = {entry[0] for i in changed if (entry := self._cache.get(i))}
            former = [i for i, entry in list(self._cache.items()) if entry and entry[0] in before]
            await self.fetch([*changed, *cluster.members, *former])
        return cluster

    async def close(self) -> None:
        task, store = self._task, self._store
        self._task = self._store = self._loop = None
        if task is not None:
            await _stop(task)
        if store is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_SECONDS):
                    await store.close()

    # -- the background task -------------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            return loop
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return None  # another thread: the next call on the loop starts the task
        try:
            self._ensure()
        except Exception as exc:  # a client that cannot even be built must not fail stamping
            self._failed("lookup", exc)
            return None
        return self._loop

    def _ensure(self) -> LinkStore:
        """The store client and the task of the running loop (made on first use in a loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._store is None:
            # A new loop (a restart in tests, `omnigate identities`): clients of the old one
            # cannot be used from this one.
            self._loop, self._store = loop, open_store(self.url, self._timeout)
            self._wake = asyncio.Event()
            self._generation = None
            self._task = loop.create_task(self._work(self._store), name="omnigate-links")
        return self._store

    async def _work(self, store: LinkStore) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()
            self._wake.clear()
            self._woken = False
            with contextlib.suppress(StoreUnavailable):
                await self._round(store)

    async def _round(self, store: LinkStore) -> None:
        generation, changed = await self._call("refresh", store.changes(self._generation))
        if self._generation is not None and generation != self._generation:
            if changed is None or len(self.learned) > CAPACITY:
                self.learned.clear()  # the store was reset or fell out of the log: learn anew
            self._refused.clear()
            stale = list(self._cache) if changed is None else changed
            await self._refill(store, [i for i in stale if i in self._cache], "refresh")
        self._generation = generation
        while self._links:
            ids = self._links[0]
            if not self.together(ids) and ids not in self._refused:  # often queued many times
                cluster = await self._call("link", store.link(ids))
                await self._refill(store, list(dict.fromkeys((*ids, *cluster.members))), "link")
                if not self.together(ids) and len(self._refused) < _QUEUE:
                    self._refused[ids] = None
            self._links.popleft()
        wanted: list[str] = []
        while self._wanted:
            wanted.append(self._wanted.popleft())
        # At most one round trip per unseen id: `settle` may have looked some up already.
        unseen = [omni_id for omni_id in dict.fromkeys(wanted) if omni_id not in self._cache]
        await self._refill(store, unseen, "lookup")
        self._up()

    async def _refill(self, store: LinkStore, ids: list[str], operation: str) -> None:
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            try:
                found = await self._call(operation, store.lookup(batch))
            except StoreUnavailable:
                self._wanted.extend(ids[start:])  # try again next round
                raise
            self._fill(batch, found)

    async def _call(self, operation: str, call: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except Exception as exc:
            self._failed(operation, exc)
            raise StoreUnavailable(operation) from exc

    def _fill(self, ids: Iterable[str], found: Lookup) -> None:
        cache = self._cache
        for omni_id in ids:
            cache[omni_id] = found.get(omni_id)
        if len(cache) > CAPACITY:
            for old in list(islice(cache, CAPACITY // 10)):
                del cache[old]

    def _failed(self, operation: str, exc: BaseException) -> None:
        STORE_ERRORS.labels(operation).inc()
        if not self.down:
            self.down = True
            # PII: store errors name hosts and ports, never ids or values; the URL is redacted.
            log.warning(
                "identity-linking store %s is unreachable (%s: %s); stamping unlinked ids "
                "until it is back",
                redact(self.url),
                operation,
                type(exc).__name__,
            )

    def _up(self) -> None:
        if self.down:
            self.down = False
            log.warning("identity-linking store %s is back; learning resumes", redact(self.url))


async def settle(linker: Linker | None, work: Callable[[], T]) -> T:
    """Run the (synchronous) stamping `work`; when it met ids the cache did not know, look them
    up once (bounded) and, when one of them is linked, run it again with the answer cached.

    `work` must be safe to run twice (channel adapters are; a Mailgun token is admitted once).
    """
    if linker is None:
        return work()
    collected: list[str] = []
    token = _MISSES.set(collected)
    try:
        result = work()
    finally:
        _MISSES.reset(token)
    if collected and await linker.fetch(collected):
        return work()
    return result


async def settle_async(linker: Linker | None, work: Callable[[], Awaitable[T]]) -> T:
    """`settle` for stamping that awaits (a response masked beside the event loop): `work` must
    run its synchronous part in this task's context (`contextvars.copy_context().run` in a
    thread), so the ids it misses are collected here."""
    if linker is None:
        return await work()
    collected: list[str] = []
    token = _MISSES.set(collected)
    try:
        result = await work()
    finally:
        _MISSES.reset(token)
    if collected and await linker.fetch(collected):
        return await work()
    return result


_LINKERS: dict[str, Linker] = {}


def linker_for(url: str) -> Linker:
    """One linker per store URL for the whole process: rule reloads keep its warm cache."""
    linker = _LINKERS.get(url)
    if linker is None:
        linker = _LINKERS[url] = Linker(url)
    return linker


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel `task` until it ends, within a bound. Python 3.11's `asyncio.timeout` can swallow
    a cancellation that lands as its own deadline fires, and the loop would then go on for ever
    (a shutdown or reload that never finishes): so the cancel is repeated."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _CLOSE_SECONDS
    while not task.done() and loop.time() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.05)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved here: a failure was logged when it happened


async def close_linkers() -> None:
    """Stop every linker's background task and close its store client (at shutdown)."""
    for linker in list(_LINKERS.values()):
        await linker.close()
