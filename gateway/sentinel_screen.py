"""The sentinel's whole-document screen (SPEC 3.9): can the detector find anything at all?

`SentinelScreen.may_find(unread)` reads the document's JSON text with the sentinel's strings
only (`gateway.residual_screen.screen_texts`). Whole-text tests find the few places that could
hold a finding: an `@` or a disguise of one, a `+`, a WhatsApp marker, a digit run that no
region's national screen rules out (an international prefix opening one of its digit groups
included). Each place is then read as the walk would read it: the JSON string (or integer)
holding it is decoded and gets the detector's own screen. A yes sends the document to the walk.
"""

from __future__ import annotations

import re
from typing import Final

import orjson

from gateway.detect import Detector
from gateway.detect.national_screen import IDD_IN_RUN, projected_runs
from gateway.detect.normalise import quick_form
from gateway.residual_screen import spaced

# `[at]` disguises (on the lower-cased text): the tail has a literal start (a fast search).
_AT_TAIL: Final = re.compile(r"at\s*[\])}]")
_QUOTE: Final = '"'
_RUN_CHARS: Final = {"-": r"[\-().\[\]/~\s]+", "x": "[xX]"}
_DIGIT: Final = re.compile(r"\d")
_INTEGER: Final = re.compile(r"-?\d+")
_MOST_RUNS: Final = 64  # runs left to read in place; more: the walk reads the document
# Which of these occur at all: one pass over the text, not one per marker.
_MARKER_FIRSTS: Final = "@%&+"
_MARKER_CHARS: Final = {c: None for c in range(128) if chr(c) not in _MARKER_FIRSTS}
# Markers whose string is read in place: (marker, found in the lower-cased text).
_MARKERS: Final = (
    ("@", False),
    ("%40", False),
    ("&#", False),
    ("&commat;", True),
    ("+", False),
    ("wa.me", True),
    ("whatsapp", True),
)


class SentinelScreen:
    """`may_find(unread, read)`: False only when the detector finds nothing in any string the
    rules did not read already (`read`: the texts a same-detector `text` rule left as they were).

    Whole-text tests find the few places that could hold a finding: an `@` or a disguise of
    one, a `+`, a WhatsApp marker, an international prefix opening a digit group, a digit run
    the national screens cannot rule out. Each place is then read as the walk would read it:
    the string (or integer) holding it gets the detector's own screen.
    """

    __slots__ = ("_detector", "_floor", "_screened")

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        finders = detector.phone_finders()
        # A region without a national screen (or Brazil's quirk, read in every run): any run
        # above the digit floor counts.
        every_run = detector.reads_every_run or any(f.national_screen is None for f in finders)
        self._screened = () if every_run else finders
        # Runs shorter than every region's shortest number hold none (`+` strings are read in
        # place, so the national floors apply); without a screen, the `+` floor.
        screens = [f.national_screen for f in finders if f.national_screen is not None]
        if every_run:
            self._floor = min(finder.floors.plus for finder in finders)
        else:
            self._floor = min(screen.shortest for screen in screens)

    def may_find(self, unread: str) -> bool:
        text = spaced(unread)
        if not text.isascii():
            # Full-width digits and `@`, invisible characters: as the detector reads them.
            # Offsets no longer match `unread`: strings are taken from this text instead (then
            # never equal to one in `read`: read again, which only costs time).
            normal = quick_form(text)
            if normal.count("\\") != text.count("\\") or normal.count('"') != text.count('"'):
                # SECURITY: a full-width quote or backslash became JSON syntax: the strings of
                # this text are no longer the document's. The walk reads it.
                return True
            text = unread = normal
        lowered = text.lower()
        if len(lowered) != len(text):
            return True  # a character whose lower case is longer: no offsets to work with
        reader = _Reader(self._detector, text, unread)
        # Which of `@ % & +` occur at all: one pass instead of one per marker.
        present = text.translate(_MARKER_CHARS)
        for marker, source in _MARKERS:
            if marker[0] in _MARKER_FIRSTS and marker[0] not in present:
                continue
            haystack = lowered if source else text
            pos = haystack.find(marker)
            while pos >= 0:
                if reader.may_find(pos):
                    return True
                pos = haystack.find(marker, pos + 1)
        for match in _AT_TAIL.finditer(lowered):  # `[at]`, `(at)`, `{ at }` ...
            before = match.start() - 1
            while before >= 0 and lowered[before].isspace():
                before -= 1
            if before >= 0 and lowered[before] in "[({" and reader.may_find(match.start()):
                return True
        # Digit runs (a run with a keypad letter is never ruled out, however short: `12x`).
        floor = self._floor
        runs = {
            run.lstrip("x-").rstrip("-")
            for run in projected_runs(text)
            if len(run) >= floor or "x" in run
        }
        # Runs never ruled out: non-ASCII ones, and those where an international prefix opens
        # a digit group (`0044 20 ...` is read as `+44 20 ...`, whatever the region).
        left = [
            run
            for run in runs
            if (not run.isascii() and _DIGIT.search(run))
            or (("00" in run or "011" in run) and IDD_IN_RUN.search(run))
        ]
        ascii_runs = [run for run in runs if run.isascii() and run]
        if self._screened:
            # A run is left when some region's screen cannot rule it out.
            for finder in self._screened:
                left += finder.runs_left(ascii_runs)
                if len(left) > _MOST_RUNS:
                    return True  # the walk reads them all at once
        else:
            left += ascii_runs
        left = list(dict.fromkeys(left))
        if len(left) > _MOST_RUNS:
            return True  # the walk reads them all at once
        for run in left:
            for match in _run_pattern(run).finditer(text):
                if reader.may_find(match.start()):
                    return True
        return False


class _Reader:
    """Reads the string or integer around a place of the document's JSON text, once each."""

    __slots__ = ("_detector", "_done", "_text", "_unread")

    def __init__(self, detector: Detector, text: str, unread: str):
        self._detector = detector
        self._text = text
        self._unread = unread
        self._done: set[tuple[int, int]] = set()

    def may_find(self, pos: int) -> bool:
        """The detector's own screen on the integer and on the string `pos` may be in."""
        detector = self._detector
        number = _number_around(self._text, pos)  # `1e+21`, `1.0012`: integers only are read
        if number is not None and detector.may_contain(number):
            return True
        span = _string_span(self._text, pos)
        if span is None or span in self._done:
            return False
        self._done.add(span)
        string = _decoded(self._unread, span)
        if string is None:
            # Not a string after all (`pos` between two): what lies there is read as one.
            string = _decoded_gap(self._text, span)
        if string is None:
            return False
        return detector.may_contain(string)


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


def _decoded_gap(text: str, span: tuple[int, int]) -> str | None:
    """The characters between two strings (`":1700000000,"`), as text."""
    return text[span[0] + 1 : span[1]]


def _run_pattern(run: str) -> re.Pattern[str]:
    """Where a run of `RUN_DIGITS` (separators written `-`, keypad letters `x`) is in the text
    it came from."""
    parts = [_RUN_CHARS.get(char) or re.escape(char) for char in run]
    return re.compile("".join(parts))


def _unescaped(text: str, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes > 0 and text[quote - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 0
