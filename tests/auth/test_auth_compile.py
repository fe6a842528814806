"""Load-time checks: a problem in `auth:`, `roles:` or `default_role` is a located ConfigError."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from auth_tokens import HS_SECRET, NO_HEADERS, NO_QUERY, ROLES, KeyPair, bearer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from gateway.auth import Authenticator, Caller
from gateway.errors import ConfigError

SECRET_ENV = "OMNIGATE_JWT_SECRET"
HS = {"algorithms": ["HS256"], "secret_env": SECRET_ENV}
JWKS = "https://id.example.test/jwks.json"


def _jwt(**fields: Any) -> dict[str, Any]:
    return {"jwt": {k: v for k, v in fields.items() if v is not None}}


# Each row: (auth section, roles, default_role, expected key path, message fragment).
# "<pem:KIND>" is replaced by a file holding that kind of PEM; "<missing>" by a path that is absent.
ERROR_ROWS = [
    # the secret's variable is not set: the message names it
    (_jwt(algorithms=["HS256"], secret_env="OMNIGATE_JWT_UNSET"), ROLES, "agent",
     ("auth", "jwt", "secret_env"),
     "environment variable OMNIGATE_JWT_UNSET is not set"),
    # default_role must mask
    (None, ROLES, "admin", ("default_role",),
     "default_role 'admin' must be a role with masking: true"),
    # default_role must be a role
    (None, ROLES, "guest", ("default_role",), "default_role 'guest' is not a role in roles"),
    # roles exist but no default_role
    (None, ROLES, None, ("default_role",), "default_role is required"),
    # masking is a boolean
    (None, {"agent": {"masking": "yes"}}, "agent", ("roles", "agent", "masking"),
     "masking must be true or false"),
    # "none" is never an allowed algorithm
    (_jwt(algorithms=["RS256", "none"], jwks_url=JWKS), ROLES, "agent",
     ("auth", "jwt", "algorithms", 1), '"none" is never accepted'),
    # nor in another spelling
    (_jwt(algorithms=["NONE"], jwks_url=JWKS), ROLES, "agent",
     ("auth", "jwt", "algorithms", 0), '"none" is never accepted'),
    # an algorithm pyjwt has but the SPEC does not support
    (_jwt(algorithms=["ES256K"], jwks_url=JWKS), ROLES, "agent",
     ("auth", "jwt", "algorithms", 0), "unsupported algorithm 'ES256K'"),
    # the allow-list must be explicit
    (_jwt(jwks_url=JWKS), ROLES, "agent", ("auth", "jwt", "algorithms"), "non-empty list"),
    (_jwt(algorithms=[], jwks_url=JWKS), ROLES, "agent", ("auth", "jwt", "algorithms"),
     "non-empty list"),
    # key confusion: HMAC next to a JWKS
    (_jwt(algorithms=["RS256", "HS256"], jwks_url=JWKS), ROLES, "agent",
     ("auth", "jwt", "algorithms"), "key confusion"),
    # key confusion: HMAC next to a PEM
    (_jwt(algorithms=["HS256"], public_key_file="<pem:rsa>"), ROLES, "agent",
     ("auth", "jwt", "algorithms"), "key confusion"),
    # an HMAC secret cannot verify RS256
    (_jwt(algorithms=["RS256"], secret_env=SECRET_ENV), ROLES, "agent",
     ("auth", "jwt", "algorithms"), "RS256 needs public_key_file or jwks_url"),
    # no key source
    (_jwt(algorithms=["RS256"]), ROLES, "agent", ("auth", "jwt"), "exactly one key source"),
    # two key sources
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, public_key_file="<pem:rsa>"), ROLES, "agent",
     ("auth", "jwt"), "exactly one key source"),
    # unreadable PEM: the message names the file
    (_jwt(algorithms=["RS256"], public_key_file="<missing>"), ROLES, "agent",
     ("auth", "jwt", "public_key_file"), "cannot read public key file <missing>"),
    # a file that is not PEM: named too
    (_jwt(algorithms=["RS256"], public_key_file="<pem:garbage>"), ROLES, "agent",
     ("auth", "jwt", "public_key_file"), "<pem:garbage> is not a PEM public key"),
    # a private key where the public one belongs
    (_jwt(algorithms=["RS256"], public_key_file="<pem:private>"), ROLES, "agent",
     ("auth", "jwt", "public_key_file"), "holds a private key"),
    # the PEM's key type does not fit an allowed algorithm
    (_jwt(algorithms=["ES256"], public_key_file="<pem:rsa>"), ROLES, "agent",
     ("auth", "jwt", "algorithms"), "ES256 cannot be verified with the RSA-2048 key"),
    # ES384 needs a P-384 key, not P-256
    (_jwt(algorithms=["ES384"], public_key_file="<pem:ec>"), ROLES, "agent",
     ("auth", "jwt", "algorithms"), "ES384 cannot be verified with the EC secp256r1 key"),
    # jwks_url must be http(s)
    (_jwt(algorithms=["RS256"], jwks_url="file:///etc/jwks.json"), ROLES, "agent",
     ("auth", "jwt", "jwks_url"), "absolute http(s) URL"),
    # plain http only for loopback: keys fetched over a network must come over TLS
    (_jwt(algorithms=["RS256"], jwks_url="http://id.example.test/jwks.json"), ROLES, "agent",
     ("auth", "jwt", "jwks_url"), "must be an https:// URL"),
    # unknown keys are errors
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, audiences="x"), ROLES, "agent",
     ("auth", "jwt", "audiences"), "unknown key 'audiences'"),
    ({"jwt": {"algorithms": ["RS256"], "jwks_url": JWKS}, "mode": "x"}, ROLES, "agent",
     ("auth", "mode"), "unknown key 'mode'"),
    # missing_token has two values
    ({"jwt": {"algorithms": ["RS256"], "jwks_url": JWKS}, "missing_token": "allow"}, ROLES,
     "agent", ("auth", "missing_token"), "default_role or reject"),
    # auth without jwt cannot verify anything
    ({"missing_token": "reject"}, ROLES, "agent", ("auth", "jwt"), "needs a jwt section"),
    # token_from entries are header, cookie:NAME, query:NAME
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, token_from=["header", "cookie:"]), ROLES, "agent",
     ("auth", "jwt", "token_from", 1), "must be header, cookie:NAME or query:NAME"),
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, token_from=["header", "header"]), ROLES, "agent",
     ("auth", "jwt", "token_from", 1), "twice"),
    # leeway is a non-negative number
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, leeway_seconds=-1), ROLES, "agent",
     ("auth", "jwt", "leeway_seconds"), ">= 0"),
    # require_exp is a boolean
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, require_exp="no"), ROLES, "agent",
     ("auth", "jwt", "require_exp"), "true or false"),
    # role_claim is a dotted path without empty parts
    (_jwt(algorithms=["RS256"], jwks_url=JWKS, role_claim="realm..roles"), ROLES, "agent",
     ("auth", "jwt", "role_claim"), "dotted claim path"),
]  # fmt: skip


def _materialise(value: Any, files: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _materialise(v, files) for k, v in value.items()}
    if isinstance(value, str) and value in files:
        return files[value]
    return value


@pytest.mark.parametrize(("auth", "roles", "default_role", "key_path", "fragment"), ERROR_ROWS)
def test_compile_error(
    auth: Any,
    roles: Any,
    default_role: str | None,
    key_path: tuple[Any, ...],
    fragment: str,
    rsa_key: KeyPair,
    ec_key: KeyPair,
    pem_file: Callable[[bytes], str],
    tmp_path: Path,
) -> None:
    files = {
        "<pem:rsa>": pem_file(rsa_key.public_pem),
        "<pem:ec>": pem_file(ec_key.public_pem),
        "<pem:private>": pem_file(rsa_key.private_pem),
        "<pem:garbage>": pem_file(b"this is not a key\n"),
        "<missing>": str(tmp_path / "absent.pem"),
    }
    environ = {"OMNIGATE_JWT_SECRET": HS_SECRET}
    with pytest.raises(ConfigError) as caught:
        Authenticator.compile(_materialise(auth, files), roles, default_role, environ)
    assert caught.value.key_path == key_path
    for placeholder, path in files.items():
        fragment = fragment.replace(placeholder, path)
    assert fragment in caught.value.message


def test_missing_secret_env_var_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(ConfigError) as caught:
        Authenticator.compile(_jwt(**HS), ROLES, "agent")
    assert caught.value.key_path == ("auth", "jwt", "secret_env")
    assert caught.value.message == f"environment variable {SECRET_ENV} is not set"


def test_empty_secret_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "")
    with pytest.raises(ConfigError, match="is empty"):
        Authenticator.compile(_jwt(**HS), ROLES, "agent")


def test_short_secret_is_accepted_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(SECRET_ENV, "short")
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        Authenticator.compile(_jwt(**HS), ROLES, "agent")
    assert SECRET_ENV in caplog.text and "short" not in caplog.text.replace(SECRET_ENV, "")


def test_certificate_pem_is_accepted(rsa_key: KeyPair, pem_file: Callable[[bytes], str]) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "id.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public)
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(rsa_key.private, hashes.SHA256())
    )
    path = pem_file(cert.public_bytes(serialization.Encoding.PEM))
    Authenticator.compile(_jwt(algorithms=["RS256"], public_key_file=path), ROLES, "agent")


async def test_without_auth_every_request_gets_default_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = Authenticator.compile(None, ROLES, "team_manager")
    expected = Caller(role="team_manager", masking=True, sub=None, token_present=False)
    assert await auth.authenticate(NO_HEADERS, {}, NO_QUERY) == expected
    # a token is not even read without auth: it cannot change the role
    assert await auth.authenticate(bearer("whatever"), {}, NO_QUERY) == expected


async def test_no_roles_at_all_is_anonymous_and_masked() -> None:
    auth = Authenticator.compile(None, {}, None)
    identity = await auth.authenticate(NO_HEADERS, {}, NO_QUERY)
    assert (identity.role, identity.masking) == ("anonymous", True)


async def test_role_without_masking_key_masks() -> None:
    auth = Authenticator.compile(None, {"agent": {}}, "agent")
    assert (await auth.authenticate(NO_HEADERS, {}, NO_QUERY)).masking is True
