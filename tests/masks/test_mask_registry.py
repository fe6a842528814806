"""`compile_mask`: names and objects to masks, precise errors for everything else."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.masks import MASK_NAMES, MaskContext, compile_mask

CTX = MaskContext(hash_key=b"k")
AT = ("routes", 2, "response", 1, "mask")


def test_every_spec_mask_is_registered() -> None:
    assert set(MASK_NAMES) == {
        "phone", "email", "name", "text", "redact", "remove", "null", "hash", "partial",
        "attributes", "url",
    }  # fmt: skip


@pytest.mark.parametrize("name", MASK_NAMES)
def test_names_and_type_objects_compile_alike(name: str) -> None:
    by_name = compile_mask(name, CTX)
    by_object = compile_mask({"type": name}, CTX)
    assert by_name.name == by_object.name == name
    assert by_name("Jane Doe") == by_object("Jane Doe")


@pytest.mark.parametrize(
    ("spec", "where", "phrase"),
    [
        ("phnoe", AT, "unknown mask 'phnoe'"),  # a typo
        ("Phone", AT, "unknown mask 'Phone'"),  # names are case-sensitive
        ({"type": "nope"}, (*AT, "type"), "unknown mask 'nope'"),  # unknown type
        ({"keep_last": 2}, AT, "needs a 'type'"),  # no type
        ({"type": 3}, (*AT, "type"), "must be a string"),  # type not a string
        ({"type": "phone", "keep_last": 2}, (*AT, "keep_last"), "takes no options"),  # no options
        ({"type": "partial", "keepLast": 2}, (*AT, "keepLast"), "keep_first"),  # lists allowed
        (42, AT, "mask name or an object"),  # neither
        (None, AT, "mask name or an object"),  # missing
    ],
)
def test_bad_specs_raise_located_config_errors(
    spec: Any, where: tuple[str | int, ...], phrase: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask(spec, CTX, AT)
    assert caught.value.key_path == where
    assert phrase in caught.value.message


def test_unknown_mask_error_lists_the_allowed_masks() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask("phnoe", CTX)
    assert all(name in caught.value.message for name in MASK_NAMES)


@pytest.mark.parametrize("region", ["XX", "", "United States"])
def test_text_mask_needs_a_known_region(region: str) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_mask("text", MaskContext(default_region=region), AT)
    assert caught.value.key_path == ("omnichannel", "default_region")


def test_region_is_case_insensitive() -> None:
    text = compile_mask("text", MaskContext(default_region="gb"))
    assert text("ring 020 7946 0958") == "ring XXX-XXX-0958"
