"""Phone numbers as people type them (SPEC 3.3 and the national quirks of section 4).

The core is phonenumbers' matcher (Leniency.VALID), run for the default region and for every
`text_regions` region (`PhoneFinder`: same answers, cheaper). Around it, what the matcher alone
misses:

- a number broken over one line (`415 555\\n7890`): a line break between two digit groups is read
  as a space;
- the international prefixes `00` and `011` in a region that dials the other one (`0044 20 7946
  0018` read from the US): the prefix is read as `+`;
- Brazil's mobiles written without their 9th digit (`+55 11 8765-4321`) and Mexico's legacy
  `+52 1` mobiles: repaired, then valid;
- `wa.me/`, `api.whatsapp.com/send?phone=` links and WhatsApp ids (`5511987654321@s.whatsapp.net`):
  the digits are a full international number by construction.

Spans are of the text given (the detector's view); `value` is the national significant number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, NamedTuple

import phonenumbers

from gateway.detect.national_screen import IDD_IN_RUN, run_digits
from gateway.detect.phone_matcher import PhoneFinder

# A line break inside a number: between a digit (or closing bracket / separator) and a digit.
_LINE_BREAK: Final = re.compile(r"(?<=[\d).\-])[ \t]*\r?\n[ \t]*(?=[(+]?\d)")
# `00` / `011` then a country code, at the start of a digit group.
_IDD: Final = re.compile(r"(?<![\d+])(?:00|011)(?=[ .\-]?[1-9])")
_QUIRK_GATE: Final = re.compile(r"\+\s?5[25]")  # +55 (Brazil) or +52 (Mexico)
_MX_GATE: Final = re.compile(r"\+\s?52")
_IDD_GATE: Final = re.compile(r"0(?:0|11)[ .\-]?[1-9]")  # literal start: a fast first look
# A link or id whose digits are an international number without `+`.
_WHATSAPP: Final = re.compile(
    r"(?:wa\.me/|whatsapp\.com/send/?\?phone=|whatsapp://send/?\?phone=)\+?(?P<link>\d{8,15})"
    r"|(?<![\w.+\-])(?P<id>\d{8,15})@(?:s\.whatsapp\.net|c\.us)(?![\w\-])",
    re.IGNORECASE,
)
# Brazil: (area) + an 8-digit mobile starting 6-9 (the 9th digit missing); + or 0 or nothing.
_BR_OLD_MOBILE: Final = re.compile(
    r"(?<![\d+])(?P<cc>\+\s?55[\s.\-]?|0?)\(?(?P<area>[1-9]{2})\)?[\s.\-]?"
    r"(?P<sub>[6-9]\d{3}[\s.\-]?\d{4})(?![\d])"
)
# Mexico: +52 1 then the 10-digit national number.
_MX_LEGACY: Final = re.compile(r"\+\s?52[\s.\-]?1[\s.\-]?(?P<nsn>(?:\d[\s.\-]?){9}\d)(?!\d)")
_NON_DIGITS: Final = re.compile(r"\D")
# Precision (docs/masking.md): a number written without `+` or an international prefix is not a
# phone when it is part of something else people and APIs write with digits:
# - it starts with a calendar date (`21.03.2020 00` of `21.03.2020 00:58`, `2024-05-01 ...`);
_DATE_START: Final = re.compile(
    r"\(?(?:(?:0?[1-9]|[12]\d|3[01])[./\-](?:0?[1-9]|1[0-2])|(?:0?[1-9]|1[0-2])[./\-]"
    r"(?:0?[1-9]|[12]\d|3[01]))[./\-](?:19|20)\d\d(?!\d)"
    r"|\(?(?:19|20)\d\d[./\-](?:0?[1-9]|1[0-2])[./\-](?:0?[1-9]|[12]\d|3[01])(?!\d)"
)
# - a time follows it (`...2020 00:58`), or it sits inside a timestamp (`:06.325-05:00`);
_TIME_AFTER: Final = re.compile(r"[:h]\d")
_TIME_BEFORE: Final = re.compile(r"\d[:T]$")
# - it is an IPv4 address or a four-part version (`250.248.35.83`, `9.8.568.81077`), or the
#   decimals of a number (`1699570315.399932`);
_DOTTED_QUAD: Final = re.compile(r"[1-9]\d{0,2}(?:\.\d{1,5}){3}$")
_DECIMALS_BEFORE: Final = re.compile(r"\d[.,]$")
# - it is the tail of an identifier (`ORD-2029-559578`, `INV#2024 555 0101`).
_ID_BEFORE: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*[\-_#/]$")


class PhoneSpan(NamedTuple):
    start: int
    end: int
    value: str  # national significant number


def national_digits(value: str, region: str = "US") -> str | None:
    """The national significant number of a phone value (`+1 (415) 555-7890` -> `4155557890`).

    Read like SPEC 4 reads phones: `whatsapp:`/`tel:` stripped, `region` for national numbers.
    None when the value is no valid number (known values then fall back to its digits).
    """
    text = value.strip()
    for prefix in ("whatsapp:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.national_significant_number(number)
    repaired = _repaired(number)
    return None if repaired is None else phonenumbers.national_significant_number(repaired)


def _repaired(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber | None:
    """Section 4's quirks: Brazil's missing mobile 9th digit, Mexico's legacy `1`."""
    nsn = phonenumbers.national_significant_number(number)
    if number.country_code == 55 and len(nsn) == 10 and nsn[2] in "6789":
        candidate = phonenumbers.PhoneNumber(
            country_code=55, national_number=int(nsn[:2] + "9" + nsn[2:])
        )
    elif number.country_code == 52 and len(nsn) == 11 and nsn[0] == "1":
        candidate = phonenumbers.PhoneNumber(country_code=52, national_number=int(nsn[1:]))
    else:
        return None
    return candidate if phonenumbers.is_valid_number(candidate) else None


