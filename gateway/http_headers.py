"""Header rules of a transparent proxy (RFC 9110 7.6.1), as pure functions over multidicts.

SECURITY: CGI, WSGI and Rack servers read `X_Forwarded_For` and `x-forwarded_for` as
`X-Forwarded-For` (HTTP_X_FORWARDED_FOR; the class of Django's CVE-2015-0219), so header names
are compared folded (case-insensitive, `_` as `-`) when removing what the gateway owns (SPEC 2).
"""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict, CIMultiDictProxy, istr

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

# Headers the gateway sets: a spelling that differs only by folding is a forgery and is removed;
# the correct spelling is then replaced (or, for X-Forwarded-For, appended to).
SET_BY_GATEWAY = frozenset(
    {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id"}
)
# SECURITY: `Proxy` becomes HTTP_PROXY in a CGI environment (httpoxy, CVE-2016-5385); it has no
# legitimate use in a request, so it goes in any spelling.
ALWAYS_DROPPED = ("proxy",)

Headers = CIMultiDict[str] | CIMultiDictProxy[str]

# Header names the request path reads or sets on every request, as `istr`: a case-insensitive
# multidict folds a plain str key at every use, an istr once (the same spelling is written).
X_REQUEST_ID = istr("X-Request-Id")
X_FORWARDED_FOR = istr("X-Forwarded-For")
X_FORWARDED_PROTO = istr("X-Forwarded-Proto")
X_FORWARDED_HOST = istr("X-Forwarded-Host")


def fold(name: str) -> str:
    """A header name as a CGI/WSGI/Rack server compares it: lower case, `_` read as `-`."""
    return name.lower().replace("_", "-")


def end_to_end(headers: Headers, also_drop: Iterable[str] = ()) -> CIMultiDict[str]:
    """Copy `headers` without hop-by-hop ones and `also_drop`, in any spelling (see `fold`), and
    without the folded spellings of the headers the gateway sets.

    SECURITY: this runs before the gateway adds its own headers, so a client naming
    `X-Forwarded-For` or `X-Request-Id` in `Connection` cannot make the gateway's values vanish.

    Which names go depends only on the header names, the `Connection` tokens and `also_drop`:
    it is decided once per such combination (`_drop_plan`) and remembered, since clients repeat
    the same few; per request this is one copy and a lookup (the decision walks a dozen names).
    """
    kept = CIMultiDict(headers)  # a C-level copy; then drop only what is present
    named = _connection_tokens(headers) if "Connection" in headers else ()
    also = also_drop if isinstance(also_drop, tuple) else tuple(also_drop)
    key = (tuple(headers.keys()), named, also)
    drop = _PLANS.get(key)
    if drop is None:
        drop = _drop_plan(key[0], named, also)
        if len(_PLANS) >= _MAX_PLANS:  # names come from clients: bounded
            _PLANS.clear()
        _PLANS[key] = drop
    for name in drop:
        kept.popall(name, None)
    return kept


_MAX_PLANS = 1024
_PLANS: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}


def _connection_tokens(headers: Headers) -> tuple[str, ...]:
    return tuple(
        token.strip()
        for value in headers.getall("Connection", ())
        for token in value.split(",")
        if token.strip() and token.strip().lower() != "host"  # Host is never hop-by-hop
    )


def _drop_plan(
    names: tuple[str, ...], named: tuple[str, ...], also_drop: tuple[str, ...]
) -> tuple[str, ...]:
    """The present names `end_to_end` removes, for headers with these `names` (in order)."""
    kept: CIMultiDict[str] = CIMultiDict((name, "") for name in names)
    dropped = (*HOP_BY_HOP, *ALWAYS_DROPPED, *named, *also_drop)
    for name in dropped:
        if name in kept:
            kept.popall(name)
    underscored = [name for name in kept if "_" in name]  # rare: the common case stops here
    if underscored:
        folded = {fold(name) for name in (*dropped, *SET_BY_GATEWAY)}
        for name in underscored:
            if fold(name) in folded and name in kept:
                kept.popall(name)
    return tuple(dict.fromkeys(name for name in names if name not in kept))


def add_forwarding(
    headers: CIMultiDict[str], *, peer: str | None, proto: str, host: str | None
) -> None:
    """Append the peer to `X-Forwarded-For`; set `X-Forwarded-Proto` and `X-Forwarded-Host`."""
    if peer:
        previous = ""
        if X_FORWARDED_FOR in headers:  # (a miss is cheaper than getall's default)
            previous = ", ".join(headers.getall(X_FORWARDED_FOR))
            headers.popall(X_FORWARDED_FOR)
        headers[X_FORWARDED_FOR] = f"{previous}, {peer}" if previous else peer
    headers[X_FORWARDED_PROTO] = proto
    if host:
        headers[X_FORWARDED_HOST] = host
