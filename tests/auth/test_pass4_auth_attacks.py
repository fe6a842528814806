"""Issue 9 (branch pass4) attack 2: `Authenticator.known_caller` and the token cache keyed by the
token itself. Whatever a request carries, a fast-path hit must be what `authenticate` decides for
the same headers at the same moment, and no refusal may be skipped: expiry with leeway, the
cache's own age limit, a JWKS key rotated out, a token refused once."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from auth_tokens import HS_SECRET, NO_QUERY, ROLES, KeyPair, claims, headers_of, hs_auth, mint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm
from pytest_aiohttp import AiohttpServer

from gateway.auth import Authenticator, token_cache
from gateway.auth import jwks as jwks_module
from gateway.errors import GatewayError, InvalidToken


class Clock:
    """`time.time` under the test's control (the cache and the verifier both read it)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


async def _decided(auth: Authenticator, value: str) -> str:
    """What `authenticate` makes of one Authorization value: a role, or the refusal's reason."""
    try:
        caller = await auth.authenticate(headers_of(("Authorization", value)), {}, NO_QUERY)
    except GatewayError as exc:
        return f"refused:{getattr(exc, 'reason', '')}"
    return caller.role


# Each row: (leeway, exp relative to the first verification, seconds later, still served?).
EXPIRY_ROWS = [
    (0, 60, 59.9, True),  # before exp
    (0, 60, 60.0, False),  # exactly at exp: expired (exp <= now)
    (30, 60, 89.9, True),  # inside the leeway
    (30, 60, 90.0, False),  # leeway over
    (30, -10, 19.9, True),  # already past exp when first seen, still inside the leeway
    (30, -10, 20.0, False),
    (0, 100_000, token_cache.MAX_AGE - 0.1, True),  # a long-lived token: the cache's own limit
    (0, 100_000, token_cache.MAX_AGE, False),  # ... then it is verified anew
]


@pytest.mark.parametrize(("leeway", "exp", "later", "served"), EXPIRY_ROWS)
async def test_expiry_holds_on_the_fast_path(
    secret: None, clock: Clock, leeway: float, exp: float, later: float, served: bool
) -> None:
    auth = hs_auth(leeway_seconds=leeway)
    token = mint(claims(role="admin", exp=clock.now + exp, iat=None), HS_SECRET, "HS256")
    headers = headers_of(("Authorization", f"Bearer {token}"))
    assert (await auth.authenticate(headers, {}, NO_QUERY)).role == "admin"
    clock.now += later
    known = auth.known_caller(headers)
    if served:
        assert known is not None and known.role == "admin"
    else:
        assert known is None
    # whatever the fast path said, the full path agrees with the verifier at that moment
    expired = clock.now >= clock.now - later + exp + leeway
    assert await _decided(auth, f"Bearer {token}") == ("refused:expired" if expired else "admin")


async def test_a_refused_token_is_never_served(secret: None, clock: Clock) -> None:
    # SECURITY: not yet valid (nbf past the leeway) is refused, and stays so until it is valid.
    auth = hs_auth(leeway_seconds=5)
    token = mint(claims(role="admin", nbf=clock.now + 60), HS_SECRET, "HS256")
    headers = headers_of(("Authorization", f"Bearer {token}"))
    assert await _decided(auth, f"Bearer {token}") == "refused:not_yet_valid"
    assert auth.known_caller(headers) is None
    clock.now += 56  # inside the leeway now
    assert auth.known_caller(headers) is None  # never cached while refused
    assert await _decided(auth, f"Bearer {token}") == "admin"


async def test_a_forged_twin_of_a_cached_token_is_not_served(secret: None) -> None:
    # The cache is keyed by the token string: a token differing in its signature, its padding or
    # a claim is another key, verified (and refused) on its own.
    auth = hs_auth()
    token = mint(claims(role="admin"), HS_SECRET, "HS256")
    await _decided(auth, f"Bearer {token}")
    head, payload, signature = token.split(".")
    twins = [
        f"{head}.{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{head}.{payload}.{signature}=",
        f"{head}.{payload}.",
        f"{head}.{payload}",
        token + " ",  # (stripped: the same token, served)
        mint(claims(role="admin"), HS_SECRET + "x", "HS256"),
        token.upper(),
    ]
    for twin in twins:
        known = auth.known_caller(headers_of(("Authorization", f"Bearer {twin}")))
        decided = await _decided(auth, f"Bearer {twin}")
        if known is not None:
            assert twin.strip() == token and decided == "admin"
        else:
            assert decided.startswith("refused:"), twin


