"""The `name` mask: each word becomes its first character + `***` (SPEC 3.3)."""

from __future__ import annotations

from typing import Final

from gateway.masks.mask import MaskType, StringMask, no_options_builder

WORD_TAIL: Final = "***"


def mask_name_text(text: str) -> str:
    """`Jane  Doe` -> `J*** D***`: words split on any whitespace, joined by one space.

    "First character" is the first code point: a decomposed accent or an emoji sequence keeps
    only its base character, which reveals less and keeps the output in the guard's shape.
    """
    return " ".join(word[0] + WORD_TAIL for word in text.split())


class NameMask(StringMask):
    __slots__ = ()
    name = "name"

    def mask_str(self, text: str) -> str:
        return mask_name_text(text)


TYPE: Final = MaskType("name", frozenset(), no_options_builder(NameMask))
