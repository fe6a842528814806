"""Request-path normalisation, done before route matching.

SECURITY: the normalised path is both what rules match and what goes upstream, so the gateway and
the upstream can never disagree about which resource was asked for (`//`, `/./`, `%61` and
`/x/../` variants cannot skip a rule). Encoded `/`, `\\` and NUL are refused outright: upstreams
disagree on whether they separate segments.
"""

from __future__ import annotations

import re

from gateway.errors import BadRequest

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%(?P<hex>[0-9A-Fa-f]{2})|%")
_FORBIDDEN_ENCODED = frozenset({0x2F, 0x5C, 0x00})  # '/', '\\', NUL
_SLASHES = re.compile(r"/{2,}")
_DOT_PARAMS = re.compile(r"^(\.\.?)(?:;|%3B).*$")  # `..;x`, and `..%3Bx` (hex is upper-cased)


def normalise_path(raw: str) -> str:
    """Return the canonical form of `raw` (a path without query string) or raise BadRequest."""
    if not raw.startswith("/"):
        raise BadRequest("request path must start with '/'")
    if "\\" in raw or "\x00" in raw:
        raise BadRequest("request path must not contain '\\' or NUL")
    if "%" in raw:
        raw = _PCT.sub(_decode_unreserved, raw)
    if "//" in raw:
        raw = _SLASHES.sub("/", raw)
    if "/." in raw:
        raw = _remove_dot_segments(raw)  # also `/.;x` and `/..;x`
    return raw


def _decode_unreserved(match: re.Match[str]) -> str:
    hex_digits = match.group("hex")
    if hex_digits is None:
        raise BadRequest("request path has an invalid percent-encoding")
    code = int(hex_digits, 16)
    if code in _FORBIDDEN_ENCODED:
        raise BadRequest("request path must not contain encoded '/', '\\' or NUL")
    char = chr(code)
    # RFC 3986 6.2.2: decode unreserved characters, upper-case the hex of everything else.
    return char if char in _UNRESERVED else "%" + hex_digits.upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 on an absolute path; `..` above the root stays at the root."""
    segments = path.split("/")[1:]
    output: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        # SECURITY: servlet containers read `..;x` as `..` (the `;params` are dropped first),
        # and a router that decodes `%3B` first reads `..%3Bx` the same way.
        if segment[:1] == "." and (";" in segment or "%3B" in segment):
            segment = _DOT_PARAMS.sub(r"\1", segment)
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)
