"""The `hash` mask: `h_` + the first 16 hex digits of HMAC-SHA256(hash key, value) (SPEC 3.3)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from gateway.errors import ConfigError, KeyPath
from gateway.masks.mask import Mask, MaskContext, MaskType, Options, StringMask

PREFIX: Final = "h_"


class HashMask(StringMask):
    """A stable pseudonym: equal values give equal outputs on every replica sharing the key."""

    __slots__ = ("_mac",)
    name = "hash"

    def __init__(self, key: bytes) -> None:
        # Keyed once; each call copies the keyed state instead of re-deriving the HMAC pads.
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def mask_str(self, text: str) -> str:
        mac = self._mac.copy()
        # surrogatepass: a lone surrogate (possible in JSON) must hash, not crash the response.
        mac.update(text.encode("utf-8", "surrogatepass"))
        return PREFIX + mac.hexdigest()[:16]


def build(options: Options, ctx: MaskContext, key_path: KeyPath) -> Mask:
    # SECURITY: without a key the "pseudonym" would be a plain, reversible-by-dictionary hash.
    if not ctx.hash_key:
        raise ConfigError(
            key_path,
            "mask 'hash' needs a hash key: set secrets.hash_key_env to an environment variable "
            "holding a non-empty key",
        )
    return HashMask(ctx.hash_key)


TYPE: Final = MaskType("hash", frozenset(), build)
