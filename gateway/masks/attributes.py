"""The `attributes` mask: keys listed under `attributes:` get their own mask (SPEC 3.3).

`attributes: {user_number: phone}` + `mask: attributes` on `custom_attributes` masks
`custom_attributes.user_number` as a phone and leaves the other keys alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateway.errors import ConfigError, KeyPath
from gateway.masks.mask import REDACTED, REMOVE, Mask, MaskContext, MaskType, Options

NAME: Final = "attributes"


class AttributesMask:
    __slots__ = ("_masks",)
    name = NAME

    def __init__(self, masks: Mapping[str, Mask]) -> None:
        self._masks = dict(masks)

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            return REDACTED
        masked: dict[str, Any] | None = None  # copied on the first change, never mutated in place
        for key, mask in self._masks.items():
            if key not in value:
                continue
            old = value[key]
            new = mask(old)
            if new is old:
                continue
            if masked is None:
                masked = dict(value)
            if new is REMOVE:
                del masked[key]
            else:
                masked[key] = new
        return value if masked is None else masked


def _is_attributes_spec(spec: Any) -> bool:
    return spec == NAME or (isinstance(spec, Mapping) and spec.get("type") == NAME)


def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
    # Imported here, not at the top: the registry imports this module to list it.
    from gateway.masks.registry import compile_mask

    masks: dict[str, Mask] = {}
    for key, spec in ctx.attributes.items():
        path: KeyPath = ("attributes", key)
        if _is_attributes_spec(spec):
            raise ConfigError(path, "mask 'attributes' cannot be used under attributes:")
        # Compiled once here; errors point at the `attributes:` entry, not at the rule.
        masks[key] = compile_mask(spec, ctx, path)
    return AttributesMask(masks)


TYPE: Final = MaskType(NAME, frozenset(), build)
