"""A finding of the text detector: a span of the ORIGINAL text, its kind and what masks need."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

PHONE: Final = "phone"
EMAIL: Final = "email"
Kind = Literal["phone", "email"]


class Finding(NamedTuple):
    """`text[start:end]` of the original text is PII of `kind`.

    `value` is what the masks and known values work on, never shown to anyone:
    - phone: the national significant number's digits (`4155557890`), national quirks repaired;
    - email: the address as detection read it (disguises undone, `jane@example.com`), whose
      domain (after the last `@`) the email mask keeps.
    """

    start: int
    end: int
    kind: Kind
    value: str

    @property
    def domain(self) -> str:
        """An email's domain, lower-cased; "" for a phone."""
        return self.value.rpartition("@")[2].lower() if self.kind == EMAIL else ""
