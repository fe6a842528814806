"""The text mask finds exactly the phone numbers phonenumbers' matcher (Leniency.VALID) finds.

The prefilter and `min_candidate_length` are shortcuts; these tests pin that they never change the
answer, on a chat corpus and on the example numbers of every region phonenumbers knows.
"""

from __future__ import annotations

import time

import phonenumbers
import pytest
from mask_corpus import chat_texts
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

from gateway.detect import emails, phones
from gateway.detect import phone_matcher as phone_finder
from gateway.detect.digit_floors import digit_floors
from gateway.detect.phone_matcher import PhoneFinder, PhoneSpan
from gateway.masks.text import TextMasker

CORPUS = chat_texts()
DEFAULT_REGIONS = ("US", "GB", "DE", "IN", "BR", "AG", "SM")


def plain(text: str, region: str) -> list[PhoneSpan]:
    return [
        PhoneSpan(m.start, m.end, phonenumbers.national_significant_number(m.number))
        for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID)
    ]


@pytest.mark.parametrize("region", DEFAULT_REGIONS)
def test_corpus_phones_equal_the_plain_matcher(region: str) -> None:
    finder = PhoneFinder(region)
    found = 0
    for text in CORPUS:
        expected = plain(text, region)
        assert finder.find(text) == expected, text
        found += len(expected)
    # Not vacuous: the corpus is full of numbers the matcher accepts for every default region.
    assert found > 250


def test_the_front_door_is_in_use() -> None:
    # With this phonenumbers version the shortcuts are active, so the tests above cover them.
    assert phone_finder._FRONT_DOOR
    assert phone_finder._MIN_LENGTH
    assert phone_finder._SKIP_FITS  # the search starts 10 characters before the first digit


def test_remembered_rejections_give_the_same_answers() -> None:
    finder = PhoneFinder("US")
    first = [finder.find(text) for text in CORPUS]
    assert finder._misses  # the corpus repeats rejected candidates in the same context
    assert [finder.find(text) for text in CORPUS] == first == [plain(t, "US") for t in CORPUS]


def test_a_rejection_for_lack_of_tries_is_not_remembered() -> None:
    finder = PhoneFinder("US")
    text = "x 2024-05-01 2024-05-02 2024-05-03 2024-05-04 y"  # one candidate, inner tries
    candidate = text[2:-2]
    starved = phone_finder._Matcher(text, finder)
    starved._max_tries = 1
    assert finder.check(starved, candidate, 2) is None
    assert not finder._misses
    assert finder.check(phone_finder._Matcher(text, finder), candidate, 2) is None
    assert len(finder._misses) == 1


def test_corpus_exercises_the_prefilter() -> None:
    finder = PhoneFinder("US")
    skipped = [text for text in CORPUS if not finder.may_contain(text)]
    # Short digit runs only: the matcher is never started for these.
    assert "id 3f2b9c1e-8d4a-4b6f-9e2d-1a2b3c4d5e6f" in skipped
    assert "total $1,234.56 incl. VAT" in skipped
    assert "Thanks, see you at 10:30!" in skipped
    assert len(skipped) >= 7
    assert all(not plain(text, "US") for text in skipped)


_FORMATS = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL)


def _every_region_texts() -> list[tuple[str, str]]:
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.VOIP):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                for fmt in _FORMATS:
                    cases.append((region, f"Call {phonenumbers.format_number(number, fmt)} now."))
    return cases


def test_every_region_example_numbers_equal_the_plain_matcher() -> None:
    found = 0
    for region, text in _every_region_texts():
        expected = plain(text, region)
        assert PhoneFinder(region).find(text) == expected, (region, text)
        # International form read with another default region: the `+` path of the floor.
        assert PhoneFinder("US").find(text) == plain(text, "US"), (region, text)
        found += len(expected)
    assert found > 1000


