"""The `url` mask: a URL with the PII in its path segments, query values and fragment masked.

SPEC 3.3: scheme, host and structure are kept; each path segment, query value (and name) and the
fragment is percent-decoded, masked with the `text` mask's detector, and written back
percent-encoded only where URL syntax requires it. A part without findings keeps its original
characters, so an unchanged URL is returned as the same object. Userinfo (`jane@` in
`https://jane@host/`) is a person's login: it is masked like a text too. Booleans and numbers that
are not phones stay as they are, as under `text`.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import quote, unquote, unquote_plus

from gateway.errors import KeyPath
from gateway.masks.mask import REDACTED, Mask, MaskContext, MaskType, Options, StringMask
from gateway.masks.phone import mask_phone_text
from gateway.masks.text import TextMasker, text_masker, text_regions

# scheme:[//authority]path[?query][#fragment], split without validating (RFC 3986 appendix B).
_URL: Final = re.compile(
    r"^(?P<head>(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?://[^/?#]*)?)(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?$",
    re.DOTALL,
)
_SEGMENT_SAFE: Final = "!$&'()*+,;=:@-._~"  # pchar without `/` (RFC 3986 3.3)
_QUERY_SAFE: Final = "!$'()*,;:@/?-._~"  # `&`, `=` and `+` keep their query meaning


class UrlMask(StringMask):
    __slots__ = ("_masker",)
    name = "url"

    def __init__(self, masker: TextMasker) -> None:
        self._masker = masker

    def __call__(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        return super().__call__(value)

    def mask_str(self, text: str) -> str:
        match = _URL.match(text)
        if match is None:  # unreachable (every string matches), kept for the type checker
            return self._masker.mask(text)
        head, path, query, fragment = match.group("head", "path", "query", "fragment")
        parts = [self._head(head), self._path(path, head.rpartition("@")[2])]
        if query is not None:
            parts.append("?" + self._query(query))
        if fragment is not None:
            parts.append("#" + self._part(fragment, unquote, _SEGMENT_SAFE + "/?"))
        masked = "".join(parts)
        return text if masked == text else masked

    def _head(self, head: str) -> str:
        userinfo, at, host = head.rpartition("@")
        if not at:
            return head
        scheme, slashes, _ = userinfo.partition("//")
        # PII: a login (and password) in the authority is a person's; only its place is kept.
        return f"{scheme}{slashes}{REDACTED}@{host}"

    def _path(self, path: str, host: str) -> str:
        segments = path.split("/")
        if host.lower().rstrip(".").endswith("wa.me") and len(segments) > 1:
            # `wa.me/5511987654321`: the digits are a phone by construction (any region).
            digits = segments[1].lstrip("+")
            if 7 <= len(digits) <= 15 and digits.isdigit():
                segments[1] = mask_phone_text(digits)
        return "/".join(self._part(segment, unquote, _SEGMENT_SAFE) for segment in segments)

    def _query(self, query: str) -> str:
        pairs = []
        for pair in query.split("&"):
            name, eq, value = pair.partition("=")
            name = self._part(name, unquote_plus, _QUERY_SAFE)
            pairs.append(name + eq + self._part(value, unquote_plus, _QUERY_SAFE) if eq else name)
        return "&".join(pairs)

    def _part(self, raw: str, decode: Any, safe: str) -> str:
        """`raw` itself when its decoded text holds no PII; else the masked text, encoded."""
        if not raw:
            return raw
        text = decode(raw)
        masked = self._masker.mask(text)
        if masked is text or masked == text:
            return raw
        return quote(masked, safe=safe)


def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
    from gateway.masks.text import build as build_text

    build_text(options, ctx, key_path)  # the same region checks, located the same way
    return UrlMask(text_masker(ctx.default_region.upper(), text_regions(ctx)))


TYPE: Final = MaskType("url", frozenset(), build)
