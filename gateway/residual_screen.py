"""Whole-document screens for the residual pass (SPEC 3.9): proofs, at C speed, that it has
nothing to do.

Known values and the sentinel read every string of a masked document; calling them string by
string costs ~30 ms per fresh 500-message history, although most documents hold nothing for
either. Both questions can be answered for the whole document at once on its JSON text:

- `screen_texts`: the document serialised by orjson as it is (`full`) and with the strings the
  sentinel never reads blanked (`unread`): rule outputs marked `Exempt` when the rules wrote them
  (what a `text` rule with the sentinel's own detector returned; whole email and phone mask
  outputs, which the sentinel skips anyway).
- `KnownScreen.may_recur(full)`: can a known value recur? Aho-Corasick over the text: phones by
  their national digits over a projection where separators are gone, emails lower-cased, name
  words checked for word boundaries at each hit.
- `SentinelScreen.may_find(unread)`: can the detector's per-string screen say yes for any string?
  `@` and its disguises; `+`, an international prefix or a WhatsApp marker (each checked on the
  string that holds it); otherwise the national screen's patterns over the digit runs.

Each screen is a superset of the per-string test it stands for: JSON escapes are read as the
spaces they may stand for, and what a screen cannot read (an integer beyond 64 bits, an escaped
character in a known address, non-ASCII digits) makes it say yes. When both say no the document
is returned as it is; otherwise `gateway.sentinel` runs its exact walk.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

import ahocorasick
import orjson

from gateway.detect import Detector
from gateway.detect.national_screen import projected_runs
from gateway.detect.normalise import quick_form
from gateway.exempt import Exempt

# A JSON escape: `\\` stays (so the text stays valid JSON), the others become a space.
_ESCAPE: Final = re.compile(r"\\(?:\\|[bfnrt]|u00[0-9a-fA-F]{2})")
# `[at]` disguises (on the lower-cased text): the tail has a literal start (a fast search).
_AT_TAIL: Final = re.compile(r"at\s*[\])}]")
# In a run (separators written `-`): `00` or `011` opening a group, a country code next.
_IDD_IN_RUN: Final = re.compile(r"(?<!\d)(?:00|011)(?=-?[1-9])")
_FEW_WORDS: Final = 40
_JSON_ESCAPED: Final = re.compile(r'["\\\x00-\x1f]')
_QUOTE: Final = '"'
_LOCAL_PART: Final = "****@"  # the email mask's output before its domain
_RUN_CHARS: Final = {"-": r"[\-().\[\]/~\s]+", "x": "[xX]"}
_DIGIT: Final = re.compile(r"\d")
_INTEGER: Final = re.compile(r"-?\d+")
_MOST_RUNS: Final = 64  # runs left to read in place; more: the walk reads the document
# Markers whose string is read in place: (marker, found in the lower-cased text).
_MARKER_FIRSTS: Final = "@%&+"
_MARKER_CHARS: Final = {c: None for c in range(128) if chr(c) not in _MARKER_FIRSTS}
_MARKERS: Final = (
    ("@", False),
    ("%40", False),
    ("&#", False),
    ("&commat;", True),
    ("+", False),
    ("wa.me", True),
    ("whatsapp", True),
)


class ScreenTexts(NamedTuple):
    full: str  # the document's JSON text
    unread: str  # the same with every `Exempt` string blanked


def screen_texts(document: Any) -> ScreenTexts | None:
    """The document's two JSON texts; None when orjson cannot write it (the walk decides)."""
    try:
        full = orjson.dumps(document).decode()
        unread = orjson.dumps(
            document, default=_blank, option=orjson.OPT_PASSTHROUGH_SUBCLASS
        ).decode()
    except TypeError:  # an integer beyond 64 bits, a value of another type
        return None
    return ScreenTexts(full, unread)


def _blank(value: Any) -> Any:
    if isinstance(value, Exempt):
        return ""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(type(value).__name__)


def spaced(text: str) -> str:
    """`text` with every JSON escape that may stand for whitespace (or a control character)
    read as a space, so digit groups and words stay as the strings hold them."""
    return _ESCAPE.sub(_space, text) if "\\" in text else text


def _space(match: re.Match[str]) -> str:
    escape = match.group()
    return escape if escape == "\\\\" else " " * len(escape)  # offsets stay


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
            or (("00" in run or "011" in run) and _IDD_IN_RUN.search(run))
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


