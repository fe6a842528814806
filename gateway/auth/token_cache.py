"""A small LRU of verified tokens, so a client repeating its token costs one hash, not a verify.

Only successes are cached (a failure is re-checked every time, so nothing stale can lock a caller
out). An entry lives until the token expires (exp + leeway) but at most `MAX_AGE` seconds, and
is dropped as soon as the key set drops or replaces a key (its generation changes; the key set is
polled on every request, cache hit or not), so the cache never outlives a revoked JWKS key.
Entries are keyed by the token's BLAKE2b-256 digest, never by the token itself (collision-resistant
like SHA-256, and about half its CPU here: no OpenSSL context per call on the request path).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

MAX_ENTRIES = 4096
MAX_AGE = 300.0

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    valid_until: float  # wall-clock seconds
    generation: int


class TokenCache(Generic[T]):
    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE) -> None:
        self._entries: OrderedDict[bytes, _Entry[T]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, now: float, generation: int) -> T | None:
        digest = _digest(token)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        # SECURITY: a cached verification still honours exp: past valid_until it is verified anew.
        if now >= entry.valid_until or entry.generation != generation:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry.value

    def put(self, token: str, value: T, expires_at: float, now: float, generation: int) -> None:
        digest = _digest(token)
        self._entries[digest] = _Entry(value, min(expires_at, now + self._max_age), generation)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def _digest(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=32).digest()
