"""`Exempt`: a string a rule wrote that the residual sentinel does not read (SPEC 3.9), and the
mask wrappers that mark it.

A `text` rule whose detector is the sentinel's returns every string it read as `Exempt` (masked
or not: it was read whole), and `email` / `phone` rules mark their whole mask outputs. The mark
is a `str` subclass, so it travels with the value through the document (JSON writes it as any
string) and the whole-document screen can leave these strings out (`gateway.residual_screen`).

An `Exempt` equal to the value it replaced is only a mark: it is written into the document but
never counted as a masked value (`changed`).
"""

from __future__ import annotations

import re
from typing import Any, Final

from gateway.masks.email import LOCAL_PART
from gateway.masks.mask import WrappedMask
from gateway.masks.phone import NO_DIGITS, PREFIX

_DIGIT: Final = re.compile(r"\d")


class Exempt(str):
    """A string the sentinel need not read (PII: already read whole by the sentinel's own
    detector, or a whole mask output). Known values still apply to it."""

    __slots__ = ()


def changed(new: Any, value: Any) -> bool:
    """Whether a mask's result changes the value (a mark on an equal string does not)."""
    return new is not value and not (type(new) is Exempt and new == value)


class ScannedMask(WrappedMask):
    """Wraps a `text` rule's mask: what it returns was read whole by the sentinel's detector
    (and masked), so the sentinel need not read it again (known values still apply)."""

    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        result = self.inner(value)
        # Masked or not, it was read whole: marked (a mark on an equal string is not counted
        # as a masked value, and JSON text holding it is written back only if it changed).
        return Exempt(result) if type(result) is str else result


class OutputMask(WrappedMask):
    """Wraps an `email` or `phone` rule's mask: a whole mask output (`****@example.com`,
    `XXX-XXX-7890`) is marked as one, so the whole-document screen need not read it (the
    sentinel's walk skips it as well)."""

    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        result = self.inner(value)
        if type(result) is str and (
            is_phone_output(result) if self.name == "phone" else is_email_output(result)
        ):
            return Exempt(result)
        return result


def is_email_output(text: str) -> bool:
    """A whole `email` mask output (`****@example.com`, one `@`, no digit that could be a
    phone): a rule masked it; no find needed."""
    return (
        text.startswith(LOCAL_PART)
        and text.count("@") == 1
        and " " not in text
        and (
            _DIGIT.search(text) is None
            if text.isascii()
            else not any(char.isdigit() for char in text)  # `²` is a digit under NFKC too
        )
    )


def is_phone_output(text: str) -> bool:
    """A whole `phone` mask output: `XXX-XXX-` and four decimal digits, or `XXX-XXX-XXXX`."""
    return text == NO_DIGITS or (
        len(text) == len(PREFIX) + 4 and text.startswith(PREFIX) and text[len(PREFIX) :].isdecimal()
    )
