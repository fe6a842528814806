"""`is_mask_output`: whole outputs of phone / email / name / redact masks (SPEC 3.5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.masks import MaskContext, compile_mask, is_mask_output


@pytest.mark.parametrize(
    "value",
    [
        "XXX-XXX-7890",  # phone
        "XXX-XXX-XXXX",  # phone with fewer than 4 digits
        "****@example.com",  # email
        "****@bücher.de",  # email, internationalised domain
        "****",  # redact, or email without a domain
        "J*** D***",  # name
        "j***",  # one-word name
        "李*** 小***",  # CJK name
        "🎉***",  # emoji word
    ],
)
def test_mask_outputs_are_recognised(value: str) -> None:
    assert is_mask_output(value)


@pytest.mark.parametrize(
    "value",
    [
        "",  # empty
        "XXX-XXX-789",  # three digits
        "XXX-XXX-78901",  # five digits
        "xxx-xxx-7890",  # lower case x is not the mask
        "call XXX-XXX-7890",  # only whole strings count
        "XXX-XXX-7890 ",  # trailing blank
        "****@",  # email mask never writes an empty domain
        "****@exa mple.com",  # nor one with a blank
        "***@example.com",  # three stars
        "jane@example.com",  # clear email
        "J** D***",  # two stars
        "J***  D***",  # two spaces: the name mask joins with one
        "Jane Doe",  # clear name
        "*****",  # five stars
        "+14155557890",  # clear phone
        "h_0123456789abcdef",  # hash output is not guarded
        "XXX-XXX-٧٨٩٠",  # the phone mask writes ASCII digits only
    ],
)
def test_other_strings_are_not(value: str) -> None:
    assert not is_mask_output(value)


@settings(derandomize=True, database=None)
@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)))
def test_every_phone_email_name_redact_output_is_recognised(value: object) -> None:
    for name in ("phone", "email", "name", "redact"):
        masked = compile_mask(name, MaskContext())(value)
        if masked is value:  # unchanged blank or already masked: nothing was written
            continue
        assert isinstance(masked, str)
        assert is_mask_output(masked), (name, masked)
