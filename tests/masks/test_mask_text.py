"""The `text` mask: phones and emails inside free text (SPEC 3.3)."""

from __future__ import annotations

import re
from typing import Any, cast

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

from gateway.masks import MaskContext, compile_mask, mask_text
from gateway.masks import text as text_module
from gateway.masks.text import TextMasker

TEXT = compile_mask("text", MaskContext())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # SPEC 3.8 example
        (
            "call +1 415 555 7890 or jane@example.com",
            "call XXX-XXX-7890 or ****@example.com",
        ),
        ("(415) 555-7890", "XXX-XXX-7890"),  # the whole value is a number
        ("a: 415.555.7890, b: +44 20 7946 0958", "a: XXX-XXX-7890, b: XXX-XXX-0958"),  # two
        ("ring 020 7946 0958", "ring 020 7946 0958"),  # a UK national number is not one in US
        ("Jane.Doe@Example.COM wrote", "****@example.com wrote"),  # domain lower-cased
        ("mail:jane@example.com.", "mail:****@example.com."),  # trailing full stop kept
        ("call +1 415 555 7890 ext. 123 now", "call XXX-XXX-7890 now"),  # extension masked away
        ("+1 415 555 7890,jane@example.com", "XXX-XXX-7890,****@example.com"),  # adjacent
        ("14155557890@example.com", "****@example.com"),  # a number as local part: an email
        ("(415) 555-7890@example.com", "(415) ****@example.com"),  # local part: email first
        ("x a@14155557890.com y", "x ****@XXX-XXX-7890.com y"),  # a number in the domain
        ("(201) 555-0199 42@x.io", "XXX-XXX-0199 ****@x.io"),  # local digits hid the number
        ("jane@example.com+14155557890", "****@example.comXXX-XXX-7890"),  # number after it
        # two addresses sharing `e.ne` (disguised `@`s): the first wins, no crash (was IndexError)
        ("e&commat;e.ne&#x40;e.om+525512345678", "****@e.ne&#x40;e.omXXX-XXX-5678"),
        ("abc4155557890def", "abc4155557890def"),  # glued to letters: the matcher says no
        ("call +1 ٤١٥ ٥٥٥ ٧٨٩٠", "call XXX-XXX-7890"),  # Arabic-Indic digits
        ("ok 👍 see you 2024-05-01 at 10:30", "ok 👍 see you 2024-05-01 at 10:30"),  # no PII
        ("hello@everyone and @mentions", "hello@everyone and @mentions"),  # not emails
        (14155557890, "XXX-XXX-7890"),  # a number value that is a phone
        (42, 42),  # a number that is not: the number itself
    ],
)
def test_text_outputs(value: Any, expected: Any) -> None:
    assert TEXT(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,  # null stays null
        "",  # empty
        "no pii here at all",  # nothing found
        "order 2024-05-01 #100234",  # digits, but no phone
        42,  # a number that is no phone
    ],
)
def test_text_returns_the_same_object_when_nothing_changes(value: Any) -> None:
    assert TEXT(value) is value


@pytest.mark.parametrize("value", [{"content": "+14155557890"}, ["a@b.co"]])
def test_text_of_an_unhandled_type_is_redacted(value: Any) -> None:
    assert TEXT(value) == "****"


@pytest.mark.parametrize("value", [True, False])
def test_text_leaves_booleans_as_they_are(value: bool) -> None:
    # SPEC 3.3: `text` and `url` leave booleans (and numbers that are no phones) as they are.
    assert TEXT(value) is value


def test_default_region_reads_national_numbers() -> None:
    uk = compile_mask("text", MaskContext(default_region="GB"))
    assert uk("ring 020 7946 0958") == "ring XXX-XXX-0958"
    assert uk("call (415) 555-7890") == "call (415) 555-7890"  # a US national number in GB


def test_mask_text_function() -> None:
    assert mask_text("call +1 415 555 7890") == "call XXX-XXX-7890"
    assert mask_text("ring 020 7946 0958", "gb") == "ring XXX-XXX-0958"
    same = "nothing here"
    assert mask_text(same) is same


def test_repeated_texts_are_answered_from_the_cache() -> None:
    masker = TextMasker("US")
    first = masker.mask("call +1 415 555 7890")
    again = masker.mask("call +1 415 555 7890")
    assert first == again == "call XXX-XXX-7890"
    assert again is first  # the cached string itself
    unchanged = "order 123456789012"
    assert masker.mask(unchanged) is unchanged
    assert masker.mask("order 123456789012") == unchanged
    masker.clear()
    assert masker.mask("call +1 415 555 7890") == first


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "CACHE_ENTRIES", 3)
    masker = TextMasker("US")
    for i in range(10):
        assert masker.mask(f"call +1 415 555 78{i:02d}") == f"call XXX-XXX-78{i:02d}"
    assert len(masker._cache) == 3


def test_long_texts_are_masked_without_the_cache() -> None:
    masker = TextMasker("US")
    text = "filler " * 1000 + "call +1 415 555 7890"
    assert masker.mask(text).endswith("call XXX-XXX-7890")
    assert not masker._cache


# -- properties -----------------------------------------------------------------------------

REGIONS = ["US", "GB", "DE", "FR", "IN", "BR", "MX", "AU", "JP", "ES", "NG", "SG"]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL]
WORDS = ["hi", "call", "me", "at", "or", "tomorrow", "thanks!", "(cell)", "-", "ok,", "Ünal"]


@st.composite
def phone_strings(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    example = cast(phonenumbers.PhoneNumber, phonenumbers.example_number_for_type(region, kind))
    tail = draw(st.integers(min_value=0, max_value=999))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=example.national_number // 1000 * 1000 + tail,  # type: ignore[operator]
        italian_leading_zero=example.italian_leading_zero,
    )
    fmt = draw(st.sampled_from(FORMATS + ([PhoneNumberFormat.NATIONAL] if region == "US" else [])))
    return phonenumbers.format_number(number, fmt)


emails = st.builds(
    "{}@{}.com".format,
    st.text(alphabet="abcdefghij.+_0123456789", min_size=3, max_size=12),
    st.text(alphabet="klmnopqrstuvwxyz", min_size=2, max_size=8),
)
pieces = st.lists(st.one_of(st.sampled_from(WORDS), phone_strings(), emails), max_size=8)


def matcher_numbers(text: str) -> list[str]:
    return [m.raw_string for m in PhoneNumberMatcher(text, "US", leniency=Leniency.VALID)]


@settings(derandomize=True, database=None)
@given(pieces)
def test_text_output_holds_no_number_the_matcher_finds(parts: list[str]) -> None:
    value = " ".join(parts)
    masked = TEXT(value)
    assert matcher_numbers(masked) == []
    # Only the last four digits of each number survive; the words hold no digits.
    assert all(len(run) <= 4 for run in re.findall(r"\d+", masked.replace("@", " ")) if run)
    assert TEXT(masked) == masked  # masking again changes nothing
    for part in parts:
        if "@" in part:
            assert part.split("@")[0] not in masked.replace("****@", "@")