class PhoneDetector:
    """Phones in text for a default region and the extra text regions (compiled once)."""

    __slots__ = ("_brazil", "_finders", "_floor", "_only_screen", "_primary")

    def __init__(self, default_region: str, text_regions: Iterable[str] = ()) -> None:
        regions = [default_region, *(r for r in text_regions if r != default_region)]
        self._finders = [PhoneFinder(region) for region in regions]
        self._primary = self._finders[0]
        self._brazil = "BR" in regions
        # One region with a national screen (the common setting): its runs test, called direct.
        screen = self._primary.national_screen
        self._only_screen = self._primary if len(self._finders) == 1 and screen else None
        self._floor = min(finder.floors.plus for finder in self._finders)

    @property
    def finders(self) -> tuple[PhoneFinder, ...]:
        return tuple(self._finders)

    @property
    def reads_every_run(self) -> bool:
        """Brazil's quirk (a mobile without its 9th digit) is looked for in every digit run."""
        return self._brazil

    def may_contain(self, text: str) -> bool:
        """False when `text` has no digit run long enough for any region (the cheapest test)."""
        if text.isascii():
            # Runs without the limit on separators between digits (and across line breaks):
            # a superset of the finders' runs, at C speed.
            floor = self._floor
            return any(len(run) - run.count("-") >= floor for run in run_digits(text))
        if "\n" in text:
            text = _LINE_BREAK.sub(_blank, text)
        return any(finder.may_contain(text) for finder in self._finders)

    def could_match(self, text: str) -> bool:
        """False when `find(text)` is certainly empty: no run any region's screen lets through
        and none of the extensions' markers (`00`/`011`, `+55`/`+52`, WhatsApp links)."""
        if "\n" in text:
            text = _LINE_BREAK.sub(_blank, text)
        if self._brazil or "+" in text:
            # A quirk or a `+`: the full search decides.
            return any(finder.may_contain(text) for finder in self._finders)
        lowered = text.lower()
        if "wa.me" in lowered or "whatsapp" in lowered:
            return any(finder.may_contain(text) for finder in self._finders)
        if text.isascii():
            runs = run_digits(text)  # once for every region
            # An international prefix opening a digit group (on the runs: a superset of
            # `_IDD` on the text, where `-` stands for any separator). A run's `00` or `011`
            # are adjacent digits of the text: none there, none in the runs.
            if ("00" in text or "011" in text) and any(
                ("00" in run or "011" in run) and IDD_IN_RUN.search(run) for run in runs
            ):
                return any(finder.may_contain(text) for finder in self._finders)
            if self._only_screen is not None:
                return self._only_screen.runs_may_hold(runs)
            return any(
                finder.runs_may_hold(runs)
                if finder.national_screen is not None
                else finder.may_contain(text)
                for finder in self._finders
            )
        if ("00" in text or "011" in text) and _IDD_GATE.search(text) and _IDD.search(text):
            return any(finder.may_contain(text) for finder in self._finders)
        return any(finder.could_match(text) for finder in self._finders)

    def whatsapp(self, text: str) -> list[PhoneSpan]:
        """WhatsApp links and ids only (the detector takes ids before it looks for emails)."""
        return _whatsapp(text)

    def find(self, text: str, screened: bool = False) -> list[PhoneSpan]:
        """The phones of `text`; `screened`: `could_match(text)` said yes already."""
        single = len(self._finders) == 1
        if not screened:
            # One region: its screen once here, not again in the finder. Several: the cheap
            # floor here, each region's own screen in its finder.
            if not (self.could_match(text) if single else self.may_contain(text)):
                return []
            screened = single
        joined = _LINE_BREAK.sub(_blank, text) if "\n" in text else text
        spans: list[PhoneSpan] = []
        for finder in self._finders:
            spans += [
                PhoneSpan(*span)
                for span in finder.find(joined, screened and single)
                if not _looks_other(joined, span)
            ]
        if "0" in joined and _IDD_GATE.search(joined):
            spans += self._by_international_prefix(joined, spans)
        if self._brazil or ("5" in joined and _QUIRK_GATE.search(joined)):
            spans += self._quirks(joined)
        lowered = joined.lower()
        if "wa.me" in lowered or "whatsapp" in lowered:
            spans += _whatsapp(joined)
        return _without_overlaps(spans) if len(spans) > 1 else spans

    def _by_international_prefix(self, text: str, found: list[PhoneSpan]) -> list[PhoneSpan]:
        out = []
        for match in _IDD.finditer(text):
            start, end = match.span()
            if any(span.start <= start < span.end for span in found):
                continue
            # Same length, so every offset stays: `0044 20` -> ` +44 20`, `011 44` -> `  +44`.
            rewritten = text[:start] + " " * (end - start - 1) + "+" + text[end:]
            for span in self._primary.find(rewritten):
                if span.start < end <= span.end:  # the number the `+` starts (or its bracket)
                    out.append(PhoneSpan(min(start, span.start), span.end, span.national_number))
        return out

    def _quirks(self, text: str) -> list[PhoneSpan]:
        out = []
        for match in _BR_OLD_MOBILE.finditer(text) if self._brazil or "55" in text else ():
            if not (match["cc"].strip() or self._brazil):
                continue
            nsn = match["area"] + "9" + _NON_DIGITS.sub("", match["sub"])
            if _valid(55, nsn):
                out.append(PhoneSpan(match.start(), match.end(), nsn))
        if _MX_GATE.search(text):  # (a full-width `+` reaches here as `+`: the view is NFKC)
            for match in _MX_LEGACY.finditer(text):
                nsn = _NON_DIGITS.sub("", match["nsn"])
                if _valid(52, nsn):
                    out.append(PhoneSpan(match.start(), match.end(), nsn))
        return out