@pytest.mark.parametrize(
    ("region", "text"),
    [
        ("AG", "call 460 1234 now"),  # 7 digits; the region's transform prepends area code 268
        ("BB", "call 412-3456 now"),  # likewise, 246
        ("SM", "call 812345 now"),  # 6 digits become 0549812345
        ("NF", "call 12345 now"),  # 5 digits become 312345: the floor is exactly 5 here
        ("IN", "call +43 1 234567 now"),  # with a `+` the lower floor applies
        ("MG", "call 2012345 now"),  # 7 digits, 20 prepended
        ("AR", "call 011 15 2345-6789 now"),  # the transform removes digits: nothing special
        ("DE", "call 030 1234 now"),  # a short German number
        ("US", "call +49 30 1234 now"),  # a short international number, read from the US
    ],
)
def test_short_numbers_and_transform_regions_are_found(region: str, text: str) -> None:
    expected = plain(text, region)
    assert expected, "the case must be one the matcher accepts"
    assert PhoneFinder(region).may_contain(text)
    assert PhoneFinder(region).find(text) == expected


@pytest.mark.parametrize(
    ("region", "plus", "plain"),
    [
        ("US", 6, 7),  # +43 / +49 + 4 digits; Canada has 7-digit numbers; 011 + 6 is longer
        ("IN", 6, 8),  # Indian national numbers start at 8 digits; 00 + 6 is 8 too
        ("DE", 4, 4),  # German numbers have as few as 4 digits
        ("NF", 5, 5),  # 5 digits + the transform's 3
        ("AG", 4, 4),  # the transform adds 3 digits (268) to a 7-digit national number
    ],
)
def test_digit_floors_per_region(region: str, plus: int, plain: int) -> None:
    assert digit_floors(region) == (plus, plain)


def test_prefilter_counts_x_as_a_possible_digit() -> None:
    # phonenumbers reads three or more letters as a keypad, `x` included (it is 9).
    assert PhoneFinder("US").may_contain("12x34x5")
    assert not PhoneFinder("US").may_contain("12-34 5 and 1234")


@pytest.mark.parametrize(
    "text",
    [
        "x-" * 50_000,  # a gap-and-unit soup for the prefilter
        "a" * 100_000 + "@",  # a long would-be local part
        "a@" + "b" * 100_000,  # a long would-be domain without a dot
        "@." * 50_000,
    ],
)
def test_scanning_patterns_stay_linear_on_hostile_text(text: str) -> None:
    finder = PhoneFinder("US")
    started = time.perf_counter()
    finder.may_contain(text)
    emails.find(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("region", ["US", "GB"])
def test_text_mask_masks_what_the_plain_matcher_finds(region: str) -> None:
    masker = TextMasker(region)
    for text in CORPUS:
        masked = masker.mask(text)
        # Every number the matcher finds in the original is gone (inside an email address it
        # goes with the address), except those the detector's precision rules say are part of
        # a date, time or identifier (`ORD-2024-000123`, docs/masking.md)...
        for number in plain(text, region):
            if not phones._looks_other(text, number):
                assert text[number.start : number.end] not in masked, text
        # ...and what is left holds no number the matcher finds.
        assert all(
            masked[n.start - len("XXX-XXX-") : n.start] == "XXX-XXX-"
            or phones._looks_other(masked, n)
            for n in plain(masked, region)
        ), text


def test_short_candidates_are_rejected_without_parsing() -> None:
    finder = PhoneFinder("US")
    text = "order #100234 shipped"
    assert finder.may_contain(text)  # 6 digits: the text-level floor is the `+` one
    assert finder.find(text) == []
    # No `+` and under 7 digits: the front door said no before any parse, so nothing to remember.
    assert not finder._misses
    # 7 digits, but no stretch of them is a possible North American number: screened out.
    assert finder.find("order #1002345 shipped") == []
    assert not finder._misses
    # N11 is no area code: no number type of any +1 region takes it (the screen reads the
    # types' patterns, not only the general one).
    assert finder.find("order #2115550199 shipped") == []
    assert not finder._misses
    # A possible number the matcher rejects (a letter follows it): parsed, and remembered.
    assert finder.find("ref 4155550199abc shipped") == []
    assert finder._misses
