"""Whole outputs of the phone, email, name and redact masks, for the write-back guard (SPEC 3.5).

A client that sends one of these back is writing a masked value over the real one.
"""

from __future__ import annotations

import re
from typing import Final

# Built from the masks' own constants so the shapes cannot drift from what the masks write.
from gateway.masks.email import LOCAL_PART
from gateway.masks.name import WORD_TAIL
from gateway.masks.phone import NO_DIGITS, PREFIX

_NAME_WORD: Final = r"\S" + re.escape(WORD_TAIL)  # also matches `****`, the redact output
MASK_OUTPUT: Final = re.compile(
    "|".join(
        (
            re.escape(PREFIX) + "[0-9]{4}",
            re.escape(NO_DIGITS),
            re.escape(LOCAL_PART) + r"\S+",
            rf"{_NAME_WORD}(?: {_NAME_WORD})*",
        )
    )
)


def is_mask_output(s: str) -> bool:
    """True when `s` as a whole is what a phone, email, name or redact mask writes."""
    return MASK_OUTPUT.fullmatch(s) is not None
