"""Header rules (SPEC 3.10): PII in response headers of masked routes, masked.

Built in, on every masked route: `Location` and `Content-Location` get the `url` mask, each URL
of a `Link` (`<...>`) and the `url=` of a `Refresh` too, and the file names of a
`Content-Disposition` (`filename`, and the RFC 8187 `filename*`) the `text` mask. A route's
`headers:` names more (`{name: X-Contact-Email, mask: email}`); a route naming a built-in header
replaces the built-in rule. Compiled once per rule set (`builtin_header_rules`); applied to the
final response's headers and to relayed 1xx interim responses alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote, unquote

from multidict import CIMultiDict

from gateway.masks import Mask, MaskContext, compile_mask
from gateway.masks.mask import REDACTED
from gateway.route_view import HeaderRule

_LINK_URL: Final = re.compile(r"<([^>]*)>")
_REFRESH_URL: Final = re.compile(r"(?i)(\burl\s*=\s*)(['\"]?)([^'\"]*)(\2)")
_FILENAME: Final = re.compile(r'(?i)(\bfilename\s*=\s*)(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
_FILENAME_EXT: Final = re.compile(r"(?i)(\bfilename\*\s*=\s*)([^']*)'([^']*)'([^;\s]*)")


class _HeaderMask:
    """A mask over a header value's parts (a `Mask`: the same object back when unchanged)."""

    __slots__ = ("apply", "name")

    def __init__(self, name: str, apply: Callable[[str], str]) -> None:
        self.name = name
        self.apply = apply

    def __call__(self, value: Any) -> Any:
        masked = self.apply(value)
        return value if masked == value else masked


def builtin_header_rules(ctx: MaskContext) -> tuple[HeaderRule, ...]:
    url = compile_mask("url", ctx)
    text = compile_mask("text", ctx)

    def url_text(value: str) -> str:
        return str(url(value))

    def link(value: str) -> str:
        return _LINK_URL.sub(lambda m: f"<{url(m.group(1))}>", value)

    def refresh(value: str) -> str:
        return _REFRESH_URL.sub(
            lambda m: m.group(1) + m.group(2) + str(url(m.group(3))) + m.group(4), value
        )

    def disposition(value: str) -> str:
        value = _FILENAME.sub(lambda m: _filename(m, text), value)
        return _FILENAME_EXT.sub(lambda m: _filename_ext(m, text), value)

    return (
        HeaderRule("location", _HeaderMask("url", url_text)),
        HeaderRule("content-location", _HeaderMask("url", url_text)),
        HeaderRule("link", _HeaderMask("url", link)),
        HeaderRule("refresh", _HeaderMask("url", refresh)),
        HeaderRule("content-disposition", _HeaderMask("text", disposition)),
    )


def _filename(match: re.Match[str], text: Mask) -> str:
    quoted, bare = match.group(2), match.group(3)
    if quoted is not None:
        return f'{match.group(1)}"{_file_name(quoted, text)}"'
    return match.group(1) + _file_name(bare, text)


def _file_name(name: str, text: Mask) -> str:
    """A file name's stem and extension masked apart (`jane@example.com.pdf`: the extension
    would otherwise read as the address's top-level domain)."""
    stem, dot, extension = name.rpartition(".")
    if not stem:
        return str(text(name))
    return str(text(stem)) + dot + str(text(extension))


def _filename_ext(match: re.Match[str], text: Mask) -> str:
    charset, language, encoded = match.group(2), match.group(3), match.group(4)
    name = unquote(encoded, errors="replace")
    masked = _file_name(name, text)
    if masked == name:
        return match.group(0)
    return f"{match.group(1)}{charset}'{language}'{quote(masked, safe='')}"


def mask_headers(headers: CIMultiDict[str], rules: tuple[HeaderRule, ...]) -> None:
    """Mask, in place, every value of every header a rule names (names and order kept)."""
    by_name = {rule.name: rule.mask for rule in rules}
    items = list(headers.items())
    changed = False
    for index, (name, value) in enumerate(items):
        mask = by_name.get(name.lower())
        if mask is not None:
            masked = _masked(mask, value)
            if masked != value:
                items[index] = (name, masked)
                changed = True
    if changed:
        headers.clear()
        headers.extend(items)


def _masked(mask: Mask, value: str) -> str:
    try:
        result = mask(value)
    except Exception:  # PII: a value that cannot be masked is never sent as it is
        return REDACTED
    return REDACTED if result is None or not isinstance(result, str | int) else str(result)
