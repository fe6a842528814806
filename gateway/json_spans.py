"""Places in a document's JSON text, read as the document's own values (SPEC 3.9 sentinel screen).

`SpanReader.may_find(pos)` takes a character offset of an orjson-written document text and reads
what the residual walk would read there: the integer token around it, and the JSON string around
it (the nearest unescaped quotes; decoded), each through the detector's screen. Each string is
read once per document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import orjson

_QUOTE: Final = '"'
_INTEGER: Final = re.compile(r"-?\d+")


class SpanReader:
    """Reads the string or integer around a place of the document's JSON text, once each."""

    __slots__ = ("_done", "_may_contain", "_text", "_unread")

    def __init__(self, may_contain: Callable[[str], bool], text: str, unread: str):
        self._may_contain = may_contain  # the detector's own screen
        self._text = text
        self._unread = unread
        self._done: set[tuple[int, int]] = set()

    def may_find(self, pos: int) -> bool:
        """The detector's own screen on the integer and on the string `pos` may be in."""
        may_contain = self._may_contain
        number = _number_around(self._text, pos)  # `1e+21`, `1.0012`: integers only are read
        if number is not None and may_contain(number):
            return True
        span = _string_span(self._text, pos)
        if span is None or span in self._done:
            return False
        self._done.add(span)
        string = _decoded(self._unread, span)
        if string is None:
            # Not a string after all (`pos` between two): what lies there is read as one.
            string = self._text[span[0] + 1 : span[1]]
        return may_contain(string)


def _number_around(text: str, pos: int) -> str | None:
    """The integer token `pos` may be in (as the walk would read it), if any."""
    start = pos
    while start > 0 and text[start - 1] in "0123456789.eE+-":
        start -= 1
    end = pos
    while end < len(text) and text[end] in "0123456789.eE+-":
        end += 1
    token = text[start:end]
    if (start > 0 and text[start - 1] not in ":,[") or not _INTEGER.fullmatch(token):
        return None
    return token


def _string_span(text: str, pos: int) -> tuple[int, int] | None:
    """The quotes around `pos` (a JSON string if `pos` is in one); None at the text's edges."""
    start = pos
    while True:
        start = text.rfind(_QUOTE, 0, start)
        if start < 0:
            return None
        if _unescaped(text, start):
            break
    end = pos
    while True:
        end = text.find(_QUOTE, end)
        if end < 0:
            return None
        if _unescaped(text, end):
            break
        end += 1
    return start, end


def _decoded(text: str, span: tuple[int, int]) -> str | None:
    try:
        value = orjson.loads(text[span[0] : span[1] + 1])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _unescaped(text: str, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes > 0 and text[quote - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 0
