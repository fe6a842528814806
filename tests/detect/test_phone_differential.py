"""The detector's phones against phonenumbers' own matcher, and the Rust engine against Python.

1. Property: on generated chat texts, every number phonenumbers' matcher (Leniency.VALID) finds
   is a finding of the detector with the same span, unless a precision rule (docs/masking.md)
   says it is part of a date, time or identifier; and every other phone finding comes from an
   extension SPEC 3.3 asks for (00/011 prefixes, national quirks, WhatsApp links and ids).
2. Differential: the matcher with its parse-and-verify step on rphonenumbers gives the same spans
   and numbers as with phonenumbers alone, on a large generated corpus (example numbers of every
   region in every format, each with a digit dropped, added and changed, plus both corpora).
"""

from __future__ import annotations

import lookalikes
import phonenumbers
import pii_typed
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

from gateway.detect import PHONE, Detector, fast_parse, phones
from gateway.detect.phone_matcher import PhoneFinder

REGIONS = ("US", "GB", "DE", "IN", "BR", "FR", "MX", "JP", "NG", "AU")
WORDS = ("hi", "call", "me", "at", "or", "tomorrow", "thanks!", "(cell)", "-", "ok,", "on",
         "#12", "2024-05-01", "10:30", "$49.99", "order", "v1.2.3", "Ünal", "x")  # fmt: skip


@st.composite
def phone_texts(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    tail = draw(st.integers(min_value=0, max_value=999))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=example.national_number // 1000 * 1000 + tail,  # type: ignore[operator]
        italian_leading_zero=example.italian_leading_zero,
    )
    fmt = draw(st.sampled_from([PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL,
                                PhoneNumberFormat.NATIONAL]))  # fmt: skip
    return phonenumbers.format_number(number, fmt)


pieces = st.lists(st.one_of(st.sampled_from(WORDS), phone_texts()), min_size=1, max_size=8)


def matcher_spans(text: str, region: str) -> set[tuple[int, int]]:
    return {(m.start, m.end) for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID)}


def _is_extension(text: str, start: int) -> bool:
    head = text[start : start + 4].lstrip("(")
    return head.startswith(("00", "011", "+55", "+52")) or "wa" in text[max(0, start - 40) : start]


@settings(derandomize=True, database=None, max_examples=300, deadline=None)
@given(pieces, st.sampled_from(REGIONS), st.sampled_from([" ", "  ", ", ", " / "]))
def test_detector_phones_agree_with_the_matcher(parts: list[str], region: str, sep: str) -> None:
    text = sep.join(parts)
    found = {(f.start, f.end) for f in Detector(region).find(text) if f.kind == PHONE}
    for start, end in matcher_spans(text, region):
        if not phones._looks_other(text, (start, end, "")):
            assert (start, end) in found, text
    for start, end in found - matcher_spans(text, region):
        assert _is_extension(text, start), (text, text[start:end])


def _variants(text: str) -> list[str]:
    last = text.rstrip()[-1]
    changed = "0" if last != "0" else "1"
    return [text, text[:-1], text + "5", text[:-1] + changed]


def differential_corpus() -> list[tuple[str, str]]:
    """(region, text) pairs: ~30,000 texts."""
    cases: list[tuple[str, str]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
                     PhoneNumberType.VOIP):  # fmt: skip
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for fmt in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL,
                        PhoneNumberFormat.NATIONAL):  # fmt: skip
                for text in _variants(phonenumbers.format_number(number, fmt)):
                    cases.append((region, f"call {text} now"))
                    cases.append(("US", f"ring {text}."))
    cases += [("US", text) for text in lookalikes.strings()[::2]]
    cases += [(region, text) for region in ("DE", "IN", "BR") for text in lookalikes.strings()[::9]]
    cases += [("US", text) for text, _, _ in pii_typed.items()]
    return cases


@pytest.mark.skipif(fast_parse.engine() is None, reason="rphonenumbers not installed here")
def test_the_rust_engine_finds_what_phonenumbers_finds() -> None:
    fast: dict[str, PhoneFinder] = {}
    slow: dict[str, PhoneFinder] = {}
    cases = differential_corpus()
    found = 0
    for region, text in cases:
        quick = fast.setdefault(region, PhoneFinder(region))
        plain = slow.setdefault(region, PhoneFinder(region, fast=False))
        expected = plain.find(text)
        assert quick.find(text) == expected, (region, text)
        found += len(expected)
    assert len(cases) > 25_000
    assert found > 5_000  # not vacuous
    assert all(finder.uses_fast_engine for finder in fast.values())


def test_without_the_rust_engine_phonenumbers_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_parse, "_ENGINE", None)
    fast_parse.agrees_for.cache_clear()
    try:
        finder = PhoneFinder("US")
        assert not finder.uses_fast_engine
        assert [s.national_number for s in finder.find("call +1 415 555 7890")] == ["4155557890"]
    finally:
        fast_parse.agrees_for.cache_clear()


def test_a_disagreeing_engine_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    class Liar:
        NumberParseException = phonenumbers.NumberParseException

        @staticmethod
        def parse(text: str, region: str) -> phonenumbers.PhoneNumber:
            return phonenumbers.parse(text, region)

        @staticmethod
        def is_valid_number(number: phonenumbers.PhoneNumber) -> bool:
            return False  # says no to everything

    monkeypatch.setattr(fast_parse, "_ENGINE", Liar)
    fast_parse.agrees_for.cache_clear()
    try:
        assert not fast_parse.agrees_for("US")
        assert not PhoneFinder("US").uses_fast_engine
    finally:
        fast_parse.agrees_for.cache_clear()
