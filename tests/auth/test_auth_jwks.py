"""Keys from a real JWKS server on 127.0.0.1: prefetch, unknown-kid refetch, rate limit, outages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from auth_tokens import ROLES, KeyPair, auth_header, claims, mint
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pytest_aiohttp import AiohttpServer

from gateway.auth import Authenticator
from gateway.auth import jwks as jwks_module
from gateway.errors import InvalidToken


def jwk(pair: KeyPair, kid: str | None, **extra: Any) -> dict[str, Any]:
    public = pair.public
    if isinstance(public, rsa.RSAPublicKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    if kid is not None:
        data["kid"] = kid
    return {**data, **extra}


@dataclass
class JwksServer:
    url: str
    server: Any
    keys: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    status: int = 200


@pytest.fixture
async def jwks(aiohttp_server: AiohttpServer, rsa_key: KeyPair) -> JwksServer:
    state = JwksServer(url="", server=None, keys=[jwk(rsa_key, "A")])

    async def serve(request: web.Request) -> web.Response:
        state.hits += 1
        if state.status != 200:
            return web.Response(status=state.status, text="down")
        return web.json_response({"keys": state.keys})

    app = web.Application()
    app.router.add_get("/jwks.json", serve)
    server = await aiohttp_server(app, host="127.0.0.1")
    state.server = server
    state.url = str(server.make_url("/jwks.json"))
    return state


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def started(
    url: str, session: aiohttp.ClientSession, algorithms: tuple[Any, ...] = ("RS256",)
) -> Authenticator:
    config = {"algorithms": list(algorithms), "jwks_url": url}
    auth = Authenticator.compile({"jwt": config}, ROLES, "agent")
    await auth.start(session)
    return auth


@pytest.fixture
async def eager_auth(
    jwks: JwksServer, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> Authenticator:
    """An authenticator on the `jwks` key set whose refreshes are due at once."""
    monkeypatch.setattr(jwks_module, "REFRESH_AFTER", 0.0)
    monkeypatch.setattr(jwks_module, "REFETCH_INTERVAL", 0.0)
    return await started(jwks.url, session)


def rs(pair: KeyPair, kid: str | None, **overrides: Any) -> str:
    return mint(claims(**overrides), pair, "RS256", {"kid": kid} if kid else None)


async def test_prefetched_key_verifies(
    jwks: JwksServer, session: aiohttp.ClientSession, rsa_key: KeyPair
) -> None:
    auth = await started(jwks.url, session)
    identity = await auth_header(auth, rs(rsa_key, "A", role="admin"))
    assert identity.role == "admin"
    assert jwks.hits == 1  # the prefetch only
    await auth.close()


async def test_unknown_kid_refetches_once_then_rate_limits(
    jwks: JwksServer, session: aiohttp.ClientSession, rsa_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    auth = await started(jwks.url, session)
    assert (await auth_header(auth, rs(rsa_key, "A"))).token_present
    assert jwks.hits == 1
    # the provider rotates in key B: a token with kid B triggers exactly one refetch
    jwks.keys.append(jwk(other_rsa_key, "B"))
    assert (await auth_header(auth, rs(other_rsa_key, "B", role="admin"))).role == "admin"
    assert jwks.hits == 2
    # soon after, another unknown kid does not refetch (rate limit) and is refused as unknown_kid
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, rs(other_rsa_key, "C"))
    assert caught.value.reason == "unknown_kid" and caught.value.status == 401
    assert jwks.hits == 2
    await auth.close()


async def test_concurrent_unknown_kids_share_one_fetch(
    jwks: JwksServer, session: aiohttp.ClientSession, rsa_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    auth = await started(jwks.url, session)
    await auth_header(auth, rs(rsa_key, "A"))
    jwks.keys.append(jwk(other_rsa_key, "B"))
    tokens = [rs(other_rsa_key, "B", jti=str(n)) for n in range(8)]  # distinct: no cache hits
    identities = await asyncio.gather(*(auth_header(auth, token) for token in tokens))
    assert all(identity.token_present for identity in identities)
    assert jwks.hits == 2
    await auth.close()


async def test_outage_keeps_known_keys(
    jwks: JwksServer, session: aiohttp.ClientSession, rsa_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    auth = await started(jwks.url, session)
    await auth_header(auth, rs(rsa_key, "A"))
    await jwks.server.close()  # the JWKS server is gone
    # a fresh token (not cached) signed with the known key still verifies
    assert (await auth_header(auth, rs(rsa_key, "A", role="admin"))).role == "admin"
    # an unknown kid is a 401 unknown_kid, never a 5xx
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, rs(other_rsa_key, "B"))
    assert caught.value.reason == "unknown_kid" and caught.value.status == 401
    await auth.close()


async def test_jwks_never_reachable_is_jwks_unavailable(
    jwks: JwksServer, session: aiohttp.ClientSession, rsa_key: KeyPair
) -> None:
    jwks.status = 503
    auth = await started(jwks.url, session)  # start does not fail
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, rs(rsa_key, "A"))
    assert caught.value.reason == "jwks_unavailable" and caught.value.status == 401
    # the server comes back, but the on-demand refetch is rate limited: still refused, no fetch
    jwks.status = 200
    hits = jwks.hits
    with pytest.raises(InvalidToken):
        await auth_header(auth, rs(rsa_key, "A", jti="again"))
    assert jwks.hits == hits
    await auth.close()


async def test_refused_connection_is_jwks_unavailable(
    session: aiohttp.ClientSession, rsa_key: KeyPair, unused_tcp_port: int
) -> None:
    auth = await started(f"http://127.0.0.1:{unused_tcp_port}/jwks.json", session)
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, rs(rsa_key, "A"))
    assert caught.value.reason == "jwks_unavailable"
    await auth.close()


# Each row: (JWKS entries by name, token signer name, alg, header kid, expected role or reason).
KEYSET_ROWS = [
    (["rsa:A", "ec:E", "ed:D"], "ec", "ES256", "E", "admin"),  # EC P-256 from the set
    (["rsa:A", "ec:E", "ed:D"], "ed", "EdDSA", "D", "admin"),  # Ed25519 from the set
    (["rsa:A", "ec:E", "ed:D"], "rsa", "PS256", "A", "admin"),  # PSS with an RSA JWK
    (["rsa:-"], "rsa", "RS256", None, "admin"),  # no kid, a single key: used
    (["rsa:A", "rsa2:B"], "rsa", "RS256", None, "unknown_kid"),  # no kid, several keys: refused
    (["rsa:A", "ec:E"], "ec", "ES256", "A", "unknown_kid"),  # kid names a key of another type
    (["rsa:A!PS256"], "rsa", "RS256", "A", "unknown_kid"),  # the JWK's own alg differs
    (["rsa:A!enc"], "rsa", "RS256", "A", "jwks_unavailable"),  # encryption keys never verify
    (["oct:K", "rsa:A"], "rsa", "RS256", "A", "admin"),  # symmetric keys skipped, others kept
]


@pytest.mark.parametrize(("entries", "signer", "alg", "kid", "expected"), KEYSET_ROWS)
async def test_key_set_selection(
    entries: list[Any],
    signer: str,
    alg: str,
    kid: str | None,
    expected: str,
    jwks: JwksServer,
    session: aiohttp.ClientSession,
    rsa_key: KeyPair,
    other_rsa_key: KeyPair,
    ec_key: KeyPair,
    ed_key: KeyPair,
) -> None:
    pairs = {"rsa": rsa_key, "rsa2": other_rsa_key, "ec": ec_key, "ed": ed_key}
    keys: list[dict[str, Any]] = []
    for entry in entries:
        name, _, rest = entry.partition(":")
        entry_kid, _, flag = rest.partition("!")
        if name == "oct":
            keys.append({"kty": "oct", "k": "c2VjcmV0", "kid": entry_kid})
            continue
        extra = {"use": "enc"} if flag == "enc" else {"alg": flag} if flag else {}
        keys.append(jwk(pairs[name], None if entry_kid == "-" else entry_kid, **extra))
    jwks.keys = keys
    auth = await started(jwks.url, session, algorithms=("RS256", "PS256", "ES256", "EdDSA"))
    token = mint(claims(role="admin"), pairs[signer], alg, {"kid": kid} if kid else None)
    if expected in ROLES:
        assert (await auth_header(auth, token)).role == expected
    else:
        with pytest.raises(InvalidToken) as caught:
            await auth_header(auth, token)
        assert caught.value.reason == expected
    await auth.close()


async def test_works_without_start(jwks: JwksServer, rsa_key: KeyPair) -> None:
    # Without start() the key source opens (and close() shuts) its own session.
    config = {"algorithms": ["RS256"], "jwks_url": jwks.url}
    auth = Authenticator.compile({"jwt": config}, ROLES, "agent")
    assert (await auth_header(auth, rs(rsa_key, "A"))).token_present
    assert jwks.hits == 1
    await auth.close()


async def _refetched(jwks: JwksServer, hits: int) -> None:
    for _ in range(200):  # the refresh runs in the background; wait for it, boundedly
        if jwks.hits > hits:
            await asyncio.sleep(0.05)  # let the fetch task store the new key set
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the key set was never refreshed")


async def test_key_rotated_out_stops_its_cached_tokens(
    jwks: JwksServer,
    rsa_key: KeyPair,
    other_rsa_key: KeyPair,
    eager_auth: Authenticator,
) -> None:
    # Issue 10 class 8: a cached verdict must not outlive its key.
    auth = eager_auth
    token = rs(rsa_key, "A", role="admin")
    assert (await auth_header(auth, token)).role == "admin"  # verified and cached
    hits = jwks.hits
    jwks.keys = [jwk(other_rsa_key, "B")]  # the provider rotates A out
    await auth_header(auth, token)  # a cache hit still polls the stale key set
    await _refetched(jwks, hits)
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, token)
    assert caught.value.reason == "unknown_kid"
    await auth.close()


async def test_a_key_added_keeps_cached_tokens(
    jwks: JwksServer,
    rsa_key: KeyPair,
    other_rsa_key: KeyPair,
    eager_auth: Authenticator,
) -> None:
    auth = eager_auth
    token = rs(rsa_key, "A")
    await auth_header(auth, token)
    generation = auth._verifier.generation if auth._verifier else -1
    hits = jwks.hits
    jwks.keys.append(jwk(other_rsa_key, "B"))  # rotation starts: B published beside A
    await auth_header(auth, token)
    await _refetched(jwks, hits)
    assert auth._verifier is not None and auth._verifier.generation == generation
    assert (await auth_header(auth, token)).token_present
    await auth.close()


async def test_a_key_replaced_under_its_kid_stops_its_tokens(
    jwks: JwksServer,
    rsa_key: KeyPair,
    other_rsa_key: KeyPair,
    eager_auth: Authenticator,
) -> None:
    auth = eager_auth
    token = rs(rsa_key, "A")
    await auth_header(auth, token)
    hits = jwks.hits
    jwks.keys = [jwk(other_rsa_key, "A")]  # same kid, another key
    await auth_header(auth, token)
    await _refetched(jwks, hits)
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, token)
    assert caught.value.reason == "bad_signature"
    await auth.close()
