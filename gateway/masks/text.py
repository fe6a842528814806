"""The `text` mask: phone numbers and email addresses inside free text are masked (SPEC 3.3).

Every email address becomes the email mask (`****@example.com`), then every phone number the
phonenumbers matcher finds (region `omnichannel.default_region`) in the result becomes the phone
mask of its national number (`XXX-XXX-7890`; an extension goes with the rest). Other text is
unchanged.

Emails go first, so `14155557890@example.com` is an address (`****@example.com`), not a number
followed by `@example.com`; and the matcher reads the text as it will be sent, so digits of an
address's local part can no longer hide a number written next to it (in `(201) 555-0199 42@x.io`
the matcher sees one 12-digit candidate and rejects it; once the address is masked, the number
stands alone and is found).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from functools import cache
from typing import Final

from gateway.errors import ConfigError, KeyPath
from gateway.masks.email import ADDRESS_PATTERN, mask_email_text
from gateway.masks.mask import Mask, MaskContext, MaskType, Options, StringMask
from gateway.masks.phone import PREFIX, mask_phone_text
from gateway.masks.phone_finder import PhoneFinder, PhoneSpan, is_region

# Chat UIs re-fetch the same conversation again and again; a message seen before is not parsed
# again. Bounded in entries and in the length of the texts it keeps.
CACHE_ENTRIES: Final = 2048
CACHE_MAX_CHARS: Final = 4096
_MISSING: Final = ""  # never a cached value: an empty text does not reach the cache


def mask_emails(text: str) -> str:
    """`text` with every email address masked; `text` itself when it holds none."""
    if "@" not in text:
        return text
    return ADDRESS_PATTERN.sub(_masked_email, text)


def _masked_email(match: re.Match[str]) -> str:
    return mask_email_text(match.group())


def mask_phones(text: str, phones: list[PhoneSpan]) -> str:
    """`text` with the given phone spans masked; `text` itself when there are none."""
    out: list[str] = []
    pos = 0
    for start, end, national_number in phones:
        if _is_phone_mask_tail(text, start, end):
            continue
        out += (text[pos:start], mask_phone_text(national_number))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _is_phone_mask_tail(text: str, start: int, end: int) -> bool:
    """True for the four digits of an earlier phone mask (`XXX-XXX-2023`).

    They are themselves a number in a few regions (Luxembourg's 2023). What is already masked
    stays as it is, so masking twice changes nothing.
    """
    prefix_start = start - len(PREFIX)
    return end - start == 4 and prefix_start >= 0 and text.startswith(PREFIX, prefix_start)


class TextMasker:
    """Masks free text for one default region, remembering recent results."""

    __slots__ = ("_cache", "_phones")

    def __init__(self, region: str) -> None:
        self._phones = PhoneFinder(region)
        # PII: keyed by a digest, not the text, so the cache never holds a clear message; values
        # are masked texts, or None for "unchanged" (which would be the clear text).
        self._cache: dict[bytes, str | None] = {}

    def mask(self, text: str) -> str:
        """`text` masked; `text` itself when it holds no phone and no email."""
        if not self._phones.may_contain(text):
            # Masking emails only removes digits: no run here means no run after it either.
            return mask_emails(text)
        if len(text) > CACHE_MAX_CHARS:
            return self._mask(text)
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        cached = self._cache.get(key, _MISSING)
        if cached is not _MISSING:
            return text if cached is None else cached
        masked = self._mask(text)
        if len(self._cache) >= CACHE_ENTRIES:
            # Oldest first. Another thread evicting at the same moment is harmless.
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del self._cache[next(iter(self._cache))]
        self._cache[key] = None if masked is text else masked
        return masked

    def _mask(self, text: str) -> str:
        emailed = mask_emails(text)
        return mask_phones(emailed, self._phones.find(emailed))

    def clear(self) -> None:
        self._cache.clear()


@cache
def text_masker(region: str) -> TextMasker:
    """The process-wide masker of a region, so every rule using `text` shares one cache."""
    return TextMasker(region)


def mask_text(text: str, default_region: str = "US") -> str:
    """`text` with phones and emails masked; `text` itself when it holds none."""
    return text_masker(default_region.upper()).mask(text)


class TextMask(StringMask):
    __slots__ = ("_masker",)
    name = "text"

    def __init__(self, masker: TextMasker) -> None:
        self._masker = masker

    def mask_str(self, text: str) -> str:
        return self._masker.mask(text)


def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
    region = ctx.default_region.upper()
    if not is_region(region):
        # Located at the setting, not the rule: that is where the fix goes.
        raise ConfigError(
            ("omnichannel", "default_region"),
            f"mask 'text' needs omnichannel.default_region to be a region phonenumbers knows "
            f"(ISO 3166 alpha-2, e.g. US); got {ctx.default_region!r}",
        )
    return TextMask(text_masker(region))


TYPE: Final = MaskType("text", frozenset(), build)
