"""The `remove` mask: the caller deletes the key or array element (SPEC 3.3)."""

from __future__ import annotations

from typing import Any, Final

from gateway.masks.mask import REMOVE, MaskType, no_options_builder


class RemoveMask:
    __slots__ = ()
    name = "remove"

    def __call__(self, value: Any) -> Any:
        # A null is removed too: the rule says the key must not reach this role, whatever it holds.
        return REMOVE


TYPE: Final = MaskType("remove", frozenset(), no_options_builder(RemoveMask))
