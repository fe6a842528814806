"""Digit floors: the fewest digits a candidate needs before phonenumbers' matcher can accept it.

`digit_floors(region)` gives the floor with a leading `+` (any country) and without one (the
region's own numbers, or an international number after its dialling prefix). A digit run under
its floor holds no number the matcher would find, so it is never parsed.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, NamedTuple

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS, PhoneMetadata

from gateway.detect.national_screen import metadata_of


class DigitFloors(NamedTuple):
    """Fewest digits of a candidate the matcher can accept, with and without a leading `+`."""

    plus: int
    plain: int


def _shortest_number(country_code: int) -> int:
    """Fewest digits of a national significant number valid in any region of `country_code`."""
    lengths = [
        length
        for region in COUNTRY_CODE_TO_REGION_CODE[country_code]
        if (metadata := metadata_of(country_code, region)) is not None
        for length in metadata.general_desc.possible_length
        if length > 0
    ]
    return min(lengths, default=1)


def _added_digits(metadata: Any) -> int:
    """Most digits a region's national-prefix transform can add (`([457]\\d{6})$` -> `268\\1`)."""
    rule = re.sub(r"\\\d+|\\g<\w+>", "", metadata.national_prefix_transform_rule or "")
    return sum(char.isdigit() for char in rule)


def _shortest_idd(metadata: Any) -> int:
    """Fewest digits of the region's international dialling prefix (`011`), at most 4."""
    pattern = re.compile(metadata.international_prefix or r"\d{4}")
    for length in (1, 2, 3):
        if any(pattern.fullmatch(f"{n:0{length}d}") for n in range(10**length)):
            return length
    return 4


@cache
def digit_floors(region: str) -> DigitFloors:
    """The digit floors of candidates read with `region` as the default region.

    International form: country code + the shortest number of that code, less what the code's
    main region's transform rule can add. National form: the shortest number of the default
    region's country code, less what its transform adds. Without a `+`, an international number
    also carries the region's dialling prefix (`011 44 ...`).
    """
    international = min(
        len(str(code)) + _shortest_number(code) - _added_digits(metadata_of(code, regions[0]))
        for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()
    )
    home = PhoneMetadata.metadata_for_region(region)
    if home is None or home.country_code is None:
        raise ValueError(f"unknown phonenumbers region {region!r}")
    national = _shortest_number(home.country_code) - _added_digits(home)
    plain = max(1, min(national, _shortest_idd(home) + international))
    return DigitFloors(plus=max(1, min(international, plain)), plain=plain)


def is_region(region: str) -> bool:
    return region in SUPPORTED_REGIONS
