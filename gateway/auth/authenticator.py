"""The authenticator: request -> Caller (role, masking toggle, `sub`), compiled once from rules.

Without an `auth:` section no token is read at all: every request gets `default_role`
(token_present False, sub None), whatever it carries.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from gateway.auth.jwks import JwksKeys
from gateway.auth.keys import KeyResolver, StaticKey, load_public_key_file, load_secret
from gateway.auth.roles import RoleTable, claim_at
from gateway.auth.settings import AuthSettings, JwtSettings, parse_auth
from gateway.auth.token_cache import TokenCache
from gateway.auth.token_source import AUTHORIZATION, TokenSource, bearer, find_token
from gateway.auth.verifier import TokenVerifier
from gateway.errors import ConfigError, MissingToken


@dataclass(frozen=True)
class Caller:
    role: str  # resolved role name
    masking: bool  # that role's masking toggle
    sub: str | None  # JWT `sub` (for logs/audit), None for anonymous
    token_present: bool


class Authenticator:
    def __init__(
        self,
        roles: RoleTable,
        settings: AuthSettings | None = None,
        keys: KeyResolver | None = None,
    ) -> None:
        self._roles = roles
        self._role_claim = settings.jwt.role_claim if settings else ""
        self._sources: tuple[TokenSource, ...] = settings.jwt.token_from if settings else ()
        self._reads_cookies = any(source.kind == "cookie" for source in self._sources)
        self._reads_query = any(source.kind == "query" for source in self._sources)
        self._reject_missing = settings.reject_missing if settings else False
        self._keys = keys
        self._verifier = TokenVerifier(settings.jwt, keys) if settings and keys else None
        self._cache: TokenCache[Caller] = TokenCache()
        # `known_caller` serves only a request whose one possible token source is the header.
        self._header_verifier = (
            self._verifier if self._sources == (TokenSource("header", AUTHORIZATION),) else None
        )
        self._anonymous = Caller(
            role=roles.default, masking=roles.masking[roles.default], sub=None, token_present=False
        )

    @classmethod
    def compile(
        cls,
        auth: Mapping[str, Any] | None,
        roles: Mapping[str, Mapping[str, Any]],
        default_role: str | None,
        environ: Mapping[str, str] = os.environ,
    ) -> Authenticator:
        """Check everything and load every key once; problems raise ConfigError."""
        table = RoleTable.compile(roles, default_role)
        if auth is None:
            return cls(table)
        if not isinstance(auth, Mapping):
            raise ConfigError(("auth",), "auth must be a mapping")
        settings = parse_auth(auth)
        return cls(table, settings, _key_resolver(settings.jwt, environ))

    @property
    def reads_cookies(self) -> bool:
        """Whether a token may come from a cookie (caches must then vary on `Cookie` too)."""
        return self._reads_cookies

    @property
    def reads_query(self) -> bool:
        """Whether a token may come from the query string (else it need not be parsed)."""
        return self._reads_query

    def known_caller(self, headers: CIMultiDictProxy[str]) -> Caller | None:
        """The caller of a request carrying one `Authorization: Bearer` header whose token is
        cached (verified, unexpired, same key generation); None: ask `authenticate`.

        The common request, in the fewest steps: everything else (no token, several headers,
        another source configured, an unknown or expired token) goes the full way, which is
        where every refusal is decided. SECURITY: a hit is exactly what `authenticate` would
        return for the same headers at the same time: the same token parse (`find_token` reads
        one header as `bearer` does here), the same cache entry and the same checks; only
        verified tokens, at most `MAX_TOKEN_CHARS` long, are ever in the cache.
        """
        verifier = self._header_verifier
        if verifier is None:
            return None
        found = headers.getall(AUTHORIZATION, None)
        if found is None or len(found) != 1:
            return None
        token = bearer(found[0].strip())
        if token is None:
            return None
        return self._cache.get(token, time.time(), verifier.generation)

    async def authenticate(
        self,
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        query: Mapping[str, str],
    ) -> Caller:
        """The caller's identity; InvalidToken for a bad token, MissingToken under reject."""
        if self._verifier is None:
            return self._anonymous
        token = find_token(self._sources, headers, cookies, query)
        if token is None:
            if self._reject_missing:
                raise MissingToken()
            return self._anonymous
        now = time.time()
        generation = self._verifier.generation
        identity = self._cache.get(token, now, generation)
        if identity is not None:
            return identity
        verified = await self._verifier.verify(token)
        claims = verified.claims
        role = self._roles.role_from(claim_at(claims, self._role_claim))
        sub = claims.get("sub")
        identity = Caller(
            role=role,
            masking=self._roles.masking[role],
            sub=sub if isinstance(sub, str) else None,
            token_present=True,
        )
        # The generation read before verifying: a key-set change meanwhile invalidates the entry.
        self._cache.put(token, identity, verified.expires_at, now, generation)
        return identity

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Begin key use: prefetches a JWKS in the background; never fails if it is down."""
        if self._keys is not None:
            await self._keys.start(session)

    async def close(self) -> None:
        if self._keys is not None:
            await self._keys.close()


def _key_resolver(jwt: JwtSettings, environ: Mapping[str, str]) -> KeyResolver:
    if jwt.secret_env is not None:
        return StaticKey(load_secret(jwt.secret_env, environ, jwt.algorithms))
    if jwt.public_key_file is not None:
        return StaticKey(load_public_key_file(jwt.public_key_file, jwt.algorithms))
    assert jwt.jwks_url is not None  # settings guarantee exactly one key source
    return JwksKeys(jwt.jwks_url, jwt.algorithms)
