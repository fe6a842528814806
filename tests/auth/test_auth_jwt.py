"""JWT verification against static keys: every algorithm family, and the attack set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from auth_tokens import (
    AUDIENCE,
    HS_SECRET,
    ISSUER,
    ROLES,
    KeyPair,
    auth_header,
    b64url,
    bearer,
    claims,
    forge,
    mint,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.auth import Authenticator, Caller
from gateway.errors import InvalidToken


def rs256_auth(rsa_key: KeyPair, pem_file: Callable[[bytes], str], **jwt: Any) -> Authenticator:
    config = {
        "algorithms": ["RS256"],
        "public_key_file": pem_file(rsa_key.public_pem),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        **jwt,
    }
    return Authenticator.compile({"jwt": config}, ROLES, "agent")


async def test_valid_rs256_token_gives_its_role_and_sub(
    rsa_key: KeyPair, pem_file: Callable[[bytes], str]
) -> None:
    auth = rs256_auth(rsa_key, pem_file)
    identity = await auth_header(auth, mint(claims(role="admin"), rsa_key, "RS256"))
    assert identity == Caller(role="admin", masking=False, sub="user-42", token_present=True)


# Each row: (algorithms, key kind, signing algorithm). Every supported family verifies.
ALGORITHM_ROWS = [
    (["HS256"], "hs", "HS256"),  # shared secret from the environment
    (["HS384", "HS512"], "hs", "HS512"),  # any allowed HMAC size
    (["RS256", "RS384", "RS512"], "rsa", "RS384"),  # PKCS#1 v1.5 with a PEM public key
    (["PS256"], "rsa", "PS256"),  # RSA-PSS, same key type as RS*
    (["ES256"], "ec", "ES256"),  # P-256 public key
    (["EdDSA"], "ed", "EdDSA"),  # Ed25519 public key
    (["RS256", "PS256"], "rsa", "RS256"),  # one RSA key may serve several RSA algorithms
]


@pytest.mark.parametrize(("algorithms", "kind", "signing_alg"), ALGORITHM_ROWS)
async def test_every_supported_algorithm_verifies(
    algorithms: list[Any],
    kind: str,
    signing_alg: str,
    rsa_key: KeyPair,
    ec_key: KeyPair,
    ed_key: KeyPair,
    pem_file: Callable[[bytes], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMNIGATE_JWT_SECRET", HS_SECRET)
    pairs = {"rsa": rsa_key, "ec": ec_key, "ed": ed_key}
    if kind == "hs":
        config: dict[str, Any] = {"secret_env": "OMNIGATE_JWT_SECRET"}
        signing_key: Any = HS_SECRET
    else:
        config = {"public_key_file": pem_file(pairs[kind].public_pem)}
        signing_key = pairs[kind]
    auth = Authenticator.compile({"jwt": {"algorithms": algorithms, **config}}, ROLES, "agent")
    identity = await auth_header(auth, mint(claims(role="admin"), signing_key, signing_alg))
    assert (identity.role, identity.masking) == ("admin", False)


def _tamper_payload(token: str) -> str:
    header, _, signature = token.split(".")
    payload = b64url(b'{"sub":"user-42","role":"admin","exp":9999999999}')
    return f"{header}.{payload}.{signature}"


def _attacks(rsa: KeyPair, other: KeyPair, ec: KeyPair) -> list[tuple[str, str, str]]:
    now = int(time.time())
    return [
        # alg "none" with an empty signature: never accepted
        ("alg_none", forge({"alg": "none", "typ": "JWT"}, claims(), None), "disallowed_algorithm"),
        # "None" capitalised: still not on the allow-list
        ("alg_None", forge({"alg": "None"}, claims(), None), "disallowed_algorithm"),
        # key confusion: HS256 keyed with the RSA public PEM, against an RS256 config
        (
            "hs256_with_public_pem",
            forge({"alg": "HS256", "typ": "JWT"}, claims(role="admin"), rsa.public_pem),
            "disallowed_algorithm",
        ),
        # a real signature with an algorithm off the allow-list
        ("rs512_not_allowed", mint(claims(), rsa, "RS512"), "disallowed_algorithm"),
        # PSS is RSA too, but only RS256 is allowed
        ("ps256_not_allowed", mint(claims(), rsa, "PS256"), "disallowed_algorithm"),
        # ES256 is not allowed (and the EC key is not the configured one)
        ("es256_not_allowed", mint(claims(), ec, "ES256"), "disallowed_algorithm"),
        # header without alg
        ("no_alg", forge({"typ": "JWT"}, claims(), None), "disallowed_algorithm"),
        # signed by another RSA key
        ("other_key", mint(claims(), other, "RS256"), "bad_signature"),
        # payload swapped after signing (privilege escalation attempt)
        ("tampered", _tamper_payload(mint(claims(), rsa, "RS256")), "bad_signature"),
        # a jku header pointing at the attacker's keys is ignored: still the configured key
        (
            "jku_ignored",
            mint(claims(), other, "RS256", {"jku": "https://evil.test/jwks.json"}),
            "bad_signature",
        ),
        # expired well beyond the (zero) leeway
        ("expired", mint(claims(exp=now - 60), rsa, "RS256"), "expired"),
        # exp exactly now is already expired (exp must be in the future)
        ("exp_now", mint(claims(exp=now - 1), rsa, "RS256"), "expired"),
        # not valid before a future time
        ("future_nbf", mint(claims(nbf=now + 600), rsa, "RS256"), "not_yet_valid"),
        # issued in the future
        ("future_iat", mint(claims(iat=now + 600), rsa, "RS256"), "iat_in_future"),
        # exp required by default
        ("missing_exp", mint(claims(exp=None), rsa, "RS256"), "missing_exp"),
        # exp that is not a number
        ("string_exp", mint(claims(exp="tomorrow"), rsa, "RS256"), "malformed"),
        # audience for another API
        ("wrong_aud", mint(claims(aud="billing-api"), rsa, "RS256"), "bad_audience"),
        # no audience while one is configured
        ("missing_aud", mint(claims(aud=None), rsa, "RS256"), "bad_audience"),
        # issuer of another identity provider
        ("wrong_iss", mint(claims(iss="https://evil.test/"), rsa, "RS256"), "bad_issuer"),
        # no issuer while one is configured
        ("missing_iss", mint(claims(iss=None), rsa, "RS256"), "bad_issuer"),
        # not a JWT at all
        ("garbage", "not-a-token", "malformed"),
        # what logged-out front ends often send
        ("undefined", "undefined", "malformed"),
        # three segments, but not base64url JSON
        ("bad_segments", "aaa.bbb.ccc", "malformed"),
        # a JWE (five parts) is not a signed token
        ("jwe_shape", "a.b.c.d.e", "malformed"),
        # non-ASCII text never reaches the decoder
        ("non_ascii", "é.é.é", "malformed"),
    ]


@pytest.fixture
def attacks(
    rsa_key: KeyPair, other_rsa_key: KeyPair, ec_key: KeyPair
) -> dict[str, tuple[str, str]]:
    rows = _attacks(rsa_key, other_rsa_key, ec_key)
    return {name: (token, reason) for name, token, reason in rows}


ATTACK_NAMES = [
    "alg_none",
    "alg_None",
    "hs256_with_public_pem",
    "rs512_not_allowed",
    "ps256_not_allowed",
    "es256_not_allowed",
    "no_alg",
    "other_key",
    "tampered",
    "jku_ignored",
    "expired",
    "exp_now",
    "future_nbf",
    "future_iat",
    "missing_exp",
    "string_exp",
    "wrong_aud",
    "missing_aud",
    "wrong_iss",
    "missing_iss",
    "garbage",
    "undefined",
    "bad_segments",
    "jwe_shape",
    "non_ascii",
]


@pytest.mark.parametrize("name", ATTACK_NAMES)
async def test_attack_is_rejected_with_its_reason(
    name: str,
    attacks: dict[str, tuple[str, str]],
    rsa_key: KeyPair,
    pem_file: Callable[[bytes], str],
) -> None:
    token, reason = attacks[name]
    auth = rs256_auth(rsa_key, pem_file)
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, token)
    assert caught.value.reason == reason
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # SECURITY: the message never echoes the token or its claims.
    for secret in (token, "user-42", ISSUER, AUDIENCE, "evil"):
        assert secret not in caught.value.message


def test_attack_table_is_complete(
    rsa_key: KeyPair, other_rsa_key: KeyPair, ec_key: KeyPair
) -> None:
    assert [row[0] for row in _attacks(rsa_key, other_rsa_key, ec_key)] == ATTACK_NAMES


# Each row: (claim overrides relative to now, leeway, accepted?).
LEEWAY_ROWS = [
    ({"exp": -10}, 30, True),  # expired 10 s ago, within 30 s leeway
    ({"exp": -60}, 30, False),  # expired beyond the leeway
    ({"nbf": 10}, 30, True),  # nbf slightly ahead: clock skew tolerated
    ({"iat": 10}, 30, True),  # iat slightly ahead: clock skew tolerated
    ({"iat": 60}, 30, False),  # iat far ahead
    ({"nbf": -10}, 0, True),  # nbf in the past
]


@pytest.mark.parametrize(("offsets", "leeway", "accepted"), LEEWAY_ROWS)
async def test_leeway(
    offsets: dict[str, Any],
    leeway: int,
    accepted: bool,
    rsa_key: KeyPair,
    pem_file: Callable[[bytes], str],
) -> None:
    now = int(time.time())
    token = mint(claims(**{k: now + v for k, v in offsets.items()}), rsa_key, "RS256")
    auth = rs256_auth(rsa_key, pem_file, leeway_seconds=leeway)
    if accepted:
        assert (await auth_header(auth, token)).token_present
    else:
        with pytest.raises(InvalidToken):
            await auth_header(auth, token)


async def test_require_exp_false_accepts_tokens_without_exp(
    rsa_key: KeyPair, pem_file: Callable[[bytes], str]
) -> None:
    auth = rs256_auth(rsa_key, pem_file, require_exp=False)
    identity = await auth_header(auth, mint(claims(exp=None), rsa_key, "RS256"))
    assert identity.role == "team_manager"


async def test_unconfigured_audience_and_issuer_are_not_checked(
    rsa_key: KeyPair, pem_file: Callable[[bytes], str]
) -> None:
    config = {"algorithms": ["RS256"], "public_key_file": pem_file(rsa_key.public_pem)}
    auth = Authenticator.compile({"jwt": config}, ROLES, "agent")
    token = mint(claims(aud="anything", iss="https://other.test/"), rsa_key, "RS256")
    assert (await auth_header(auth, token)).role == "team_manager"


async def test_audience_list_accepts_any_listed_value(
    rsa_key: KeyPair, pem_file: Callable[[bytes], str]
) -> None:
    auth = rs256_auth(rsa_key, pem_file, audience=["other-api", AUDIENCE])
    assert (await auth_header(auth, mint(claims(), rsa_key, "RS256"))).token_present


async def test_cached_token_still_expires(
    rsa_key: KeyPair, pem_file: Callable[[bytes], str]
) -> None:
    auth = rs256_auth(rsa_key, pem_file)
    exp = time.time() + 1.0  # NumericDate may be fractional (RFC 7519 2)
    token = mint(claims(exp=exp), rsa_key, "RS256")
    first = await auth_header(auth, token)
    assert await auth_header(auth, token) == first  # served from the cache
    await asyncio.sleep(exp + 0.05 - time.time())
    with pytest.raises(InvalidToken) as caught:
        await auth_header(auth, token)
    assert caught.value.reason == "expired"


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(max_size=200))
def test_any_text_token_is_either_rejected_cleanly_or_absent(
    token: str, rsa_key: KeyPair, pem_file: Callable[[bytes], str]
) -> None:
    # The fixtures are read-only here, so sharing them across examples is safe.
    auth = rs256_auth(rsa_key, pem_file)
    try:
        identity = asyncio.run(auth.authenticate(bearer(token), {}, {}))
    except InvalidToken as error:
        assert error.reason == "malformed" or error.reason == "disallowed_algorithm"
    else:
        # Only an empty/whitespace token counts as "no token"; nothing else can pass.
        assert not token.strip() and identity.role == "agent"
