"""The `partial` mask: keep the first / last characters, replace the rest (SPEC 3.3).

Options: `keep_first` (0), `keep_last` (4), `char` (`*`), `keep_chars` (` -()+.@`). Characters in
`keep_chars` are layout, not content: they are never replaced and do not count towards
`keep_first` / `keep_last`, so `keep_last: 4` keeps the last four digits of `555-78 90`.
"""

from __future__ import annotations

from typing import Any, Final

from gateway.errors import ConfigError, KeyPath
from gateway.masks.mask import Mask, MaskContext, MaskType, Options, StringMask

DEFAULTS: Final[dict[str, Any]] = {
    "keep_first": 0,
    "keep_last": 4,
    "char": "*",
    "keep_chars": " -()+.@",
}


class PartialMask(StringMask):
    __slots__ = ("_char", "_keep_chars", "_keep_first", "_keep_last")
    name = "partial"

    def __init__(self, keep_first: int, keep_last: int, char: str, keep_chars: str) -> None:
        self._keep_first = keep_first
        self._keep_last = keep_last
        self._char = char
        self._keep_chars = frozenset(keep_chars)

    def mask_str(self, text: str) -> str:
        maskable = [i for i, char in enumerate(text) if char not in self._keep_chars]
        count = len(maskable)
        if self._keep_first + self._keep_last >= count:
            # PII: a value no longer than what is kept would come out whole; a partial mask
            # always hides something, so such a value is replaced entirely.
            hidden = maskable
        else:
            hidden = maskable[self._keep_first : count - self._keep_last]
        chars = list(text)
        for i in hidden:
            chars[i] = self._char
        return "".join(chars)


def _count(options: Options, key: str, key_path: KeyPath) -> int:
    value = options.get(key, DEFAULTS[key])
    if type(value) is not int or value < 0:
        raise ConfigError(
            (*key_path, key), f"mask 'partial' option {key!r} must be a non-negative integer"
        )
    return value


def _text(options: Options, key: str, key_path: KeyPath) -> str:
    value = options.get(key, DEFAULTS[key])
    if not isinstance(value, str):
        raise ConfigError((*key_path, key), f"mask 'partial' option {key!r} must be a string")
    return value


def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
    char = _text(options, "char", key_path)
    if len(char) != 1:
        raise ConfigError(
            (*key_path, "char"), "mask 'partial' option 'char' must be exactly one character"
        )
    keep_chars = _text(options, "keep_chars", key_path)
    return PartialMask(
        _count(options, "keep_first", key_path),
        _count(options, "keep_last", key_path),
        char,
        keep_chars,
    )


TYPE: Final = MaskType("partial", frozenset(DEFAULTS), build)
