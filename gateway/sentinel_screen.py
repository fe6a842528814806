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
import unicodedata
from typing import Final

from gateway.detect import Detector
from gateway.detect.national_screen import IDD_IN_RUN, candidate_runs
from gateway.detect.normalise import IGNORED, quick_form
from gateway.json_spans import SpanReader
from gateway.residual_screen import spaced

# `[at]` disguises (on the lower-cased text): the tail has a literal start (a fast search).
_AT_TAIL: Final = re.compile(rb"at\s*[\])}]")
_AT_TAIL_TEXT: Final = re.compile(r"at\s*[\])}]")
_RUN_CHARS: Final = {"-": r"[\-().\[\]/~\s]+", "x": "[xX]", "u": r"[^\x00-\x7f]+"}
_DIGIT: Final = re.compile(r"\d")
_NON_ASCII_DIGIT: Final = re.compile(r"(?![0-9])\d")
_MOST_RUNS: Final = 64  # runs left to read in place; more: the walk reads the document
# Which of these occur at all: one pass over the text, not one per marker.
_MARKER_FIRSTS: Final = "@%&+"
_NOT_MARKER_BYTES: Final = bytes(c for c in range(256) if chr(c) not in _MARKER_FIRSTS)
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
    """`may_find(unread)`: False only when the detector finds nothing in any string of the
    document's JSON text with the sentinel's strings only (`Exempt` ones blanked).

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
            # Offsets change: strings are decoded from the normal form, escapes intact.
            normal = _normal_form(unread)
            if normal.count("\\") != unread.count("\\") or normal.count('"') != unread.count('"'):
                # SECURITY: a full-width quote or backslash became JSON syntax: the strings of
                # this text are no longer the document's. The walk reads it.
                return True
            unread = normal
            text = spaced(normal)
        # Whole-text passes run on the UTF-8 bytes (byte tables and searches stay C-fast on
        # any text); places are found in `text` itself, whose offsets the reader uses.
        raw = text.encode("utf-8", "surrogatepass")
        lowered = raw.lower()  # ASCII letters only: every marker is ASCII
        places = _Places(text)
        reader = SpanReader(self._detector.may_contain, text, unread)
        present = raw.translate(None, _NOT_MARKER_BYTES)  # which of `@ % & +` occur at all
        for marker, in_lowered in _MARKERS:
            if marker[0] in _MARKER_FIRSTS and marker[0].encode() not in present:
                continue
            if marker.encode() not in (lowered if in_lowered else raw):
                continue
            positions = places.of(marker, in_lowered)
            if positions is None:
                return True  # lower-casing changed the length: no offsets to work with
            if any(reader.may_find(pos) for pos in positions):
                return True
        if _AT_TAIL.search(lowered):  # `[at]`, `(at)`, `{ at }` ...: rare, read in `text`
            low = text.lower()
            if len(low) != len(text):
                return True
            for match in _AT_TAIL_TEXT.finditer(low):
                before = match.start() - 1
                while before >= 0 and low[before].isspace():
                    before -= 1
                if before >= 0 and low[before] in "[({" and reader.may_find(match.start()):
                    return True
        left = self._runs_left(raw, text)
        if left is None:
            return True  # the walk reads them all at once
        for run in left:
            for match in _run_pattern(run).finditer(text):
                if reader.may_find(match.start()):
                    return True
        return False

    def _runs_left(self, raw: bytes, text: str) -> list[str] | None:
        """The digit runs no screen rules out (None: more than `_MOST_RUNS`). A run with a
        keypad letter is never ruled out, however short (`12x`); `u` stands for a byte of a
        non-ASCII character (a run holding one is never ruled out either)."""
        runs = {run.decode("ascii") for run in candidate_runs(raw, self._floor)}
        unicode_digits: bool | None = None
        left: list[str] = []
        ascii_runs: list[str] = []
        for run in runs:
            if "u" in run:
                if _DIGIT.search(run) is None:
                    if unicode_digits is None:
                        unicode_digits = _NON_ASCII_DIGIT.search(text) is not None
                    if not unicode_digits:
                        continue  # letters of other scripts, no digit of any script
                left.append(run)
            elif ("00" in run or "011" in run) and IDD_IN_RUN.search(run):
                # An international prefix opens a digit group: `0044 20 ...` is read as
                # `+44 20 ...`, whatever the region.
                left.append(run)
            else:
                ascii_runs.append(run)
        if self._screened:
            # A run is left when some region's screen cannot rule it out.
            for finder in self._screened:
                left += finder.runs_left(ascii_runs)
                if len(left) > _MOST_RUNS:
                    return None
        else:
            left += ascii_runs
        left = list(dict.fromkeys(left))
        return None if len(left) > _MOST_RUNS else left


class _Places:
    """Where a marker is in the text (a search in the text itself: offsets are characters)."""

    __slots__ = ("_lowered", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._lowered: str | None = None

    def of(self, marker: str, in_lowered: bool) -> list[int] | None:
        haystack = self._text
        if in_lowered:
            if self._lowered is None:
                self._lowered = self._text.lower()
            haystack = self._lowered
            if len(haystack) != len(self._text):
                return None
        out = []
        pos = haystack.find(marker)
        while pos >= 0:
            out.append(pos)
            pos = haystack.find(marker, pos + 1)
        return out


def _run_pattern(run: str) -> re.Pattern[str]:
    """Where a run of the run projection (separators written `-`, keypad letters `x`, the
    bytes of a non-ASCII character `u`) is in the text it came from."""
    parts: list[str] = []
    for char in run:
        if char == "u" and parts and parts[-1] == _RUN_CHARS["u"]:
            continue  # one character of several bytes (or several characters): one class
        parts.append(_RUN_CHARS.get(char) or re.escape(char))
    return re.compile("".join(parts))


def _normal_form(text: str) -> str:
    """`quick_form(text)` (NFKC, ignored characters dropped), skipping each step that would
    change nothing (on a large text both are slow: a translation per character)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    raw = text.encode("utf-8", "surrogatepass")
    if any(char in raw for char in _IGNORED_BYTES):
        text = quick_form(text)
    return text


_IGNORED_BYTES: Final = tuple(char.encode() for char in IGNORED)