class KnownScreen:
    """`may_recur(full)`: False only when no known value of the document recurs in it."""

    __slots__ = ("_emails", "_names", "_phone_sizes", "_phones", "_unreadable", "_windows")

    def __init__(self, phones: Iterable[str], emails: Iterable[str], names: Iterable[str]) -> None:
        phone_list = list(phones)
        self._phones = _automaton(phone_list)
        self._phone_sizes = min(map(len, phone_list), default=0)
        addresses = list(emails)
        self._emails = addresses
        # PII: an address JSON escapes (a quote, a backslash) is not written as itself.
        self._unreadable = _JSON_ESCAPED.search("".join(addresses)) is not None
        self._windows = _windows(addresses)
        self._names = list(names)

    def may_recur(self, full: str) -> bool:
        if self._unreadable:
            return True
        text = spaced(full)
        if self._names and _any_whole_word(self._names, text):
            return True
        if self._emails and self._email_may_recur(text.lower()):
            return True
        if self._phones is not None:
            # The digits of each stretch without other characters than separators, as one text
            # of the stretches long enough to hold a number (an automaton over ~10 KB, not 200).
            runs = text.translate(_PHONE_PROJECTION).split()
            long_runs = " ".join(run for run in runs if len(run) >= self._phone_sizes)
            return next(self._phones.iter(long_runs), None) is not None
        return False

    def _email_may_recur(self, lowered: str) -> bool:
        """Each address's `@` (or `%40`) with its neighbours, at every `@` and `%40` of the
        text; when an address has no neighbour there, the addresses themselves."""
        windows = self._windows
        if windows is None:
            return any(address in lowered for address in self._emails)
        if not any(window[0] == "*" for window in windows):
            # Whole email mask outputs (`****@example.com`, most `@`s of a masked document)
            # cannot hold a recorded address without `*` before its `@`.
            lowered = lowered.replace(_LOCAL_PART, "****")
        for marker in ("@", "%40"):
            pieces = lowered.split(marker)
            if all(pieces[1:-1]):  # no marker next to another: each window is whole
                seen = {a[-1:] + marker + b[:1] for a, b in itertools.pairwise(pieces)}
                if not windows.isdisjoint(seen):
                    return True
                continue
            at = lowered.find(marker, 1)
            while at != -1:
                if lowered[at - 1 : at + len(marker) + 1] in windows:
                    return True
                at = lowered.find(marker, at + 1)
        return False


def _windows(addresses: Iterable[str]) -> frozenset[str] | None:
    """Each address's first `@` (`%40` if none) with its two neighbours; None when one has
    no neighbour there."""
    out: set[str] = set()
    for address in addresses:
        marker = "@" if "@" in address else "%40"
        at = address.find(marker)
        if at < 1 or at + len(marker) >= len(address):
            return None
        out.add(address[at - 1 : at + len(marker) + 1])
    return frozenset(out)


def _automaton(words: Iterable[str]) -> Any:
    automaton = ahocorasick.Automaton()
    for word in words:
        if word:
            automaton.add_word(word, len(word))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def _any_whole_word(words: list[str], text: str) -> bool:
    """Any occurrence of a word whose neighbours are not word characters (`\\w`)."""
    if len(words) <= _FEW_WORDS:  # one alternation (cached by `re` for a recurring set)
        alternation = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
        hits: Iterable[tuple[int, int]] = (
            (match.end() - 1, match.end() - match.start()) for match in alternation.finditer(text)
        )
    else:
        hits = _automaton(words).iter(text)
    for end, size in hits:
        after = text[end + 1 : end + 2]
        if after and (after.isalnum() or after == "_"):
            continue
        before = text[end - size : end - size + 1] if end >= size else ""
        if before and (before.isalnum() or before == "_"):
            continue
        return True
    return False


def _phone_projection() -> dict[int, str | None]:
    """Digits kept, known values' separators (`\\s.-/()`, no-break and thin spaces) removed,
    every other ASCII character a boundary (a space); others stay (never ASCII digits)."""
    table: dict[int, str | None] = dict.fromkeys(range(128), " ")
    table.update({ord(c): c for c in "0123456789"})
    spaces = [c for c in range(0x3001) if chr(c).isspace()]
    table.update(dict.fromkeys([*spaces, *map(ord, ".-/()\u00a0\u2009\u202f")], None))
    return table


_PHONE_PROJECTION: Final = _phone_projection()
