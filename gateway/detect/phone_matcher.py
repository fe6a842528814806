"""Finding phone numbers in free text, for the `text` mask.

The numbers found are exactly those phonenumbers' `PhoneNumberMatcher` (Leniency.VALID, the
default region) finds. The matcher parses every digit group it meets (prices, dates, ids), which
is what makes it slow, so shortcuts skip work whose answer is known, never changing the answer:

1. Prefilter. The matcher's candidates are digit blocks joined by at most four characters of
   phonenumbers' punctuation. A number it accepts needs at least `digit_floors(region).plus`
   digits, so a text without such a run never reaches it. `x` is punctuation for the matcher
   but can turn into the digit 9 (phonenumbers reads three or more letters as a keypad), so
   every count here takes `x` for a digit and that case cannot slip past.
2. `min_candidate_length`: shorter candidates are not parsed (fewer characters, fewer digits).
3. The candidate check (`_extract_match`) gets a front door: a candidate with fewer digits than
   its floor (a `+` lowers it) is rejected without parsing, and a candidate already rejected in
   the same context (one character before, three after: all the check reads outside the
   candidate) is rejected again without parsing.

The only divergence from the plain matcher: skipped candidates do not use up its `max_tries`
budget (65535 failed candidates per text), so on degenerate texts we can find *more* numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from phonenumbers import (
    CountryCodeSource,
    Leniency,
    PhoneNumberMatch,
    PhoneNumberMatcher,
    national_significant_number,
)
from phonenumbers import phonenumbermatcher as _pm
from phonenumbers.phonenumberutil import _PLUS_CHARS, _VALID_PUNCTUATION

from gateway.detect import fast_parse
from gateway.detect.digit_floors import DigitFloors, digit_floors
from gateway.detect.national_screen import (
    NationalScreen,
    national_screen,
    run_digits,
)

MEMO_ENTRIES: Final = 8192
RULED_OUT_ENTRIES: Final = 8192
_DIGIT_LIKE: Final = re.compile(r"[\dxX]")
_PLUS: Final = re.compile(f"[{_PLUS_CHARS}]")


class PhoneSpan(NamedTuple):
    start: int
    end: int
    national_number: str  # national significant number, without extension


def _front_door_fits() -> bool:
    """The matcher's candidate check has the signature the front door wraps."""
    method = getattr(PhoneNumberMatcher, "_extract_match", None)
    return method is not None and list(inspect.signature(method).parameters) == [
        "self",
        "candidate",
        "offset",
    ]


_FRONT_DOOR: Final = _front_door_fits()
# The matcher internals the Rust-backed parse-and-verify step reproduces (fast_parse.py).
_VERIFY_PARTS: Final = (
    "_MATCHING_BRACKETS",
    "_PUB_PAGES",
    "_LEAD_PATTERN",
    "_contains_only_valid_x_chars",
    "_is_national_prefix_present_if_required",
)
# `_search_index` and the pattern's lead limits as phonenumbers 9 has them (checked in tests).
_SKIP_FITS: Final = _FRONT_DOOR and _pm._LEAD_LIMIT == "{0,2}" and _pm._PUNCTUATION_LIMIT == "{0,4}"
_ANY_DIGIT: Final = re.compile(r"\d")
_FAST_FITS: Final = _FRONT_DOOR and all(hasattr(_pm, part) for part in _VERIFY_PARTS)
# phonenumbers added `min_candidate_length` in 2026 (PR #319); older versions only lose speed.
_MIN_LENGTH: Final = "min_candidate_length" in inspect.signature(PhoneNumberMatcher).parameters


