"""The `text` mask: phone numbers and email addresses inside free text are masked (SPEC 3.3).

The detector (gateway/detect) finds them as people type them, as spans of the original text;
each span is replaced by its mask: a phone by the phone mask of its national number
(`XXX-XXX-7890`, an extension goes with the rest), an email by `****@` + its domain, lower-cased
(a number inside the domain masked too). Other text is unchanged. Booleans stay as they are, and
numbers unless they are phone numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from typing import Any, Final

from gateway.detect import EMAIL, Detector, Finding, Screen
from gateway.detect.digit_floors import is_region
from gateway.errors import ConfigError, KeyPath
from gateway.masks.email import LOCAL_PART
from gateway.masks.mask import Mask, MaskContext, MaskType, Options, StringMask
from gateway.masks.phone import PREFIX, mask_phone_text

# Chat UIs re-fetch the same conversation again and again; a message seen before is not parsed
# again. Bounded in entries and in the length of the texts it keeps.
CACHE_ENTRIES: Final = 2048
CACHE_MAX_CHARS: Final = 4096
_MISSING: Final = ""  # never a cached value: an empty text does not reach the cache
# Phones in an address's domain: any region reads `14155557890` as an international number.
_DOMAIN_PHONES: Final = Detector("US")
_DIGIT: Final = re.compile(r"\d")


def masked_findings(text: str, findings: Sequence[Finding]) -> str:
    """`text` with each finding replaced by its mask; `text` itself when none changes it."""
    out: list[str] = []
    pos = 0
    for finding in findings:
        start, end = finding.start, finding.end
        if finding.kind == EMAIL:
            domain = finding.domain
            replacement = LOCAL_PART + domain
            if _DIGIT.search(domain):
                # A number written as the domain (`a@14155557890.com`) is still a number.
                replacement = LOCAL_PART + masked_findings(domain, _DOMAIN_PHONES.find(domain))
        elif _is_phone_mask_tail(text, start, end):
            continue
        else:
            replacement = mask_phone_text(finding.value)
        out += (text[pos:start], replacement)
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
    """Masks free text for one detector configuration, remembering recent results."""

    __slots__ = ("_cache", "detector")

    def __init__(self, region: str, text_regions: Sequence[str] = ()) -> None:
        self.detector = Detector(region, text_regions)
        # PII: keyed by a digest, not the text, so the cache never holds a clear message; values
        # are masked texts, or None for "unchanged" (which would be the clear text).
        # Ordered: evicting the oldest is O(1) (a plain dict's first key is found by skipping
        # every deleted slot before it: ~3 us a text once the cache is full).
        self._cache: OrderedDict[bytes, str | None] = OrderedDict()

    def mask(self, text: str) -> str:
        """`text` masked; `text` itself when it holds no phone and no email."""
        screen = self.detector.screen(text)
        if not any(screen):
            # No `@` (or a disguise) and no digit run a region can read (most texts: the
            # screen is exact and cheap): nothing to find, nothing to remember.
            return text
        if len(text) > CACHE_MAX_CHARS:
            return self._mask(text, screen)
        # A text seen before is answered from memory (a re-fetched conversation).
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        cached = self._cache.get(key, _MISSING)
        if cached is not _MISSING:
            return text if cached is None else cached
        masked = self._mask(text, screen)
        if len(self._cache) >= CACHE_ENTRIES:
            # Oldest first. Another thread evicting at the same moment is harmless.
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                self._cache.popitem(last=False)
        self._cache[key] = None if masked is text else masked
        return masked

    def _mask(self, text: str, screen: Screen) -> str:
        return masked_findings(text, self.detector.find(text, screen))

    def clear(self) -> None:
        self._cache.clear()


@cache
def text_masker(region: str, text_regions: tuple[str, ...] = ()) -> TextMasker:
    """The process-wide masker of a configuration, so every rule using `text` shares one cache."""
    return TextMasker(region, text_regions)


def mask_text(text: str, default_region: str = "US") -> str:
    """`text` with phones and emails masked; `text` itself when it holds none."""
    return text_masker(default_region.upper()).mask(text)


class TextMask(StringMask):
    __slots__ = ("_masker",)
    name = "text"

    def __init__(self, masker: TextMasker) -> None:
        self._masker = masker

    def __call__(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value  # SPEC 3.3: `text` leaves booleans as they are
        return super().__call__(value)

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
    return TextMask(text_masker(region, text_regions(ctx)))


def text_regions(ctx: MaskContext) -> tuple[str, ...]:
    """`omnichannel.text_regions`, upper-cased and checked (a ConfigError at the bad entry)."""
    regions = tuple(region.upper() for region in ctx.text_regions)
    for index, region in enumerate(regions):
        if not is_region(region):
            raise ConfigError(
                ("omnichannel", "text_regions", index),
                f"text_regions entries must be regions phonenumbers knows (ISO 3166 alpha-2, "
                f"e.g. DE); got {ctx.text_regions[index]!r}",
            )
    return regions


TYPE: Final = MaskType("text", frozenset(), build)
