"""The `redact` mask: any value but null becomes `****` (SPEC 3.3)."""

from __future__ import annotations

from typing import Any, Final

from gateway.masks.mask import REDACTED, MaskType, no_options_builder


class RedactMask:
    __slots__ = ()
    name = "redact"

    def __call__(self, value: Any) -> Any:
        # Objects and arrays too: redact is the mask that handles every type.
        if value is None or (type(value) is str and value == REDACTED):
            return value
        return REDACTED


TYPE: Final = MaskType("redact", frozenset(), no_options_builder(RedactMask))
