"""The mask registry: mask names to their types, and `compile_mask`, the one way to build a mask."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from gateway.errors import ConfigError, KeyPath
from gateway.masks import (
    attributes,
    email,
    name,
    null,
    partial,
    phone,
    redact,
    remove,
    text,
    url,
)
from gateway.masks import hash as hash_mask  # the module, not the builtin
from gateway.masks.mask import Mask, MaskContext, MaskType

MASK_TYPES: Final[Mapping[str, MaskType]] = MappingProxyType(
    {
        mask_type.name: mask_type
        for mask_type in (
            phone.TYPE,
            email.TYPE,
            name.TYPE,
            text.TYPE,
            redact.TYPE,
            remove.TYPE,
            null.TYPE,
            hash_mask.TYPE,
            partial.TYPE,
            attributes.TYPE,
            url.TYPE,
        )
    }
)
MASK_NAMES: Final = tuple(MASK_TYPES)
_ALLOWED: Final = ", ".join(MASK_NAMES)


def compile_mask(spec: str | Mapping[str, Any], ctx: MaskContext, key_path: KeyPath = ()) -> Mask:
    """Compile a mask name (`"phone"`) or object (`{type: partial, keep_last: 2}`).

    Raises `ConfigError` located at `key_path` (or the offending key under it) for an unknown
    mask, an unknown option, or an option of the wrong type.
    """
    if isinstance(spec, str):
        mask_name, options, name_path = spec, {}, key_path
    elif isinstance(spec, Mapping):
        if "type" not in spec:
            raise ConfigError(key_path, f"mask object needs a 'type', one of: {_ALLOWED}")
        mask_name, name_path = spec["type"], (*key_path, "type")
        if not isinstance(mask_name, str):
            raise ConfigError(name_path, f"mask 'type' must be a string, one of: {_ALLOWED}")
        options = {key: value for key, value in spec.items() if key != "type"}
    else:
        raise ConfigError(
            key_path, f"mask must be a mask name or an object with a 'type'; masks: {_ALLOWED}"
        )
    mask_type = MASK_TYPES.get(mask_name)
    if mask_type is None:
        raise ConfigError(name_path, f"unknown mask {mask_name!r}; masks: {_ALLOWED}")
    for key in options:
        if key not in mask_type.options:
            allowed = (
                f"options: {', '.join(sorted(mask_type.options))}"
                if mask_type.options
                else "it takes no options"
            )
            option_path = (*key_path, key if isinstance(key, str | int) else str(key))
            raise ConfigError(option_path, f"mask {mask_name!r} has no option {key!r}; {allowed}")
    return mask_type.build(options, ctx, key_path)