async def test_role_claim_changes_are_new_tokens(secret: None) -> None:
    # The same subject re-issued with a lower role gets the lower role at once.
    auth = hs_auth()
    admin = mint(claims(role="admin", sub="u1"), HS_SECRET, "HS256")
    agent = mint(claims(role="agent", sub="u1"), HS_SECRET, "HS256")
    assert await _decided(auth, f"Bearer {admin}") == "admin"
    assert await _decided(auth, f"Bearer {agent}") == "agent"
    known = auth.known_caller(headers_of(("Authorization", f"Bearer {agent}")))
    assert known is not None and known.role == "agent" and known.masking


async def test_cache_bounds_hold(secret: None) -> None:
    # A client cycling many valid tokens evicts the oldest; nothing grows past the bound, and an
    # evicted token is verified again (and served again afterwards).
    auth = hs_auth()
    auth._cache = token_cache.TokenCache(max_entries=8)
    tokens = [mint(claims(role="admin", jti=str(i)), HS_SECRET, "HS256") for i in range(20)]
    for value in tokens:
        await _decided(auth, f"Bearer {value}")
    assert len(auth._cache) == 8
    assert auth.known_caller(headers_of(("Authorization", f"Bearer {tokens[0]}"))) is None
    assert auth.known_caller(headers_of(("Authorization", f"Bearer {tokens[-1]}"))) is not None
    assert "eyJ" not in repr(auth._cache)  # SECURITY: never the tokens


VALUES = st.sampled_from(
    [
        "Bearer {t}",
        "BEARER {t}",
        "bEaReR   {t}",
        "\tBearer {t}\t",
        "Bearer\t{t}",  # a tab is not the separator find_token splits on
        "Bearer {t}\u00a0",  # NBSP: str.strip removes it on both paths alike
        "Bearer {t}\u2028",
        "Bearer {t},",
        "Bearer {t}, Bearer {t}",
        "Bearer  {t} x",
        "Bearer {t}x",
        "Basic {t}",
        "Bearer",
        "{t}",
        "",
    ]
)


@settings(
    deadline=None, max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(VALUES, max_size=3), extra=st.sampled_from(["", "Cookie", "X-Auth"]))
def test_a_hit_is_the_full_decision(values: list[str], extra: str, secret: None) -> None:
    # Any Authorization header list (plus other token-looking headers): a fast-path hit is
    # exactly the Caller `authenticate` returns, which must not be a refusal.
    async def check() -> None:
        auth = hs_auth()
        token = mint(claims(role="admin"), HS_SECRET, "HS256")
        await _decided(auth, f"Bearer {token}")
        pairs = [("Authorization", v.format(t=token)) for v in values]
        if extra:
            pairs.append((extra, f"Bearer {token}"))
        headers = headers_of(*pairs)
        known = auth.known_caller(headers)
        if known is not None:
            assert known == await auth.authenticate(headers, {}, NO_QUERY)

    asyncio.run(check())


# --- a real JWKS provider rotating a key out --------------------------------------------------


async def test_a_key_rotated_out_stops_the_fast_path(
    aiohttp_server: AiohttpServer,
    rsa_key: KeyPair,
    other_rsa_key: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SECURITY (issue 10 class 8): a cached admin verdict dies with its key, fast path included;
    # the poll that notices the rotation runs on fast-path hits too.
    monkeypatch.setattr(jwks_module, "REFRESH_AFTER", 0.0)
    monkeypatch.setattr(jwks_module, "REFETCH_INTERVAL", 0.0)
    published = [{**RSAAlgorithm.to_jwk(rsa_key.public, as_dict=True), "kid": "A"}]
    hits = [0]

    async def serve(request: aiohttp.web.Request) -> aiohttp.web.Response:
        hits[0] += 1
        return aiohttp.web.json_response({"keys": published})

    app = aiohttp.web.Application()
    app.router.add_get("/jwks.json", serve)
    server = await aiohttp_server(app, host="127.0.0.1")
    async with aiohttp.ClientSession() as session:
        config = {"algorithms": ["RS256"], "jwks_url": str(server.make_url("/jwks.json"))}
        auth = Authenticator.compile({"jwt": config}, ROLES, "agent")
        await auth.start(session)
        token = mint(claims(role="admin"), rsa_key, "RS256", {"kid": "A"})
        headers = headers_of(("Authorization", f"Bearer {token}"))
        assert (await auth.authenticate(headers, {}, NO_QUERY)).role == "admin"
        published[:] = [{**RSAAlgorithm.to_jwk(other_rsa_key.public, as_dict=True), "kid": "B"}]
        before = hits[0]
        for _ in range(300):  # fast-path hits alone must get the key set refreshed
            if auth.known_caller(headers) is None:
                break
            await asyncio.sleep(0.01)
        assert hits[0] > before
        assert auth.known_caller(headers) is None
        with pytest.raises(InvalidToken) as caught:
            await auth.authenticate(headers, {}, NO_QUERY)
        assert caught.value.reason == "unknown_kid"
        await auth.close()
