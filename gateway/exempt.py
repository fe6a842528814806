"""`Exempt`: a string a rule wrote that the residual sentinel does not read (SPEC 3.9).

A `text` rule whose detector is the sentinel's returns every string it read as `Exempt` (masked
or not: it was read whole), and `email` / `phone` rules mark their whole mask outputs. The mark
is a `str` subclass, so it travels with the value through the document (JSON writes it as any
string) and the whole-document screen can leave these strings out (`gateway.residual_screen`).

An `Exempt` equal to the value it replaced is only a mark: it is written into the document but
never counted as a masked value (`changed`).
"""

from __future__ import annotations

from typing import Any


class Exempt(str):
    """A string the sentinel need not read (PII: already read whole by the sentinel's own
    detector, or a whole mask output). Known values still apply to it."""

    __slots__ = ()


def changed(new: Any, value: Any) -> bool:
    """Whether a mask's result changes the value (a mark on an equal string does not)."""
    return new is not value and not (type(new) is Exempt and new == value)
