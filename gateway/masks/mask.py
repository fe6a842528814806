"""The mask concept: the callable contract, its compile context and the value rules all masks share.

SPEC 3.3 common rules, decided once here so every mask applies them the same way:
- numbers (int / float, never bool) are masked as their decimal string;
- `None` stays `None` (only `remove` deviates: it removes a null too);
- a value of a type a mask cannot handle (object, array, bool) becomes `****`;
- a blank string (empty or whitespace only) holds no PII and stays as it is, except under `phone`
  and `email`, whose SPEC outputs are defined for it (fewer than 4 digits: `XXX-XXX-XXXX`; no
  `@`: `****`).
A mask returns the *same object* when nothing changed, so callers can count changes by identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, NamedTuple, Protocol

from gateway.errors import KeyPath


class _Remove:
    """Type of the `REMOVE` sentinel; one instance only."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Final[object] = _Remove()
"""Returned by the `remove` mask: the caller deletes the key or array element."""

REDACTED: Final = "****"

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True)
class MaskContext:
    """What masks need from the rule set at compile time."""

    default_region: str = "US"  # phonenumbers region for numbers written without a country code
    # SECURITY: kept out of repr() so a logged context never shows the key.
    hash_key: bytes | None = field(default=None, repr=False)
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    text_regions: tuple[str, ...] = ()  # more regions the text detector reads (SPEC 3.3)


class Mask(Protocol):
    """A compiled mask: `value -> masked value` (the same object when nothing changed)."""

    name: str  # registry name, used as a metrics label

    def __call__(self, value: Any) -> Any: ...


Options = Mapping[str, Any]
Builder = Callable[[Options, MaskContext, KeyPath], Mask]


class MaskType(NamedTuple):
    """A registry entry: the mask name, the options it accepts, and how to compile it."""

    name: str
    options: frozenset[str]
    build: Builder


def scalar_text(value: Any) -> str | None:
    """The string a string-shaped mask works on; None for a value that is no string or number."""
    if isinstance(value, str):
        return value if type(value) is str else str(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        # An integral float (4155557890.0) reads as the integer it is, so masks see its real
        # digits and a hash is the same whether the upstream wrote 12 or 12.0.
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return None


def _int_text(value: int) -> str | None:
    try:
        return str(value)
    except ValueError:  # beyond sys.int_info.str_digits_check_threshold: not a real-world value
        return None


class StringMask:
    """Base for masks that rewrite one string: applies the common value rules around `mask_str`."""

    __slots__ = ()
    name = "string"
    keeps_blank = True  # a blank string comes back as it is

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        text = scalar_text(value)
        if text is None:
            return REDACTED
        if self.keeps_blank and (not text or text.isspace()):
            return value
        masked = self.mask_str(text)
        # Identity when nothing changed (e.g. an already masked value, or a number the text
        # mask left alone), never an equal copy.
        if masked is text or masked == value:
            return value
        return masked

    def mask_str(self, text: str) -> str:
        raise NotImplementedError


class WrappedMask:
    """Base of the wrappers the residual pass puts around a rule's mask (recording, marking):
    the same name, the inner mask called first."""

    __slots__ = ("inner", "name")

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name


def no_options_builder(factory: Callable[[], Mask]) -> Builder:
    """A builder for masks without options or compile-time inputs."""

    def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
        return factory()

    return build
