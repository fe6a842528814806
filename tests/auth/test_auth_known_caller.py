"""`Authenticator.known_caller`, the cached-token fast path: a hit is exactly what `authenticate`
gives for the same headers; anything else is None (the full path decides, refusals included)."""

from __future__ import annotations

import asyncio
import time

import pytest
from auth_tokens import HS_SECRET, NO_QUERY, ROLES, claims, headers_of, hs_auth, mint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.auth import Authenticator

TOKEN = "{token}"  # stands for the token that was verified (and cached) first
# Each row: (token_from, the request's Authorization headers, served by the fast path?).
ROWS: list[tuple[list[str] | None, list[str], bool]] = [
    (None, [f"Bearer {TOKEN}"], True),  # the common request
    (None, [f"bearer {TOKEN}"], True),  # the scheme is case-insensitive, as find_token reads it
    (None, [f"  Bearer   {TOKEN}  "], True),  # spaces around, as find_token strips them
    (None, [], False),  # no token: anonymous or refused, decided by authenticate
    (None, ["Basic eA=="], False),  # another scheme: no token
    (None, ["Bearer "], False),  # an empty Bearer: no token
    (None, [f"Bearer {TOKEN}", f"Bearer {TOKEN}"], False),  # two headers: the full checks
    (None, [f"Bearer {TOKEN}", "Bearer other"], False),  # two different ones: refused there
    (None, ["Bearer not-the-cached-token"], False),  # unknown token: verified there
    (["header", "cookie:session"], [f"Bearer {TOKEN}"], False),  # other sources configured
    (["cookie:session"], [f"Bearer {TOKEN}"], False),  # the header is not a source at all
]


@pytest.mark.parametrize(("token_from", "values", "served"), ROWS)
async def test_known_caller(
    token_from: list[str] | None, values: list[str], served: bool, secret: None
) -> None:
    auth = hs_auth(**({"token_from": token_from} if token_from else {}))
    token = mint(claims(role="admin"), HS_SECRET, "HS256")
    cached = headers_of(("Authorization", f"Bearer {token}"), ("Cookie", f"session={token}"))
    await auth.authenticate(cached, {"session": token}, NO_QUERY)  # verified and cached
    headers = headers_of(*[("Authorization", v.replace(TOKEN, token)) for v in values])
    known = auth.known_caller(headers)
    if not served:
        assert known is None
        return
    assert known is not None and known.role == "admin" and known.token_present
    assert known == await auth.authenticate(headers, {}, NO_QUERY)


async def test_an_expired_token_is_not_served(
    secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SECURITY: the cache's expiry holds on the fast path too (exp, no leeway configured).
    auth = hs_auth()
    exp = time.time() + 60
    token = mint(claims(exp=exp), HS_SECRET, "HS256")
    headers = headers_of(("Authorization", f"Bearer {token}"))
    await auth.authenticate(headers, {}, NO_QUERY)
    assert auth.known_caller(headers) is not None
    monkeypatch.setattr(time, "time", lambda: exp + 0.001)
    assert auth.known_caller(headers) is None


async def test_a_new_key_generation_is_not_served(secret: None) -> None:
    # SECURITY: a changed key set drops cached verdicts on the fast path too.
    auth = hs_auth()
    token = mint(claims(), HS_SECRET, "HS256")
    headers = headers_of(("Authorization", f"Bearer {token}"))
    await auth.authenticate(headers, {}, NO_QUERY)
    auth._keys.generation = 1  # type: ignore[union-attr,misc]  # (as a JWKS rotation does)
    assert auth.known_caller(headers) is None


def test_without_auth_nothing_is_served() -> None:
    auth = Authenticator.compile(None, ROLES, "agent")
    assert auth.known_caller(headers_of(("Authorization", "Bearer x"))) is None


HEADER_VALUES = st.sampled_from(["Bearer {t}", "bearer {t}", " Bearer {t} ", "Bearer {t}x", "x"])


@settings(
    deadline=None, max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(HEADER_VALUES, max_size=3))
def test_a_hit_is_what_authenticate_returns(values: list[str], secret: None) -> None:
    async def check() -> None:
        auth = hs_auth()
        token = mint(claims(role="admin"), HS_SECRET, "HS256")
        await auth.authenticate(headers_of(("Authorization", f"Bearer {token}")), {}, NO_QUERY)
        headers = headers_of(*[("Authorization", v.format(t=token)) for v in values])
        known = auth.known_caller(headers)
        if known is not None:
            assert known == await auth.authenticate(headers, {}, NO_QUERY)

    asyncio.run(check())