def _looks_other(text: str, span: tuple[int, int, str]) -> bool:
    """True for a national-form number that is part of a date, a time or an identifier."""
    start, end, _ = span
    raw = text[start:end]
    if raw.lstrip("(").startswith(("+", "\uff0b")):
        return False  # written internationally: nobody writes a date that way
    return bool(
        _DATE_START.match(raw)
        or _DOTTED_QUAD.match(raw)
        or _DECIMALS_BEFORE.search(text, max(0, start - 2), start)
        or _TIME_AFTER.match(text, end)
        or _TIME_BEFORE.search(text, max(0, start - 2), start)
        or _ID_BEFORE.search(text, max(0, start - 12), start)
    )


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _valid(country_code: int, nsn: str) -> bool:
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))
    return phonenumbers.is_valid_number(number)


def _whatsapp(text: str) -> list[PhoneSpan]:
    out = []
    for match in _WHATSAPP.finditer(text):
        group = "link" if match["link"] else "id"
        digits = match[group]
        out.append(PhoneSpan(match.start(group), match.end(group), _nsn_of_international(digits)))
    return out


def _nsn_of_international(digits: str) -> str:
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return digits
    return phonenumbers.national_significant_number(number)


def _without_overlaps(spans: list[PhoneSpan]) -> list[PhoneSpan]:
    """Earliest first; of two overlapping spans the one starting first (then the longer) wins."""
    out: list[PhoneSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            continue
        out.append(span)
    return out
