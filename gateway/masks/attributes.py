"""The `attributes` mask: keys listed under `attributes:` get their own mask (SPEC 3.3).

`attributes: {user_number: phone}` + `mask: attributes` on `custom_attributes` masks
`custom_attributes.user_number` as a phone and leaves the other keys alone.

A key of `attributes:` is one of:
- a name, matched exactly (`user_number: phone`);
- a pattern, `~` followed by a Python regular expression matched against the **whole** key
  (`~(?i)phone|mobile: phone` matches `Phone` and `mobile`, not `phone_verified`);
- `default`, the mask of every key that no name and no pattern matches (`default: text` is the
  safe choice for free-form custom attributes).
A name wins over the patterns, the first matching pattern (in file order) over the later ones, and
any of them over `default`. Patterns are compiled at load; which mask a key gets is remembered per
key name, so a request pays for one dict look-up per attribute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from gateway.errors import ConfigError, KeyPath
from gateway.masks.mask import REDACTED, REMOVE, Mask, MaskContext, MaskType, Options

NAME: Final = "attributes"
DEFAULT_KEY: Final = "default"
PATTERN_PREFIX: Final = "~"
_CACHE_MAX: Final = 4096  # distinct attribute key names remembered; beyond that, start over


class AttributesMask:
    __slots__ = ("_cache", "_default", "_masks", "_patterns")
    name = NAME

    def __init__(
        self,
        masks: Mapping[str, Mask],
        patterns: tuple[tuple[re.Pattern[str], Mask], ...] = (),
        default: Mask | None = None,
    ) -> None:
        self._masks = dict(masks)
        self._patterns = patterns
        self._default = default
        self._cache: dict[str, Mask | None] = {}

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            return REDACTED
        if not self._patterns and self._default is None:
            # Names only: look each listed name up (the common, cheapest case).
            return _apply(value, ((k, m) for k, m in self._masks.items() if k in value))
        return _apply(value, ((k, m) for k in value if (m := self._mask_for(k)) is not None))

    def _mask_for(self, key: Any) -> Mask | None:
        if not isinstance(key, str):  # JSON keys are strings; anything else gets the default
            return self._default
        try:
            return self._cache[key]
        except KeyError:
            pass
        mask = self._masks.get(key)
        if mask is None:
            mask = next((m for pattern, m in self._patterns if pattern.fullmatch(key)), None)
        if mask is None:
            mask = self._default
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[key] = mask
        return mask


def _is_attributes_spec(spec: Any) -> bool:
    return spec == NAME or (isinstance(spec, Mapping) and spec.get("type") == NAME)


def compile_pattern(key: str, key_path: KeyPath) -> re.Pattern[str]:
    """The regular expression of a `~pattern` key; a bad one is a `ConfigError` at load."""
    try:
        return re.compile(key[len(PATTERN_PREFIX) :])
    except re.error as exc:
        raise ConfigError(key_path, f"bad attribute pattern {key!r}: {exc}") from None


def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
    # Imported here, not at the top: the registry imports this module to list it.
    from gateway.masks.registry import compile_mask

    masks: dict[str, Mask] = {}
    patterns: list[tuple[re.Pattern[str], Mask]] = []
    default: Mask | None = None
    for key, spec in ctx.attributes.items():
        path: KeyPath = ("attributes", key)
        if _is_attributes_spec(spec):
            raise ConfigError(path, "mask 'attributes' cannot be used under attributes:")
        # Compiled once here; errors point at the `attributes:` entry, not at the rule.
        mask = compile_mask(spec, ctx, path)
        if key == DEFAULT_KEY:
            default = mask
        elif key.startswith(PATTERN_PREFIX):
            patterns.append((compile_pattern(key, path), mask))
        else:
            masks[key] = mask
    return AttributesMask(masks, tuple(patterns), default)


TYPE: Final = MaskType(NAME, frozenset(), build)


def _apply(value: dict[str, Any], masks: Iterable[tuple[Any, Mask]]) -> Any:
    """`value` with each named key masked; copied on the first change, never mutated in place."""
    masked: dict[str, Any] | None = None
    for key, mask in masks:
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
