"""Mask operators (SPEC 3.3): one mask per module behind a name registry.

`compile_mask(spec, ctx)` turns a rule's `mask:` into a `Mask`, a callable `value -> masked value`
that returns the same object when nothing changed and `REMOVE` for the `remove` mask.
"""

from gateway.masks.mask import REMOVE, Mask, MaskContext
from gateway.masks.registry import MASK_NAMES, compile_mask
from gateway.masks.shapes import is_mask_output
from gateway.masks.text import mask_text

__all__ = [
    "MASK_NAMES",
    "REMOVE",
    "Mask",
    "MaskContext",
    "compile_mask",
    "is_mask_output",
    "mask_text",
]
