"""The text the detector reads (SPEC 3.3): NFKC, invisible characters ignored, @ disguises undone.

Detection runs on a *view* of the text; `View.span` maps a span of the view back to the original
characters, so masks replace exactly what the person wrote (`jane` + U+FF20 FULLWIDTH
COMMERCIAL AT + `example.com` is one finding of the original string, not of its normal form).

The view is built character by character: each character becomes its NFKC form (U+FF20 -> `@`,
full-width and other decimal digits -> ASCII, ligatures expanded), zero-width characters and the
soft hyphen become nothing, and `%40`, `&#64;`, `&#x40;` and `&commat;` become `@`. NFKC by
character differs from NFKC of the whole string only in composing combining marks, which never
changes a digit, `@` or `.`. Thin and no-break spaces are spaces under NFKC already.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# PII: zero-width space / non-joiner / joiner, word joiner, BOM and soft hyphen hide nothing from
# the detector: `jane@exa\u200bmple.com` is the address `jane@example.com`.
IGNORED: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# A text the ASCII fast path can take as it is.
_NEEDS_VIEW: Final = re.compile(r"%40|&#|&commat;")
_SPECIAL: Final = re.compile(r"[^\x00-\x7f]|%40|&#0*64;|&#[xX]0*40;|&commat;")
_DROP: Final = dict.fromkeys(map(ord, IGNORED))


class View:
    """The normalised text and the way back to the original."""

    __slots__ = ("_ends", "_starts", "original", "text")

    def __init__(self, original: str, text: str, starts: list[int] | None, ends: list[int] | None):
        self.original = original
        self.text = text
        self._starts = starts  # None: the view is the original itself
        self._ends = ends

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters of the view's `[start, end)` (a non-empty span)."""
        if self._starts is None or self._ends is None:
            return start, end
        return self._starts[start], self._ends[end - 1]


def quick_form(text: str) -> str:
    """The whole text under NFKC without ignored characters: enough to tell it holds nothing."""
    return unicodedata.normalize("NFKC", text).translate(_DROP)


def view_of(text: str) -> View:
    """`text` as the detector reads it."""
    if text.isascii() and (("%" not in text and "&" not in text) or not _NEEDS_VIEW.search(text)):
        return View(text, text, None, None)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for match in _SPECIAL.finditer(text):
        start, end = match.span()
        if start > pos:  # a stretch of plain ASCII, copied as it is
            out.append(text[pos:start])
            starts += range(pos, start)
            ends += range(pos + 1, start + 1)
        char = match.group()
        if len(char) > 1:  # an `@` written as an entity or percent-escape
            out.append("@")
            starts.append(start)
            ends.append(end)
        elif char not in IGNORED:
            form = unicodedata.normalize("NFKC", char)
            out.append(form)
            starts += [start] * len(form)
            ends += [end] * len(form)
        pos = end
    if pos < len(text):
        out.append(text[pos:])
        starts += range(pos, len(text))
        ends += range(pos + 1, len(text) + 1)
    return View(text, "".join(out), starts, ends)
