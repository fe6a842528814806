"""Role resolution from claims, token sources, and requests without a token."""

from __future__ import annotations

from typing import Any

import pytest
from auth_tokens import (
    HS_SECRET,
    NO_HEADERS,
    NO_QUERY,
    ROLES,
    bearer,
    claims,
    headers_of,
    hs_auth,
    mint,
    query_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.auth.roles import RoleTable
from gateway.errors import InvalidToken, MissingToken


def hs_token(**overrides: Any) -> str:
    return mint(claims(**overrides), HS_SECRET, "HS256")


# Each row: (role_claim setting, claim overrides, expected role).
ROLE_ROWS = [
    (None, {"role": "admin"}, "admin"),  # default claim name is "role"
    (None, {"role": "team_manager"}, "team_manager"),  # a plain string role
    (None, {"role": "superuser"}, "agent"),  # unknown role -> default_role
    (None, {"role": None}, "agent"),  # absent claim -> default_role
    (None, {"role": ""}, "agent"),  # empty string -> default_role
    (None, {"role": 7}, "agent"),  # not a string -> default_role
    (None, {"role": {"name": "admin"}}, "agent"),  # an object is not a role
    (None, {"role": "Admin"}, "agent"),  # role names are case-sensitive
    (None, {"role": ["agent", "admin"]}, "admin"),  # list: most privileged of roles: wins
    (None, {"role": ["agent", "team_manager"]}, "team_manager"),  # order of roles:, not of list
    (None, {"role": ["viewer", "agent"]}, "agent"),  # unknown entries are skipped
    (None, {"role": ["viewer"]}, "agent"),  # list without a known role -> default_role
    (None, {"role": []}, "agent"),  # empty list -> default_role
    (None, {"role": [1, None, "team_manager"]}, "team_manager"),  # non-strings ignored
    ("realm_access.roles", {"realm_access": {"roles": ["offline", "admin"]}}, "admin"),  # dotted
    ("realm_access.roles", {"realm_access": ["admin"]}, "agent"),  # path through a non-object
    ("realm_access.roles", {"role": "admin"}, "agent"),  # another claim is not consulted
    ("a.b.c", {"a": {"b": {"c": "team_manager"}}}, "team_manager"),  # deeper path, string value
    # namespaced claim whose name contains dots (Auth0 style) is found as a top-level key
    ("https://example.test/roles", {"https://example.test/roles": ["admin"]}, "admin"),
]


@pytest.mark.parametrize(("role_claim", "overrides", "expected"), ROLE_ROWS)
async def test_role_from_claims(
    role_claim: str | None, overrides: dict[str, Any], expected: str, secret: None
) -> None:
    auth = hs_auth(**({"role_claim": role_claim} if role_claim else {}))
    identity = await auth.authenticate(bearer(hs_token(**overrides)), {}, NO_QUERY)
    assert identity.role == expected
    assert identity.masking is (expected != "admin")
    assert identity.token_present and identity.sub == "user-42"


async def test_non_string_sub_is_rejected(secret: None) -> None:
    # pyjwt insists on a string sub; a number is not silently turned into a log identity.
    with pytest.raises(InvalidToken) as caught:
        await hs_auth().authenticate(bearer(hs_token(sub=42)), {}, NO_QUERY)
    assert caught.value.reason == "malformed"


# Each row: (token_from, headers, cookies, query, which token wins or None for no token).
SOURCE_ROWS = [
    (None, [("Authorization", "Bearer {a}")], {}, {}, "a"),  # default: the header
    (None, [("authorization", "bearer {a}")], {}, {}, "a"),  # scheme/header case-insensitive
    (None, [("Authorization", "BEARER   {a}  ")], {}, {}, "a"),  # extra spaces tolerated
    (None, [("Authorization", "Basic dXNlcjpwdw==")], {}, {}, None),  # non-Bearer: no token
    (None, [("Authorization", "Bearer ")], {}, {}, None),  # empty Bearer: no token
    (None, [], {"session": "{a}"}, {"access_token": "{a}"}, None),  # only header by default
    (["cookie:session"], [], {"session": "{a}"}, {}, "a"),  # cookie
    (["query:access_token"], [], {}, {"access_token": "{a}"}, "a"),  # query parameter
    # the first source that has a token wins
    (["header", "cookie:session"], [("Authorization", "Bearer {a}")], {"session": "{b}"}, {}, "a"),
    (["cookie:session", "header"], [("Authorization", "Bearer {a}")], {"session": "{b}"}, {}, "b"),
    # a source without a token falls through to the next
    (["header", "query:t"], [("Authorization", "Basic x")], {}, {"t": "{b}"}, "b"),
    (["header", "cookie:session"], [], {"session": ""}, {}, None),  # empty cookie: no token
]


@pytest.mark.parametrize(("token_from", "headers", "cookies", "query", "winner"), SOURCE_ROWS)
async def test_token_sources(
    token_from: list[Any] | None,
    headers: list[Any],
    cookies: dict[str, Any],
    query: dict[str, Any],
    winner: str | None,
    secret: None,
) -> None:
    tokens = {"a": hs_token(role="admin"), "b": hs_token(role="team_manager")}

    def fill(value: str) -> str:
        return value.format(**tokens)

    auth = hs_auth(**({"token_from": token_from} if token_from else {}))
    identity = await auth.authenticate(
        headers_of(*[(name, fill(value)) for name, value in headers]),
        {name: fill(value) for name, value in cookies.items()},
        query_of(**{name: fill(value) for name, value in query.items()}),
    )
    expected = {"a": "admin", "b": "team_manager", None: "agent"}[winner]
    assert identity.role == expected
    assert identity.token_present is (winner is not None)


async def test_two_different_authorization_headers_are_refused(secret: None) -> None:
    headers = headers_of(
        ("Authorization", f"Bearer {hs_token(role='admin')}"),
        ("Authorization", f"Bearer {hs_token(role='agent')}"),
    )
    with pytest.raises(InvalidToken) as caught:
        await hs_auth().authenticate(headers, {}, NO_QUERY)
    assert caught.value.reason == "malformed"


async def test_oversized_token_is_malformed(secret: None) -> None:
    with pytest.raises(InvalidToken) as caught:
        await hs_auth().authenticate(bearer("a" * 20000), {}, NO_QUERY)
    assert caught.value.reason == "malformed"


async def test_missing_token_gets_default_role(secret: None) -> None:
    identity = await hs_auth().authenticate(NO_HEADERS, {}, NO_QUERY)
    assert (identity.role, identity.masking, identity.sub, identity.token_present) == (
        "agent",
        True,
        None,
        False,
    )


async def test_missing_token_rejected_when_configured(secret: None) -> None:
    auth = hs_auth(missing_token="reject")
    with pytest.raises(MissingToken) as caught:
        await auth.authenticate(NO_HEADERS, {}, NO_QUERY)
    assert caught.value.status == 401 and caught.value.code == "missing_token"
    # a non-Bearer Authorization header is no token either
    with pytest.raises(MissingToken):
        await auth.authenticate(headers_of(("Authorization", "Basic eA==")), {}, NO_QUERY)
    # while a valid token still passes
    assert (await auth.authenticate(bearer(hs_token()), {}, NO_QUERY)).role == "team_manager"


async def test_invalid_token_is_not_downgraded_to_default_role(secret: None) -> None:
    # SECURITY: a present-but-bad token is 401, never quietly treated as anonymous.
    forged = mint(claims(role="admin"), "another-secret-that-is-long-enough-0123456789", "HS256")
    with pytest.raises(InvalidToken) as caught:
        await hs_auth().authenticate(bearer(forged), {}, NO_QUERY)
    assert caught.value.reason == "bad_signature"


ORDER = tuple(ROLES)
TABLE = RoleTable.compile(ROLES, "agent")


@settings(deadline=None, max_examples=200)
@given(st.lists(st.one_of(st.sampled_from([*ORDER, "viewer", "Admin", ""]), st.text(max_size=5))))
def test_list_claim_picks_the_most_privileged_held_role(held: Any) -> None:
    role = TABLE.role_from(held)
    known = [name for name in ORDER if name in held]
    assert role == (known[0] if known else "agent")
    # no role outside the table can ever come out
    assert role in ORDER
