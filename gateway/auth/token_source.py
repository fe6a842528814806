"""Where a request carries its token: `token_from` entries compiled once, looked up per request.

Entries are `header` (`Authorization: Bearer <token>`, scheme case-insensitive), `cookie:NAME` and
`query:NAME`; the first source that holds a token wins. An `Authorization` header with another
scheme (e.g. `Basic ...`) or an empty `Bearer` counts as no token from the header source: such
requests are treated like requests without a token, so they get `default_role` (or 401
`missing_token` under `missing_token: reject`), never a privilege.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from multidict import istr

from gateway.errors import ConfigError, InvalidToken, KeyPath

DEFAULT_TOKEN_FROM = ("header",)
AUTHORIZATION = istr("Authorization")  # (an istr: folded once, not per lookup)
# SECURITY: bounds the work a hostile client can make us do before any signature check.
MAX_TOKEN_CHARS = 16384


@dataclass(frozen=True)
class TokenSource:
    kind: Literal["header", "cookie", "query"]
    name: str


def parse_token_from(value: Any, key_path: KeyPath) -> tuple[TokenSource, ...]:
    """Compile the `token_from` list; every entry is checked here, at load time."""
    if value is None:
        value = DEFAULT_TOKEN_FROM
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ConfigError(key_path, "token_from must be a non-empty list")
    sources: list[TokenSource] = []
    for index, entry in enumerate(value):
        source = _parse_entry(entry, (*key_path, index))
        if source in sources:
            raise ConfigError((*key_path, index), f"token_from lists {entry!r} twice")
        sources.append(source)
    return tuple(sources)


def _parse_entry(entry: Any, key_path: KeyPath) -> TokenSource:
    if entry == "header":
        return TokenSource("header", AUTHORIZATION)
    if isinstance(entry, str):
        kind, _, name = entry.partition(":")
        if kind == "cookie" and name:
            return TokenSource("cookie", name)
        if kind == "query" and name:
            return TokenSource("query", name)
    raise ConfigError(
        key_path, f"token_from entry {entry!r} must be header, cookie:NAME or query:NAME"
    )


def find_token(
    sources: Sequence[TokenSource],
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    query: Mapping[str, str],
) -> str | None:
    """The first token the request carries, in `token_from` order, or None."""
    for source in sources:
        if source.kind == "header":
            token = bearer(_single(headers, source.name))
        elif source.kind == "cookie":
            token = _cookie(headers, cookies, source.name)
        else:
            token = _single(query, source.name)
        if token:
            if len(token) > MAX_TOKEN_CHARS:
                raise InvalidToken("the token is malformed", reason="malformed")
            return token
    return None


def _single(values: Mapping[str, str], name: str) -> str | None:
    # SECURITY: two different Authorization headers (or two ?access_token=) are ambiguous, and
    # proxies in the chain may each pick a different one: refuse rather than guess.
    getall = getattr(values, "getall", None)
    if getall is not None:
        found = getall(name, [])
        if len(set(found)) > 1:
            raise InvalidToken(f"the request carries several {name} values", reason="malformed")
        return str(found[0]).strip() if found else None
    value = values.get(name)
    return value.strip() if isinstance(value, str) else None


def _cookie(headers: Mapping[str, str], cookies: Mapping[str, str], name: str) -> str | None:
    """The named cookie; refused when the request carries it twice with different values.

    SECURITY: a parsed cookie mapping keeps one value, and upstreams differ on which (first or
    last): the gateway must not unmask on a different token than the one the upstream serves.
    """
    getall = getattr(headers, "getall", None)
    raw = getall("Cookie", []) if getall is not None else [headers.get("Cookie", "")]
    found = {
        value.strip().strip('"')
        for header in raw
        for pair in str(header).split(";")
        for key, sep, value in [pair.strip().partition("=")]
        if sep and key == name
    }
    if len(found) > 1:
        raise InvalidToken(f"the request carries several {name} cookies", reason="malformed")
    return _single(cookies, name)


def bearer(authorization: str | None) -> str | None:
    """The credentials of a `Bearer` value, or None for another scheme or none."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None
