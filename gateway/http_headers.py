"""Header rules of a transparent proxy (RFC 9110 7.6.1), as pure functions over multidicts."""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict, CIMultiDictProxy

# Hop-by-hop headers by definition; any header named in `Connection` is hop-by-hop as well.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

Headers = CIMultiDict[str] | CIMultiDictProxy[str]


def end_to_end(headers: Headers, also_drop: Iterable[str] = ()) -> CIMultiDict[str]:
    """Copy `headers` without hop-by-hop ones (and `also_drop`).

    SECURITY: this runs before the gateway adds its own headers, so a client naming
    `X-Forwarded-For` or `X-Request-Id` in `Connection` cannot make the gateway's values vanish.
    """
    kept = CIMultiDict(headers)  # a C-level copy; then drop only what is present
    named = [
        token.strip()
        for value in headers.getall("Connection", ())
        for token in value.split(",")
        if token.strip() and token.strip().lower() != "host"  # Host is never hop-by-hop
    ]
    for name in (*HOP_BY_HOP, *named, *also_drop):
        if name in kept:
            kept.popall(name)
    return kept


def add_forwarding(
    headers: CIMultiDict[str], *, peer: str | None, proto: str, host: str | None
) -> None:
    """Append the peer to `X-Forwarded-For`; set `X-Forwarded-Proto` and `X-Forwarded-Host`."""
    if peer:
        previous = ", ".join(headers.getall("X-Forwarded-For", ()))
        headers.popall("X-Forwarded-For", None)
        headers["X-Forwarded-For"] = f"{previous}, {peer}" if previous else peer
    headers["X-Forwarded-Proto"] = proto
    if host:
        headers["X-Forwarded-Host"] = host
