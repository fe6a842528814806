"""The `null` mask: the value becomes JSON `null` (SPEC 3.3)."""

from __future__ import annotations

from typing import Any, Final

from gateway.masks.mask import MaskType, no_options_builder


class NullMask:
    __slots__ = ()
    name = "null"

    def __call__(self, value: Any) -> Any:
        return None


TYPE: Final = MaskType("null", frozenset(), no_options_builder(NullMask))
