"""The `email` mask: `****@` + the domain, lower-cased (SPEC 3.3)."""

from __future__ import annotations

import re
from typing import Final

from gateway.masks.mask import REDACTED, MaskType, StringMask, no_options_builder

LOCAL_PART: Final = REDACTED + "@"

# Addresses inside free text: a practical subset of RFC 5322 (what people type in chat). The
# lookbehind lets a match start only at a local-part boundary, which keeps the search linear on
# long words. The local part excludes `*`, so an already masked address is not matched again.
ADDRESS_PATTERN: Final = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def mask_email_text(text: str) -> str:
    """`****@domain` using the text after the last `@`; `****` when there is no usable domain.

    A trailing `>` is dropped so `Jane <jane@example.com>` keeps only `example.com`. A "domain" that
    is empty or holds whitespace is free text in an email field, not a domain: it could carry PII,
    so the whole value becomes `****`.
    """
    at = text.rfind("@")
    if at < 0:
        return REDACTED
    domain = text[at + 1 :].strip().rstrip(">").rstrip()
    if not domain or domain.split() != [domain]:  # empty, or holding whitespace
        return REDACTED
    return LOCAL_PART + domain.lower()


class EmailMask(StringMask):
    __slots__ = ()
    name = "email"
    keeps_blank = False  # SPEC 3.3 defines the output for a value without digits / without `@`

    def mask_str(self, text: str) -> str:
        return mask_email_text(text)


TYPE: Final = MaskType("email", frozenset(), no_options_builder(EmailMask))
