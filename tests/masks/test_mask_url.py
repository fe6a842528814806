"""The `url` mask (SPEC 3.3): PII out of path segments, query values and fragments."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.masks import MaskContext, compile_mask

URL = compile_mask("url", MaskContext())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # an email as a path segment, percent-encoded
        ("https://x.io/contacts/jane%40example.com/notes",
         "https://x.io/contacts/****@example.com/notes"),
        # a phone as a query value (`+` encoded), other parameters untouched
        ("https://x.io/search?phone=%2B14155557890&page=2",
         "https://x.io/search?phone=XXX-XXX-7890&page=2"),
        # a query value in plain form: `+` is a space in a query, the number still reads
        ("https://x.io/s?q=call+415+555+7890", "https://x.io/s?q=call%20XXX-XXX-7890"),
        ("https://x.io/p#jane@example.com", "https://x.io/p#****@example.com"),  # the fragment
        ("mailto:jane@example.com", "mailto:****@example.com"),  # an opaque path
        ("tel:+14155557890", "tel:XXX-XXX-7890"),
        ("https://wa.me/5511987654321?text=hi", "https://wa.me/XXX-XXX-4321?text=hi"),
        ("https://jane:secret@x.io/a", "https://****@x.io/a"),  # userinfo is a person's login
        ("/api/v1/contacts?email=a.b%40c.org", "/api/v1/contacts?email=****@c.org"),  # relative
        # a file name holding a number
        ("https://cdn.x.io/uploads/invoice-%2B44%2020%207946%200958.pdf",
         "https://cdn.x.io/uploads/invoice-XXX-XXX-0958.pdf"),
    ],
)  # fmt: skip
def test_url_outputs(value: str, expected: str) -> None:
    assert URL(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/contacts/42?page=2#top",  # nothing to mask: the same object
        "https://cdn.example.com/avatars/7001.png",
        "https://example.com/u/2024-05-01/logo@2x.png",  # a retina file name is no address
        True,  # booleans stay as they are
        False,
        42,  # a number that is no phone
        None,
        "",
    ],
)
def test_url_leaves_urls_without_pii_alone(value: Any) -> None:
    assert URL(value) is value


def test_url_masks_a_number_value_that_is_a_phone() -> None:
    assert URL(14155557890) == "XXX-XXX-7890"


def test_url_host_is_kept_even_when_it_looks_like_an_address() -> None:
    # The host is structure (SPEC 3.3); only userinfo before it is a person's.
    assert URL("https://jane@example.com/p") == "https://****@example.com/p"


def test_url_needs_a_known_region() -> None:
    with pytest.raises(ConfigError):
        compile_mask("url", MaskContext(default_region="XX"))


def test_text_regions_are_read_and_checked() -> None:
    text = compile_mask("text", MaskContext(text_regions=("DE",)))
    # A German national number is found with DE among the text regions, not without.
    assert text("ruf an: 030 123456") == "ruf an: XXX-XXX-3456"
    assert compile_mask("text", MaskContext())("ruf an: 030 123456") == "ruf an: 030 123456"
    with pytest.raises(ConfigError) as caught:
        compile_mask("text", MaskContext(text_regions=("DE", "ZZ")))
    assert caught.value.key_path == ("omnichannel", "text_regions", 1)
