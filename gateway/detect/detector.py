"""The text detector (SPEC 3.3): phones and emails in a string, as spans of the original text.

Compiled once per rule set (`Detector(default_region, text_regions)`), then called on every
string of a document, so the common case, a string with neither a long digit run nor an `@`
(or a disguise of one), costs one regex search and returns `[]`.

Order matters, and is the one the `text` mask always had:
1. WhatsApp ids (`5511987654321@s.whatsapp.net`) are phones, so the email pass skips them;
2. emails next: `14155557890@example.com` is an address, not a number and a domain;
3. phones last, on the text with every address blanked out (same length, so offsets hold), so the
   digits of a local part neither count as a number nor hide one written next to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, NamedTuple

from gateway.detect import emails
from gateway.detect.finding import EMAIL, PHONE, Finding, Kind
from gateway.detect.normalise import quick_form, view_of
from gateway.detect.phone_matcher import PhoneFinder
from gateway.detect.phones import PhoneDetector, PhoneSpan

_EMAIL_TRIGGER: Final = re.compile(r"@|%40|&#|&commat;|[\[({]\s*at\s*[\])}]", re.IGNORECASE)
_AT_TAIL: Final = re.compile(r"at\s*[\])}]")  # on the lower-cased text: a literal start


class Detector:
    """Finds phones and emails for one default region and its `text_regions`."""

    __slots__ = ("_phones", "default_region", "text_regions")

    def __init__(self, default_region: str = "US", text_regions: Iterable[str] = ()) -> None:
        self.default_region = default_region.upper()
        self.text_regions = tuple(region.upper() for region in text_regions)
        self._phones = PhoneDetector(self.default_region, self.text_regions)

    def screen(self, text: str) -> Screen:
        """The cheap exact screen every string passes first: which passes can find anything
        (an `@` or a disguise of one; a digit run some region can read)."""
        # Full-width digits and `@`, and invisible characters, show in the normal form.
        seen = text if text.isascii() else quick_form(text)
        return Screen(_email_trigger(seen), self._phones.could_match(seen))

    def glance(self, text: str) -> bool:
        """False when `text` has neither an `@` (or a disguise of one) nor a digit run long
        enough for any region: cheaper than `screen`, which also reads the runs."""
        seen = text if text.isascii() else quick_form(text)
        return _email_trigger(seen) or self._phones.may_contain(seen)

    def phone_finders(self) -> tuple[PhoneFinder, ...]:
        """One phone finder per region read (default region first)."""
        return self._phones.finders

    @property
    def reads_every_run(self) -> bool:
        return self._phones.reads_every_run

    def may_contain_phone(self, text: str) -> bool:
        """False when no digit run of `text` is long enough for any region (no national screen)."""
        return self._phones.may_contain(text)

    def may_contain(self, text: str) -> bool:
        """False when `text` certainly holds no finding."""
        return any(self.screen(text))

    def find(self, text: str, screen: Screen | None = None) -> list[Finding]:
        """Every finding in `text`, in order, not overlapping; spans of `text` itself.

        `screen` is `self.screen(text)` when the caller has it already."""
        emails_possible, phones_possible = self.screen(text) if screen is None else screen
        if not (emails_possible or phones_possible):
            return []
        view = view_of(text)
        seen = view.text
        found: list[tuple[int, int, Kind, str]] = []
        whatsapp: list[PhoneSpan] = []
        if emails_possible:
            if "@s.whatsapp.net" in seen or "@c.us" in seen:
                whatsapp = self._phones.whatsapp(seen)
                found += [(span.start, span.end, PHONE, span.value) for span in whatsapp]
            for span in emails.find(seen):
                # Two addresses sharing characters (`e@e.ne@e.om`): the first one wins, as
                # for phones; spans never overlap (the blanking below keeps offsets).
                if found and span.start < found[-1][1]:
                    continue
                if not _overlaps(span.start, span.end, whatsapp):
                    found.append((span.start, span.end, EMAIL, span.address))
        if phones_possible:
            if found:
                seen = _blanked(seen, found)
            # Blanking addresses only removes digits: the screen's yes still stands for what
            # is left (and a no would have been a no before). Screened again only when an
            # address was blanked and no `+` is left (it may have held the only long run).
            for phone in self._phones.find(seen, screened=not found or "+" in seen):
                found.append((phone.start, phone.end, PHONE, phone.value))
            found.sort()
        return [Finding(*view.span(start, end), kind, value) for start, end, kind, value in found]


def _email_trigger(seen: str) -> bool:
    """`_EMAIL_TRIGGER.search(seen)`, with C-level substring tests first (most texts have
    none of `@`, `%40`, `&`, and no bracket before an `at`)."""
    if "@" in seen or "%40" in seen or "&#" in seen:
        return True
    lowered = seen.lower()
    if len(lowered) != len(seen):  # a character whose lower case is longer: no offsets
        return _EMAIL_TRIGGER.search(seen) is not None
    if "&commat;" in lowered:
        return True
    if "[" in seen or "(" in seen or "{" in seen:
        for match in _AT_TAIL.finditer(lowered):
            if _EMAIL_TRIGGER.search(seen, max(0, _bracket_before(lowered, match.start()))):
                return True
    return False


def _bracket_before(lowered: str, at: int) -> int:
    """Where the `[`, `(` or `{` (and the spaces) before `at` begins; -1 when there is none."""
    before = at - 1
    while before >= 0 and lowered[before].isspace():
        before -= 1
    return before if before >= 0 and lowered[before] in "[({" else len(lowered)


class Screen(NamedTuple):
    """What `Detector.screen` says may be in a text."""

    emails: bool
    phones: bool


def _overlaps(start: int, end: int, spans: list[PhoneSpan]) -> bool:
    return any(span.start < end and start < span.end for span in spans)


def _blanked(text: str, spans: list[tuple[int, int, Kind, str]]) -> str:
    """`text` with each span replaced by asterisks (what the mask output would put there)."""
    out: list[str] = []
    pos = 0
    for start, end, _, _ in sorted(spans):
        out += (text[pos:start], "*" * (end - start))
        pos = end
    out.append(text[pos:])
    return "".join(out)
