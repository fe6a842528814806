"""Email addresses as people type them (SPEC 3.3), found in the detector's view of a text.

Local parts are RFC 5322's: dot-atoms of any `atext` character (`o'brien`, `a+b`, `x!y`, Unicode
letters for internationalised mail) and quoted strings (`"john smith"`). Domains are dot-separated
labels of letters, digits and hyphens in any script (IDN) ending in a top-level label of letters
(or a `xn--` A-label). The `@` may be written `[at]` / `(at)` / `{at}`, and the dots of the domain
`[dot]` / `(dot)`; `%40`, `&#64;` and the full-width `@` (U+FF20) reach this module as `@`
already (normalise.py).

Spaces around `@` are allowed in pairs only: `jane @ example.com` is an address, `cc @john.smith`
is a mention. A local part of asterisks only is a mask output (`****@example.com`), not a finding.
File names with a retina suffix (`logo@2x.png`) are not addresses: no top-level domain is an image
or document extension.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

_ATEXT: Final = r"[\w!#$%&'*+/=?^`{|}~\-]"
_ATEXT_DOT: Final = r"[\w!#$%&'*+/=?^`{|}~.\-]"  # dots anywhere: people type `jane.@x.com`
_FIRST: Final = r"[\w!#$%&*+/=?^{|}~.\-]"  # not a quote: `'jane@x.com'` starts at the j
_LOCAL: Final = rf'(?P<local>"(?:[^"\\\r\n]|\\.){{1,64}}"|{_FIRST}{_ATEXT_DOT}*)'
_AT: Final = r"(?P<at>(?P<pre>\s?)@(?P<post>\s?)|\s*[\[({]\s*at\s*[\])}]\s*)"
_DOT: Final = r"(?:\.|\s*[\[({]\s*dot\s*[\])}]\s*)"
_LABEL: Final = r"[^\W_](?:[\w\-]{0,61}[^\W_])?"
_TLD: Final = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9\-]{2,59})(?![\w\-])"
PATTERN: Final = re.compile(
    rf"(?<![\w!#$%&*+/=?^{{|}}~.\-\"]){_LOCAL}{_AT}(?P<domain>(?:{_LABEL}{_DOT})+{_TLD})",
    re.IGNORECASE,
)
_DOT_FORM: Final = re.compile(r"\s*[\[({]\s*dot\s*[\])}]\s*", re.IGNORECASE)
_NOT_DOMAINS: Final = "png jpg jpeg gif svg webp bmp ico tif tiff heic pdf txt csv json js"
NOT_DOMAINS: Final = frozenset(f"{_NOT_DOMAINS} css html htm xml mp3 mp4 wav ogg webm".split())
_AT_WORD: Final = re.compile(r"[\[({]\s*at\s*[\])}]", re.IGNORECASE)
_LOCAL_CHARS: Final = frozenset("_!#$%&'*+/=?^`{|}~.-")  # with letters and digits
_DOMAIN_MAX: Final = 260  # past the `@`: a domain name is at most 253 characters
# Cheap test before the pattern: every address has an `@` or a bracketed `at` in the view.
_TRIGGER: Final = re.compile(r"@|[\[({]\s*at\s*[\])}]", re.IGNORECASE)


class EmailSpan(NamedTuple):
    start: int  # of the view
    end: int
    address: str  # `local@domain`, disguises undone


def may_contain(view: str) -> bool:
    return _TRIGGER.search(view) is not None


def find(view: str) -> list[EmailSpan]:
    """The addresses in `view` (the detector's normalised text), in order."""
    if "@" not in view or _AT_WORD.search(view):
        # A bracketed `at` (or no `@` at all): the whole text is searched.
        return [span for match in PATTERN.finditer(view) if (span := _span(match))]
    # PII: the usual case, one or two `@`: the pattern starts where the local part before each
    # `@` starts, instead of being tried at every word of a long message.
    found: list[EmailSpan] = []
    at = view.find("@")
    while at >= 0:
        start = _local_start(view, at)
        match = PATTERN.match(view, start, at + _DOMAIN_MAX)
        if match is not None and at < match.end():
            span = _span(match)
            if span is not None:
                found.append(span)
            at = view.find("@", match.end())
        else:
            at = view.find("@", at + 1)
    return found


def _local_start(view: str, at: int) -> int:
    """Where the local part ending at `view[at]` (`@`) can start: its run of local-part
    characters, a quoted string, and one space before the `@`."""
    pos = at
    if pos > 0 and view[pos - 1].isspace():
        pos -= 1
    if pos > 0 and view[pos - 1] == '"':
        quote = view.rfind('"', 0, pos - 1)
        while quote > 0 and view[quote - 1] == "\\":  # `\"` inside the quoted string
            quote = view.rfind('"', 0, quote - 1)
        return max(quote, 0)
    while pos > 0 and (view[pos - 1].isalnum() or view[pos - 1] in _LOCAL_CHARS):
        pos -= 1
    while pos < at and view[pos] in "'`":  # `'jane@x.com'`: the quote is not the address's
        pos += 1
    return pos


def _span(match: re.Match[str]) -> EmailSpan | None:
    local = match["local"]
    if match["at"].strip() == "@" and match["pre"] and not match["post"]:
        return None  # `cc @john.smith`: a mention
    if local.strip("*") == "":
        return None  # PII: a mask output, nothing left to hide
    domain = _DOT_FORM.sub(".", match["domain"])
    if domain.rpartition(".")[2].lower() in NOT_DOMAINS:
        return None
    return EmailSpan(match.start(), match.end(), f"{local}@{domain}")