class PhoneFinder:
    """The matcher's phone numbers in a text, for one default region."""

    __slots__ = (
        "_fast",
        "_floors",
        "_misses",
        "_options",
        "_region",
        "_ruled_out",
        "_run",
        "_runs",
        "_screen",
    )

    def __init__(self, region: str, *, fast: bool = True) -> None:
        self._region = region
        engine = fast_parse.engine() if fast and _FAST_FITS else None
        self._fast = engine if engine is not None and fast_parse.agrees_for(region) else None
        self._floors = digit_floors(region)
        unit = r"[\dx]"
        gap = rf"(?:(?!x)[{_VALID_PUNCTUATION}])"
        # IGNORECASE like the matcher's own pattern, so `X` and `x` behave the same.
        self._run = re.compile(
            rf"{unit}(?:{gap}{{0,4}}{unit}){{{self._floors.plus - 1}}}", re.IGNORECASE
        )
        # Maximal runs: every candidate of the matcher lies inside one (same gaps, `x` a unit).
        self._runs = re.compile(rf"{unit}(?:{gap}{{0,4}}{unit})*", re.IGNORECASE)
        self._screen = national_screen(region)
        self._options: dict[str, Any] = {"leniency": Leniency.VALID}
        if _MIN_LENGTH:
            self._options["min_candidate_length"] = self._floors.plus
        # PII: rejected candidates only (no phone numbers), keyed by digest, not by the text.
        self._misses: OrderedDict[tuple[bytes, str, str], None] = OrderedDict()  # O(1) eviction
        # PII: digit runs the national screen proved to hold no valid number (ids, dates,
        # timestamps: they recur across responses), never a run it could not rule out.
        self._ruled_out: dict[str, None] = {}

    def may_contain(self, text: str) -> bool:
        """False when `text` certainly holds no number the matcher would find."""
        if text.isascii():
            # Digits of runs with any number of separators between them: a superset of `_run`.
            floor = self._floors.plus
            return any(len(run) - run.count("-") >= floor for run in run_digits(text))
        return self._run.search(text) is not None

    @property
    def region(self) -> str:
        return self._region

    @property
    def national_screen(self) -> NationalScreen | None:
        return self._screen

    @property
    def floors(self) -> DigitFloors:
        return self._floors

    @property
    def uses_fast_engine(self) -> bool:
        return self._fast is not None

    def could_match(self, text: str) -> bool:
        """False when no digit run of `text` can hold a valid number (see `NationalScreen`)."""
        screen = self._screen
        if screen is not None and text.isascii() and "+" not in text:
            # The screen subsumes the digit floor: a run under it is ruled out at once.
            return self.runs_may_hold(run_digits(text))
        if not self.may_contain(text):
            return False
        if screen is None or _PLUS.search(text):
            return True
        return not all(screen.rules_out(run.group()) for run in self._runs.finditer(text))

    def runs_left(self, runs: Iterable[str]) -> list[str]:
        """The runs the national screen cannot rule out (all of them without a screen)."""
        if self._screen is None:
            return list(runs)
        return [run for run in runs if self.runs_may_hold([run])]

    def runs_may_hold(self, runs: list[str]) -> bool:
        """False when the national screen rules out every run (`run_digits` of an ASCII text
        without `+`); True without a screen."""
        screen = self._screen
        if screen is None:
            return any(runs)
        shortest = screen.shortest
        ruled_out = self._ruled_out
        for run in runs:
            if run in ruled_out or (len(run) < shortest and "x" not in run):
                continue
            if not screen.rules_out(run):
                return True
            if len(ruled_out) >= RULED_OUT_ENTRIES:
                ruled_out.clear()
            ruled_out[run] = None
        return False

    def find(self, text: str, screened: bool = False) -> list[PhoneSpan]:
        """The matcher's numbers; `screened`: `could_match(text)` said yes already."""
        if not screened and not self.could_match(text):
            return []
        if _FRONT_DOOR:
            matcher: PhoneNumberMatcher = _Matcher(text, self)
        else:
            matcher = PhoneNumberMatcher(text, self._region, **self._options)
        return [
            PhoneSpan(match.start, match.end, national_significant_number(match.number))
            for match in matcher
        ]

    def check(
        self, matcher: PhoneNumberMatcher, candidate: str, offset: int
    ) -> PhoneNumberMatch | None:
        """`matcher._extract_match(candidate, offset)`, skipping work whose answer is known."""
        plus = _PLUS.search(candidate) is not None
        floor = self._floors.plus if plus else self._floors.plain
        if len(_DIGIT_LIKE.findall(candidate)) < floor:
            return None
        # The national screen reads numbers without `+` only (AU's floors are equal: the floor
        # alone cannot tell which form a candidate is in).
        if not plus and self._screen and self._screen.rules_out(candidate):
            return None
        if plus:
            # Written internationally: nearly always a number, parsed once in Rust; the
            # rejection memo (a digest per candidate) pays for national-looking runs only.
            return PhoneNumberMatcher._extract_match(matcher, candidate, offset)
        end = offset + len(candidate)
        digest = hashlib.blake2b(candidate.encode("utf-8", "surrogatepass"), digest_size=16)
        key = (digest.digest(), matcher.text[offset - 1 : offset], matcher.text[end : end + 3])
        if key in self._misses:
            return None
        match = PhoneNumberMatcher._extract_match(matcher, candidate, offset)
        # A "no" given because the try budget ran out is no verdict on the candidate.
        if match is None and matcher._max_tries > 0:
            if len(self._misses) >= MEMO_ENTRIES:
                with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                    self._misses.popitem(last=False)
            self._misses[key] = None
        return match


class _Matcher(PhoneNumberMatcher):
    """phonenumbers' matcher with `PhoneFinder.check` in front of its candidate check."""

    def __init__(self, text: str, finder: PhoneFinder) -> None:
        super().__init__(text, finder._region, **finder._options)
        self._finder = finder
        if _SKIP_FITS:
            # The matcher's pattern needs a digit, and at most two leading groups of a bracket
            # or plus and four punctuation characters come before it: no match starts earlier
            # than 10 characters before the first digit, so the search starts there.
            first = _ANY_DIGIT.search(text)
            self._search_index = len(text) if first is None else max(0, first.start() - 10)

    def _extract_match(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        return self._finder.check(self, candidate, offset)

    def _parse_and_verify(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        fast = self._finder._fast
        if fast is None or "x" in candidate or "X" in candidate:
            return PhoneNumberMatcher._parse_and_verify(self, candidate, offset)
        return _fast_parse_and_verify(self, fast, candidate, offset)


def _fast_parse_and_verify(
    matcher: PhoneNumberMatcher, fast: Any, candidate: str, offset: int
) -> PhoneNumberMatch | None:
    """phonenumbers' `_parse_and_verify` (Leniency.VALID) with parse and validity from Rust.

    Line for line the library's method; `x` characters (carrier codes, extensions) never come
    here, so `_contains_only_valid_x_chars` is always true and is left out.
    """
    if not _pm._MATCHING_BRACKETS.fullmatch(candidate) or _pm._PUB_PAGES.search(candidate):
        return None
    text = matcher.text
    if offset > 0 and not _pm._LEAD_PATTERN.match(candidate):
        previous = text[offset - 1]
        if matcher._is_invalid_punctuation_symbol(previous) or matcher._is_latin_letter(previous):
            return None
    last = offset + len(candidate)
    if last < len(text):
        following = text[last]
        if matcher._is_invalid_punctuation_symbol(following) or matcher._is_latin_letter(following):
            return None
    number = fast_parse.parse_valid(fast, candidate, matcher.preferred_region or "ZZ")
    if number is None or not _pm._is_national_prefix_present_if_required(number):
        return None
    number.country_code_source = CountryCodeSource.UNSPECIFIED
    number.raw_input = None
    number.preferred_domestic_carrier_code = None
    return PhoneNumberMatch(offset, candidate, number)
