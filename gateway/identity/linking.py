"""The `omnichannel.linking` rules, compiled once at load (SPEC 4.1).

```yaml
omnichannel:
  linking:
    store: sqlite:////var/lib/omnigate/identities.db   # or redis://host:6379/0, memory://
    store_env: REDIS_URL             # or: a variable holding the URL (one with a password)
    learn_from: [responses, webhooks]
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from gateway.errors import ConfigError
from gateway.identity.linker import Linker, linker_for

DEFAULT_STORE: Final = "sqlite:////var/lib/omnigate/identities.db"
STORE_ENV: Final = "OMNIGATE_LINK_STORE"  # the store when the rules name none (Helm sets it)
SOURCES: Final = ("responses", "webhooks")
_KEY: Final = ("omnichannel", "linking")
_SCHEMES: Final = ("sqlite", "redis", "rediss", "unix", "memory")


@dataclass(frozen=True)
class Linking:
    store: str  # the store URL (may hold a password when it came from `store_env`)
    learn_from: frozenset[str]

    @property
    def linker(self) -> Linker:
        return linker_for(self.store)

    @classmethod
    def compile(cls, section: Any, environ: Mapping[str, str]) -> Linking | None:
        """None when the section is absent or `false` (linking off)."""
        if section is None or section is False:
            return None
        if section is True:
            section = {}
        if not isinstance(section, Mapping):
            raise ConfigError(_KEY, "must be a mapping (or true for the defaults)")
        for extra in sorted(section.keys() - {"store", "store_env", "learn_from"}):
            raise ConfigError((*_KEY, extra), f"unknown key {extra!r}")
        return cls(store_url(section, environ), _learn_from(section.get("learn_from")))


def store_url(section: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """The store URL, checked: from `store_env` (a variable's value), else `store`, else the
    OMNIGATE_LINK_STORE variable (how the Helm chart hands over its volume or Redis), else
    the default SQLite file."""
    present = set(environ)  # the variables really set (`omnigate check` stands in for others)
    env_name = section.get("store_env")
    if env_name is not None:
        if "store" in section:
            raise ConfigError((*_KEY, "store_env"), "set either store or store_env, not both")
        value = environ.get(env_name) if isinstance(env_name, str) else None
        if not value:
            raise ConfigError((*_KEY, "store_env"), f"environment variable {env_name} is not set")
        if env_name not in present:
            return DEFAULT_STORE  # a stand-in value: there is no URL to check
        return check_store_url(value, (*_KEY, "store_env"), secret_ok=True)
    if "store" in section:
        return check_store_url(section["store"], (*_KEY, "store"), secret_ok=False)
    if STORE_ENV in present and environ.get(STORE_ENV):
        try:
            return check_store_url(environ[STORE_ENV], _KEY, secret_ok=True)
        except ConfigError as exc:
            raise ConfigError(_KEY, f"environment variable {STORE_ENV}: {exc.message}") from None
    return DEFAULT_STORE


def check_store_url(url: Any, key: tuple[str | int, ...], *, secret_ok: bool) -> str:
    if not isinstance(url, str) or ":" not in url:
        raise ConfigError(
            key, "must be a store URL: sqlite:///PATH, redis://HOST:PORT/DB or memory://"
        )
    scheme = url.split(":", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise ConfigError(key, f"unknown store {scheme!r}; known: sqlite, redis, rediss, memory")
    if scheme == "sqlite" and (not url.startswith("sqlite:///") or len(url) <= len("sqlite:///")):
        raise ConfigError(key, "a SQLite store is sqlite:///relative/path or sqlite:////abs/path")
    if scheme.startswith("redis"):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ConfigError(key, f"not a valid Redis URL ({exc})") from None
        try:
            from redis.connection import parse_url

            parse_url(url)  # type: ignore[no-untyped-call]  # the client's own reading of options
        except ValueError as exc:
            raise ConfigError(key, f"not a valid Redis URL ({exc})") from None
        if parts.password and not secret_ok:
            # SECURITY: secrets never live in rule files (SPEC 1).
            raise ConfigError(
                key, "a store URL with a password belongs in an environment variable: store_env"
            )
    return url


def _learn_from(value: Any) -> frozenset[str]:
    key = (*_KEY, "learn_from")
    if value is None:
        return frozenset(SOURCES)
    if not isinstance(value, list) or any(item not in SOURCES for item in value):
        raise ConfigError(key, "must be a list of: responses, webhooks")
    return frozenset(value)
