"""Keys from a `jwks_url`: fetched with aiohttp off the request path, cached, refetched on need.

- `start()` prefetches in the background; a JWKS server that is down does not stop start-up.
- A token whose `kid` is unknown triggers a refetch, at most one per `REFETCH_INTERVAL` seconds;
  concurrent requests share the one in-flight fetch.
- A key set older than `REFRESH_AFTER` is refreshed in the background, so revoked keys drop out;
  `poll()` runs on every authenticated request, cached token or not. SECURITY: a refresh that
  drops or replaces a key bumps `generation`, which drops every cached verdict at once, so a key
  rotated out of the JWKS stops working within `REFRESH_AFTER` (issue 10 class 8). A refresh
  that only adds keys leaves the cache alone.
- A failed fetch keeps the keys already known: an outage never stops tokens signed with them.
- With the key set known but the kid not in it (even after a refetch, or with the JWKS down) the
  token is rejected with reason `unknown_kid`; if no key set was ever loaded, with reason
  `jwks_unavailable`. Both are 401 `invalid_token`, never a 5xx.
- A token without a `kid` is accepted only when exactly one key in the set fits its algorithm.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from jwt import PyJWK

from gateway.auth.algorithms import VerificationKey, key_fits
from gateway.errors import InvalidToken

log = logging.getLogger(__name__)

REFETCH_INTERVAL = 10.0
REFRESH_AFTER = 60.0
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=5.0)
MAX_JWKS_BYTES = 1 << 20


@dataclass(frozen=True)
class _Entry:
    kid: str | None
    algorithm: str | None  # the JWK's own `alg`, when it names one
    key: VerificationKey
    digest: bytes  # of the JWK as published: two entries with one digest are the same key


class JwksKeys:
    """The key set behind a JWKS URL (implements `keys.KeyResolver`)."""

    def __init__(self, url: str, algorithms: frozenset[str]) -> None:
        self._url = url
        self._algorithms = algorithms
        self._entries: tuple[_Entry, ...] | None = None  # None: never loaded
        self._fingerprint = b""
        self._loaded_at = -math.inf
        self._last_attempt = -math.inf
        self._last_demand = -math.inf
        self._inflight: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._own_session: aiohttp.ClientSession | None = None
        self.generation = 0

    async def start(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._spawn_fetch()

    async def close(self) -> None:
        task, self._inflight = self._inflight, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    async def key_for(self, kid: str | None, algorithm: str) -> VerificationKey:
        key = self._lookup(kid, algorithm)
        if key is not None:
            self._refresh_if_stale()
            return key
        if self._inflight is not None:
            await asyncio.shield(self._inflight)
            key = self._lookup(kid, algorithm)
            if key is not None:
                return key
        now = time.monotonic()
        # SECURITY: tokens with made-up kids must not turn us into a JWKS flooder.
        if now - self._last_demand >= REFETCH_INTERVAL:
            self._last_demand = now
            await asyncio.shield(self._spawn_fetch())
            key = self._lookup(kid, algorithm)
            if key is not None:
                return key
        if self._entries is None:
            raise InvalidToken("the token signing keys are unavailable", reason="jwks_unavailable")
        raise InvalidToken("the token's signing key is unknown", reason="unknown_kid")

    def _lookup(self, kid: str | None, algorithm: str) -> VerificationKey | None:
        fitting = [
            entry
            for entry in self._entries or ()
            if (kid is None or entry.kid == kid)
            and entry.algorithm in (None, algorithm)
            and key_fits(algorithm, entry.key)
        ]
        if kid is None and len(fitting) != 1:
            return None  # no kid and several candidates: refuse to guess
        return fitting[0].key if fitting else None

    def poll(self) -> None:
        """Refresh the key set in the background when it is stale (cheap; call per request)."""
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        now = time.monotonic()
        if (
            now - self._loaded_at > REFRESH_AFTER
            and now - self._last_attempt >= REFETCH_INTERVAL
            and self._inflight is None
        ):
            self._spawn_fetch()

    def _spawn_fetch(self) -> asyncio.Task[None]:
        if self._inflight is None:
            task = asyncio.get_running_loop().create_task(self._fetch())
            task.add_done_callback(self._fetch_done)
            self._inflight = task
        return self._inflight

    def _fetch_done(self, task: asyncio.Task[None]) -> None:
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> None:
        self._last_attempt = time.monotonic()
        try:
            document = await self._download()
            entries = self._parse(document)
        except Exception as error:  # a failed fetch must never escape into a request
            log.warning("JWKS fetch from %s failed: %s", self._url, str(error) or repr(error))
            return
        fingerprint = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).digest()
        if fingerprint != self._fingerprint:
            self._fingerprint = fingerprint
            previous, self._entries = self._entries, entries
            if previous is not None and not _signatures(previous) <= _signatures(entries):
                # SECURITY: a key went (or changed): verdicts cached under it go with it.
                self.generation += 1
        self._loaded_at = time.monotonic()

    async def _download(self) -> Any:
        session = self._session
        if session is None or session.closed:
            # start() was not called: keep the fetch working with a private session.
            if self._own_session is None:
                self._own_session = aiohttp.ClientSession()
            session = self._own_session
        headers = {"Accept": "application/json"}
        async with session.get(self._url, timeout=FETCH_TIMEOUT, headers=headers) as response:
            if response.status != 200:
                raise ValueError(f"HTTP status {response.status}")
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the key set is larger than {MAX_JWKS_BYTES} bytes")
        return orjson.loads(body)

    def _parse(self, document: Any) -> tuple[_Entry, ...]:
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ValueError("the document has no keys list")
        entries = tuple(
            entry for entry in (self._entry(jwk) for jwk in keys if isinstance(jwk, dict)) if entry
        )
        if not entries:
            # Keep the previous keys: an empty or unusable set is far likelier a glitch than a
            # deliberate revocation of every key.
            raise ValueError("the key set holds no usable signing key")
        return entries

    def _entry(self, jwk: dict[str, Any]) -> _Entry | None:
        # SECURITY: a symmetric key published in a JWKS is never a valid verifier here (that is the
        # key-confusion door); encryption keys are not signing keys.
        if jwk.get("kty") == "oct" or jwk.get("use") not in (None, "sig"):
            return None
        algorithm = jwk.get("alg")
        if algorithm is not None and algorithm not in self._algorithms:
            return None
        try:
            key = PyJWK(jwk).key
        except Exception:  # any unparsable JWK is skipped, as PyJWKSet does
            return None
        if not any(key_fits(name, key) for name in self._algorithms):
            return None  # e.g. a private key, or a key type we do not allow
        kid = jwk.get("kid")
        digest = hashlib.sha256(orjson.dumps(jwk, option=orjson.OPT_SORT_KEYS)).digest()
        return _Entry(kid if isinstance(kid, str) else None, algorithm, key, digest)


def _signatures(entries: tuple[_Entry, ...]) -> set[tuple[str | None, str | None, bytes]]:
    return {(entry.kid, entry.algorithm, entry.digest) for entry in entries}
