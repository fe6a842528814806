"""The national screen: an exact, cheap proof that a digit run holds no valid phone number.

phonenumbers' matcher parses every digit run it meets (order numbers, dates, ids), which is
where the text mask's time went. This screen rules most of them out first, never changing the
matcher's answer (see `NationalScreen`); the matcher only sees runs the screen cannot rule out.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Final

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

NON_GEO_REGION: Final = "001"


def metadata_of(country_code: int, region: str) -> Any:
    if region == NON_GEO_REGION:
        return PhoneMetadata.metadata_for_nongeo_region(country_code)
    return PhoneMetadata.metadata_for_region(region)


class NationalScreen:
    """An exact test that a digit run without `+` cannot hold a valid number of a region.

    Read with default region R (country code C), a run without a plus sign and without R's
    international prefix at its start can only yield numbers of C (phonenumbers extracts no
    other country code from it), and the national significant number of any number parsed from
    the run or from any part of it is a contiguous stretch of the run's digits: stripping a
    national prefix, a carrier code or C itself only removes leading digits, and an extension
    only trailing ones. A valid number's NSN fully matches the general description (pattern and
    possible lengths) of some region of C. So when no stretch of a possible length matches, no
    number is valid. Not used (None) for regions whose national-prefix transform rewrites digits
    (AG, AR, ...). Runs with letters (keypad `x`) or non-ASCII digits are never ruled out.
    """

    __slots__ = ("_by_length", "_idd", "_shortest")

    def __init__(self, idd: re.Pattern[str], by_length: dict[int, re.Pattern[str]]):
        self._idd = idd
        self._by_length = tuple(sorted(by_length.items()))
        self._shortest = self._by_length[0][0]

    @property
    def shortest(self) -> int:
        """Fewest digits of a number this screen can leave in (shorter runs are ruled out)."""
        return self._shortest

    def rules_out(self, run: str) -> bool:
        if not run.isascii() or "x" in run or "X" in run:
            return False
        digits = _NON_DIGIT.sub("", run)
        size = len(digits)
        if size < self._shortest:
            return True
        # SECURITY: the matcher also reads parts of a run (its inner matches start after a
        # separator): a prefix at the start of any digit group may begin a foreign number.
        if self._idd.search(run):
            return False
        for length, pattern in self._by_length:
            if length > size:
                break
            fullmatch = pattern.fullmatch
            for start in range(size - length + 1):
                if fullmatch(digits, start, start + length):
                    return False
        return True


_NON_DIGIT: Final = re.compile(r"\D")
# The number types phonenumbers tries (`_number_type_helper`): a valid number matches one.
_NUMBER_TYPES: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_SINGLE_GROUP: Final = re.compile(r"\\\d")  # `\2`: keeps one group of the digits, adds none
# ASCII texts: maximal runs of digits joined by the matcher's ASCII punctuation (any number of
# it: a longer run only screens less). `x`/`X` join too; a run holding one is never ruled out.
ASCII_RUNS: Final = re.compile(r"\d[\dxX\-\s().\[\]/~]*")


def _run_bytes() -> bytes:
    table = bytearray(b" " * 128 + b"u" * 128)  # another character's bytes: `u`
    for char in b"0123456789x":
        table[char] = char
    table[ord("X")] = ord("x")
    for char in b"-().[]/~ \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f":
        table[char] = ord("-")
    return bytes(table)


# UTF-8 text -> its `ASCII_RUNS` with every separator written `-`, keypad letters `x` and every
# byte of a non-ASCII character `u`, separated by spaces: `split()` gives each run (after
# `lstrip("x-")`: runs start with a digit) at C speed (a byte table, where `str.translate` looks
# each character up in a dict).
RUN_BYTES: Final = _run_bytes()


# In a run of `run_digits`: `00` or `011` opening a digit group, a country code next (any
# separators between: a line break may be two characters, or an escape read as spaces).
IDD_IN_RUN: Final = re.compile(r"(?<!\d)(?:00|011)(?=-*[1-9])")


def run_digits(text: str) -> list[str]:
    """Each `ASCII_RUNS` run of an ASCII text (digits, keypad `x`, `-` for any separator)."""
    # A separator after a boundary cannot start a run (runs start with a digit): dropping it
    # leaves the spaces between words as boundaries instead of thousands of `-` pieces.
    pieces = text.encode("ascii").translate(RUN_BYTES).replace(b" -", b" ").decode("ascii")
    runs = [run.lstrip("x-").rstrip("-") for run in pieces.split()]
    return [run for run in runs if run]


# In a text of pieces of the `RUN_BYTES` projection: a keypad letter next to a digit or a byte of
# another character (which may be a digit of another script), across separators; or `00` / `011`
# opening a digit group.
_SHORT_HINT: Final = re.compile(rb"[0-9u]-*x|x-*[0-9u]|(?:^| |-)(?:00|011)")


def candidate_runs(raw: bytes, floor: int) -> set[bytes]:
    """The runs of `raw` (UTF-8; separators `-`, keypad letters `x`, other characters' bytes
    `u`) that may hold a number: `floor` characters or more, or shorter with a keypad letter,
    or with `00` / `011` opening a digit group (`00 98 9601` where the national floor is 10).

    A superset of what each run's own tests keep: pieces are measured before their leading
    separators are stripped. Pieces repeat (ids, keys): each distinct one is tested once, the
    short ones first together in one search (most documents have none worth a look)."""
    pieces = set(raw.translate(RUN_BYTES).split())
    runs = [piece for piece in pieces if len(piece) >= floor]
    short = [piece for piece in pieces if len(piece) < floor]
    if _SHORT_HINT.search(b" ".join(short)):
        runs += [piece for piece in short if b"x" in piece or _may_open_with_prefix(piece)]
    out = {run.lstrip(b"x-").rstrip(b"-") for run in runs}
    out.discard(b"")
    return out


def _may_open_with_prefix(run: bytes) -> bool:
    """Whether a digit group of the run (separators `-`) starts with `00` or `011`."""
    return run[:2] == b"00" or run[:3] == b"011" or b"-00" in run or b"-011" in run


@cache
def national_screen(region: str) -> NationalScreen | None:
    home = PhoneMetadata.metadata_for_region(region)
    if home is None or home.country_code is None:
        return None
    if home.national_prefix_transform_rule and not _SINGLE_GROUP.fullmatch(
        home.national_prefix_transform_rule
    ):
        return None  # the rule adds digits (AG's `268\1`): the NSN is not a stretch of the run
    # Per length, what a valid number of each region of C must fully match (phonenumbers'
    # `_number_type_helper`): its general pattern and the pattern of one of its number types,
    # both allowing that length. For +1 at 7 digits that leaves Canada's `310\d{4}` alone.
    by_length: dict[int, list[str]] = {}
    for member in COUNTRY_CODE_TO_REGION_CODE[home.country_code]:
        metadata = metadata_of(home.country_code, member)
        if metadata is None or metadata.general_desc is None:
            continue
        desc = metadata.general_desc
        if not desc.national_number_pattern or not desc.possible_length:
            return None  # nothing stated to screen with
        general = desc.national_number_pattern
        general_lengths = {length for length in desc.possible_length if length > 0}
        types: dict[int, list[str]] = {}
        for name in _NUMBER_TYPES:
            kind = getattr(metadata, name, None)
            if kind is None or not kind.national_number_pattern:
                continue
            for length in kind.possible_length or general_lengths:
                if length in general_lengths:
                    types.setdefault(length, []).append(kind.national_number_pattern)
        for length, patterns in types.items():
            either = "|".join(f"(?:{p})" for p in dict.fromkeys(patterns))
            alternative = f"(?=(?:{general})\\Z)(?:{either})"
            alternatives = by_length.setdefault(length, [])
            if alternative not in alternatives:
                alternatives.append(alternative)
    if not by_length:
        return None
    idd = re.compile(f"(?<!\\d)(?:{home.international_prefix or '(?!)'})")
    compiled = {
        length: re.compile("|".join(f"(?:{p})" for p in patterns))
        for length, patterns in by_length.items()
    }
    return NationalScreen(idd, compiled)
