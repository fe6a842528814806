"""The `auth:` section of the rules, validated once into immutable settings.

Defaults where the rules say nothing: `role_claim: role`, `leeway_seconds: 0`,
`require_exp: true`, `token_from: [header]`, `missing_token: default_role`.
`issuer` and `audience` may each be a string or a list of accepted values; when one is not
configured that claim is not checked at all (a token's `aud` is then ignored, SPEC 3.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yarl import URL

from gateway.auth.algorithms import SUPPORTED_ALGORITHMS, is_hmac
from gateway.auth.token_source import TokenSource, parse_token_from
from gateway.errors import ConfigError, KeyPath

AUTH: KeyPath = ("auth",)
JWT: KeyPath = ("auth", "jwt")
AUTH_KEYS = frozenset({"jwt", "missing_token"})
JWT_KEYS = frozenset(
    {
        "algorithms",
        "secret_env",
        "public_key_file",
        "jwks_url",
        "issuer",
        "audience",
        "role_claim",
        "leeway_seconds",
        "token_from",
        "require_exp",
    }
)
KEY_SOURCES = ("secret_env", "public_key_file", "jwks_url")
DEFAULT_ROLE_CLAIM = "role"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_ALGORITHMS))


@dataclass(frozen=True)
class JwtSettings:
    algorithms: frozenset[str]
    secret_env: str | None
    public_key_file: str | None
    jwks_url: str | None
    issuer: tuple[str, ...] | None
    audience: tuple[str, ...] | None
    role_claim: str
    leeway: float
    token_from: tuple[TokenSource, ...]
    require_exp: bool


@dataclass(frozen=True)
class AuthSettings:
    jwt: JwtSettings
    reject_missing: bool


def parse_auth(auth: Mapping[str, Any]) -> AuthSettings:
    _reject_unknown(auth, AUTH_KEYS, AUTH)
    missing = auth.get("missing_token", "default_role")
    if missing not in ("default_role", "reject"):
        raise ConfigError((*AUTH, "missing_token"), "missing_token must be default_role or reject")
    jwt = auth.get("jwt")
    if not isinstance(jwt, Mapping):
        raise ConfigError(JWT, "auth needs a jwt section (algorithms and a key source)")
    return AuthSettings(jwt=_parse_jwt(jwt), reject_missing=missing == "reject")


def _parse_jwt(jwt: Mapping[str, Any]) -> JwtSettings:
    _reject_unknown(jwt, JWT_KEYS, JWT)
    algorithms = _parse_algorithms(jwt.get("algorithms"))
    sources = [name for name in KEY_SOURCES if jwt.get(name) is not None]
    if len(sources) != 1:
        raise ConfigError(
            JWT, "give exactly one key source: secret_env, public_key_file or jwks_url"
        )
    source = sources[0]
    for name in sorted(algorithms):
        # SECURITY: HMAC with a public key source is the classic HS/RS key-confusion setup, and an
        # HMAC secret cannot verify asymmetric signatures; refuse both at load time.
        if is_hmac(name) and source != "secret_env":
            raise ConfigError(
                (*JWT, "algorithms"),
                f"{name} is an HMAC algorithm and needs secret_env; mixing it with {source} "
                "would allow key confusion",
            )
        if not is_hmac(name) and source == "secret_env":
            raise ConfigError(
                (*JWT, "algorithms"),
                f"{name} needs public_key_file or jwks_url; secret_env holds an HMAC secret",
            )
    return JwtSettings(
        algorithms=algorithms,
        secret_env=_string(jwt, "secret_env"),
        public_key_file=_string(jwt, "public_key_file"),
        jwks_url=_jwks_url(jwt.get("jwks_url")),
        issuer=_strings(jwt, "issuer"),
        audience=_strings(jwt, "audience"),
        role_claim=_role_claim(jwt.get("role_claim", DEFAULT_ROLE_CLAIM)),
        leeway=_leeway(jwt.get("leeway_seconds", 0)),
        token_from=parse_token_from(jwt.get("token_from"), (*JWT, "token_from")),
        require_exp=_boolean(jwt, "require_exp", default=True),
    )


def _parse_algorithms(value: Any) -> frozenset[str]:
    path = (*JWT, "algorithms")
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ConfigError(path, "algorithms must be a non-empty list (an explicit allow-list)")
    for index, name in enumerate(value):
        if isinstance(name, str) and name.lower() == "none":
            raise ConfigError((*path, index), 'algorithm "none" is never accepted')
        if not isinstance(name, str) or name not in SUPPORTED_ALGORITHMS:
            raise ConfigError(
                (*path, index),
                f"unsupported algorithm {name!r}; use one of {_SUPPORTED_LIST}",
            )
    return frozenset(value)


def _reject_unknown(section: Mapping[str, Any], known: frozenset[str], path: KeyPath) -> None:
    for key in section:
        if key not in known:
            raise ConfigError((*path, key), f"unknown key {key!r}")


def _string(jwt: Mapping[str, Any], key: str) -> str | None:
    value = jwt.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError((*JWT, key), f"{key} must be a non-empty string")
    return value


def _strings(jwt: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = jwt.get(key)
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, Sequence)
        or not values
        or not all(isinstance(item, str) and item for item in values)
    ):
        raise ConfigError((*JWT, key), f"{key} must be a non-empty string or list of strings")
    return tuple(values)


def _jwks_url(value: Any) -> str | None:
    if value is None:
        return None
    path = (*JWT, "jwks_url")
    if not isinstance(value, str):
        raise ConfigError(path, "jwks_url must be a string")
    try:
        url = URL(value)
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(path, "jwks_url must be an absolute http(s) URL")
    # SECURITY: keys fetched over plain http can be swapped in transit; allow it for loopback only.
    if url.scheme == "http" and url.host not in LOOPBACK_HOSTS:
        raise ConfigError(path, "jwks_url must be an https:// URL (http:// only for localhost)")
    return value


def _role_claim(value: Any) -> str:
    if not isinstance(value, str) or not all(value.split(".")):
        raise ConfigError((*JWT, "role_claim"), "role_claim must be a dotted claim path")
    return value


def _leeway(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError((*JWT, "leeway_seconds"), "leeway_seconds must be a number >= 0")
    return float(value)


def _boolean(jwt: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = jwt.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError((*JWT, key), f"{key} must be true or false")
    return value
