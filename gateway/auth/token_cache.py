"""A small LRU of verified tokens, so a client repeating its token costs one lookup, not a verify.

Only successes are cached (a failure is re-checked every time, so nothing stale can lock a caller
out). An entry lives until the token expires (exp + leeway) but at most `MAX_AGE` seconds, and
is dropped as soon as the key set drops or replaces a key (its generation changes; the key set is
polled on every request, cache hit or not), so the cache never outlives a revoked JWKS key.

Entries are keyed by the token string itself: a dict lookup hashes it with the interpreter's
keyed SipHash (seeded per process, so clients cannot aim collisions at it) and compares it in
full on a hit. A digest of the token (BLAKE2b, SHA-256) cost more than the rest of the lookup and
bought nothing: it was used only as the key, and the token is in this process's memory on every
request anyway. SECURITY: tokens held here are never logged, iterated or exposed; the cache is
bounded (`MAX_ENTRIES`) and each entry lives at most `MAX_AGE` seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, NamedTuple, TypeVar

MAX_ENTRIES = 4096
MAX_AGE = 300.0

T = TypeVar("T")


class _Entry(NamedTuple, Generic[T]):
    value: T
    valid_until: float  # wall-clock seconds
    generation: int


class TokenCache(Generic[T]):
    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE) -> None:
        # SECURITY: keys are bearer tokens: this mapping is never logged or iterated out.
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:  # SECURITY: never the tokens
        return f"<TokenCache of {len(self._entries)} entries>"

    def get(self, token: str, now: float, generation: int) -> T | None:
        entries = self._entries
        entry = entries.get(token)
        if entry is None:
            return None
        value, valid_until, entry_generation = entry
        # SECURITY: a cached verification still honours exp: past valid_until it is verified anew.
        if now >= valid_until or entry_generation != generation:
            del entries[token]
            return None
        entries.move_to_end(token)
        return value

    def put(self, token: str, value: T, expires_at: float, now: float, generation: int) -> None:
        self._entries[token] = _Entry(value, min(expires_at, now + self._max_age), generation)
        self._entries.move_to_end(token)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
