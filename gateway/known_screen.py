"""The known values' whole-document screen (SPEC 3.9): can a recorded value recur at all?

`KnownScreen.may_recur(full)` reads the document's whole JSON text
(`gateway.residual_screen.screen_texts`): phones by their national digits (Aho-Corasick over the
digit runs with the known values' separators removed), emails by the characters around each `@`
and `%40`, name words by one alternation with a word-boundary check at each hit. A superset of
`KnownValues.mask` on every string: an address JSON would escape makes it say yes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Any, Final

import ahocorasick

from gateway.residual_screen import spaced

_FEW_WORDS: Final = 40
_WORD_RUN: Final = re.compile(r"\w+")
_JSON_ESCAPED: Final = re.compile(r'["\\\x00-\x1f]')
_LOCAL_PART: Final = b"****@"  # the email mask's output before its domain


class KnownScreen:
    """`may_recur(full)`: False only when no known value of the document recurs in it."""

    __slots__ = (
        "_byte_windows",
        "_emails",
        "_names",
        "_phone_sizes",
        "_phones",
        "_unreadable",
        "_windows",
    )

    def __init__(self, phones: Iterable[str], emails: Iterable[str], names: Iterable[str]) -> None:
        phone_list = list(phones)
        self._phones = _automaton(phone_list)
        self._phone_sizes = min(map(len, phone_list), default=0)
        addresses = list(emails)
        self._emails = addresses
        self._names = list(names)
        # PII: a value JSON escapes (a quote, a backslash) is not written as itself.
        self._unreadable = _JSON_ESCAPED.search("".join([*addresses, *self._names])) is not None
        self._windows = email_windows(addresses)
        windows = self._windows
        self._byte_windows = (
            frozenset(w.encode() for w in windows)
            if windows is not None and all(w.isascii() for w in windows)
            else None
        )

    def may_recur(self, full: str) -> bool:
        if self._unreadable:
            return True
        text = spaced(full)
        # On the UTF-8 bytes: byte tables and searches stay C-fast on any text, where `str`
        # methods slow to a step per character once one character is not ASCII.
        raw = text.encode("utf-8", "surrogatepass")
        if self._names and _any_whole_word(self._names, text, raw):
            return True
        if self._emails and self._email_may_recur(text, raw):
            return True
        if self._phones is not None:
            # The digits of each stretch without other characters than separators, as one text
            # of the stretches long enough to hold a number (an automaton over ~10 KB, not 200).
            runs = raw.translate(_PHONE_BYTES, _PHONE_DROP).split()
            size = self._phone_sizes
            long_runs = b" ".join(run for run in runs if len(run) >= size).decode("ascii")
            return next(self._phones.iter(long_runs), None) is not None
        return False

    def _email_may_recur(self, text: str, raw: bytes) -> bool:
        """Each address's `@` (or `%40`) with its neighbours, at every `@` and `%40` of the
        text; when an address has no neighbour there, the addresses themselves."""
        windows = self._windows
        if windows is None:
            lowered = text.lower()
            return any(address in lowered for address in self._emails)
        if self._byte_windows is None:
            # A window with a character other than ASCII: lower-cased as the addresses were.
            lowered = text.lower()
            return holds_window(lowered, windows, "@") or holds_window(lowered, windows, "%40")
        lowered_raw = raw.lower()  # ASCII letters: the windows are ASCII
        if not any(window[0] == "*" for window in windows):
            # Whole email mask outputs (`****@example.com`, most `@`s of a masked document)
            # cannot hold a recorded address without `*` before its `@`.
            lowered_raw = lowered_raw.replace(_LOCAL_PART, b"****")
        for marker in (b"@", b"%40"):
            pieces = lowered_raw.split(marker)
            if all(pieces[1:-1]):  # no marker next to another: each window is whole
                seen = {a[-1:] + marker + b[:1] for a, b in itertools.pairwise(pieces)}
                if not self._byte_windows.isdisjoint(seen):
                    return True
                continue
            at = lowered_raw.find(marker, 1)
            while at != -1:
                if lowered_raw[at - 1 : at + len(marker) + 1] in self._byte_windows:
                    return True
                at = lowered_raw.find(marker, at + 1)
        return False


def holds_window(lowered: str, windows: frozenset[str], marker: str) -> bool:
    """Whether some `marker` (`@`, `%40`) of `lowered` has neighbours making one of `windows`."""
    at = lowered.find(marker, 1)
    while at != -1:
        if lowered[at - 1 : at + len(marker) + 1] in windows:
            return True
        at = lowered.find(marker, at + 1)
    return False


def email_windows(addresses: Iterable[str]) -> frozenset[str] | None:
    """Each address's first `@` (`%40` if none) with its two neighbours; None when one has
    no neighbour there (no window test then)."""
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


def _any_whole_word(words: list[str], text: str, raw: bytes) -> bool:
    """Any occurrence of a word whose neighbours are not word characters (`\\w`). On the
    UTF-8 bytes for a few words: a byte of another character next to a word counts as no word
    character (more hits, never fewer: UTF-8 never starts a word inside another character)."""
    if len(words) > _FEW_WORDS:
        return _whole_word_in(text, _automaton(words).iter(text))
    plain = [word.encode() for word in words if _WORD_RUN.fullmatch(word)]
    if plain:
        # One alternation (cached by `re` for a recurring set). Matches do not overlap, which
        # hides nothing: a longer word matched where a shorter one starts goes on with a word
        # character, so the shorter one is no whole word there either.
        plain.sort(key=len, reverse=True)
        alternation = re.compile(b"|".join(map(re.escape, plain)))
        for match in alternation.finditer(raw):
            if _whole_at(raw, *match.span()):
                return True
    for word in words:
        if not _WORD_RUN.fullmatch(word):
            # A first word with other characters (`Mary-Jo`): searched alone, every place.
            encoded = word.encode()
            start = raw.find(encoded)
            while start >= 0:
                if _whole_at(raw, start, start + len(encoded)):
                    return True
                start = raw.find(encoded, start + 1)
    return False


def _whole_at(raw: bytes, start: int, end: int) -> bool:
    before = start == 0 or raw[start - 1] not in _WORD_BYTES
    return before and (end == len(raw) or raw[end] not in _WORD_BYTES)


def _whole_word_in(text: str, hits: Iterable[tuple[int, int]]) -> bool:
    for end, size in hits:
        after = text[end + 1 : end + 2]
        if after and (after.isalnum() or after == "_"):
            continue
        before = text[end - size : end - size + 1] if end >= size else ""
        if before and (before.isalnum() or before == "_"):
            continue
        return True
    return False


# ASCII word characters (`\\w`), as bytes: for a byte of another character, no.
_WORD_BYTES: Final = frozenset(c for c in range(128) if chr(c).isalnum() or chr(c) == "_")


def _phone_bytes() -> bytes:
    """A `bytes.translate` table: ASCII digits kept, known values' ASCII separators (`\\s`,
    `.-/()`) removed, every other ASCII byte a boundary (a space). Bytes of other characters are
    removed: no-break, thin and other spaces are separators, and joining digits across any other
    character only finds more (never an ASCII digit is lost)."""
    table = bytearray(b" " * 256)
    for char in b"0123456789":
        table[char] = char
    return bytes(table)


_PHONE_BYTES: Final = _phone_bytes()
_PHONE_DROP: Final = bytes([*b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f.-/()", *range(0x80, 0x100)])
