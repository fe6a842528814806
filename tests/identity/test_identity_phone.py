"""normalise_phone: national formats from many countries, channel prefixes and quirks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.identity.phone import normalise_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-7890", "US", "+14155557890"),  # US national
        ("415.555.7890", "US", "+14155557890"),
        ("1 415 555 7890", "US", "+14155557890"),  # US with trunk 1
        ("+1 (415) 555-7890", "GB", "+14155557890"),  # explicit country beats region
        ("020 7946 0958", "GB", "+442079460958"),  # UK London landline
        ("07911 123456", "GB", "+447911123456"),  # UK mobile
        ("00 44 7911 123456", "FR", "+447911123456"),  # international dialling prefix from FR
        ("098765 43210", "IN", "+919876543210"),  # India mobile with trunk 0
        ("98765 43210", "IN", "+919876543210"),
        ("(11) 98765-4321", "BR", "+5511987654321"),  # Brazil mobile, 9 digits
        ("(11) 8765-4321", "BR", "+5511987654321"),  # Brazil old 8-digit mobile: 9 restored
        ("(11) 3265-4321", "BR", "+551132654321"),  # Brazil landline keeps 8 digits
        ("55 1234 5678", "MX", "+525512345678"),  # Mexico City
        ("+52 1 55 1234 5678", "US", "+525512345678"),  # Mexico legacy +521 mobile
        ("044 55 1234 5678", "MX", "+525512345678"),  # Mexico legacy 044 mobile prefix
        ("030 123456", "DE", "+4930123456"),  # Germany Berlin landline
        ("01512 3456789", "DE", "+4915123456789"),  # Germany mobile
        ("06 12 34 56 78", "FR", "+33612345678"),  # France mobile
        ("0803 123 4567", "NG", "+2348031234567"),  # Nigeria mobile
        ("0812-3456-7890", "ID", "+6281234567890"),  # Indonesia mobile
        ("0412 345 678", "AU", "+61412345678"),  # Australia mobile
        ("612 34 56 78", "ES", "+34612345678"),  # Spain mobile (no trunk prefix)
        ("tel:+1-415-555-7890", "US", "+14155557890"),  # RFC 3966 URI
        ("tel:+1-415-555-7890;ext=12", "US", "+14155557890"),  # URI parameters dropped
        ("whatsapp:+14155557890", "GB", "+14155557890"),  # Twilio WhatsApp address
        ("WhatsApp:+14155557890", "US", "+14155557890"),  # scheme is case-insensitive
        (14155557890, "US", "+14155557890"),  # integer input
        ("  +44 20 7946 0958  ", "US", "+442079460958"),  # surrounding blanks
    ],
)
def test_national_and_prefixed_formats(raw: str | int, region: str, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14155557890", "+14155557890"),  # WhatsApp wa_id, US
        ("447911123456", "+447911123456"),  # UK
        ("919876543210", "+919876543210"),  # India
        ("551187654321", "+5511987654321"),  # Brazil wa_id without the 9th digit
        ("5511987654321", "+5511987654321"),  # Brazil wa_id with it: same person
        ("5215512345678", "+525512345678"),  # Mexico wa_id with the legacy 1
        ("+79161234567", "+79161234567"),  # Telegram sometimes sends the +
        (447911123456, "+447911123456"),  # integer ids
        ("whatsapp:+14155557890", "+14155557890"),
    ],
)
def test_international_digits_get_a_plus(raw: str | int, expected: str) -> None:
    # The region must not matter for international sources.
    assert normalise_phone(raw, "DE", international=True) == expected


@pytest.mark.parametrize(
    ("raw", "region", "international"),
    [
        ("MyBrand", "US", False),  # alphanumeric sender id
        ("whatsapp:MyBrand", "US", False),
        ("1-800-FLOWERS", "US", False),  # vanity number: letters are not a person's number
        ("12345", "US", False),  # SMS short code
        ("123456", "GB", False),  # 6-digit short code
        ("12345", "US", True),  # short code from an "international" source
        ("+10000000000", "US", False),  # syntactically a number, not a valid one
        ("555-0100", "US", False),  # too short without an area code
        ("", "US", False),
        ("   ", "US", False),
        ("+", "US", False),
        ("tel:", "US", False),
        ("+99912345678", "US", False),  # unassigned country code
        ("4155557890", "ZZ", False),  # unknown region and no country code
        ("1" * 200, "US", False),  # absurdly long
    ],
)
def test_not_phones(raw: str, region: str, international: bool) -> None:
    assert normalise_phone(raw, region, international=international) is None


@pytest.mark.parametrize("raw", [True, False, 0, -14155557890, None, 1.5, ["+14155557890"]])
def test_non_text_inputs(raw: object) -> None:
    assert normalise_phone(raw, "US") is None  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(["US", "GB", "BR", "MX", "IN"]), st.booleans())
def test_never_raises_and_output_is_e164(raw: str, region: str, international: bool) -> None:
    result = normalise_phone(raw, region, international=international)
    if result is not None:
        assert result.startswith("+") and result[1:].isdigit() and len(result) <= 16
        # E.164 output is a fixed point.
        assert normalise_phone(result, "US") == result


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=2_000_000_000, max_value=9_999_999_999))
def test_us_numbers_are_stable_across_formats(national: int) -> None:
    digits = str(national)
    plain = normalise_phone(digits, "US")
    dashed = normalise_phone(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", "US")
    international = normalise_phone("1" + digits, "GB", international=True)
    assert plain == dashed == international
