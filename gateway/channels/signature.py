"""Body signatures: a hex HMAC of the raw body in a header (Meta, 360dialog).

Verified before anything else; re-computed over the stamped body so the upstream's own check
still passes (SPEC 5).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

from gateway.channels.contract import WebhookRequest
from gateway.errors import BadSignature


def hmac_hex(key: bytes, message: bytes, digest: str) -> str:
    return hmac.new(key, message, digest).hexdigest()


def same(expected: str, given: str) -> bool:
    """Constant-time string comparison that tolerates non-ASCII input."""
    # SECURITY: compare_digest keeps the time independent of where the values differ.
    # surrogateescape: a header that is not valid UTF-8 compares unequal instead of raising.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), given.encode("utf-8", "surrogateescape")
    )


class Signer(Protocol):
    """How an adapter keeps a channel's authenticity scheme valid after stamping the body."""

    def can_resign(self, req: WebhookRequest) -> bool: ...

    def resign(self, req: WebhookRequest, body: bytes) -> dict[str, str]: ...


class Unsigned:
    """Channels whose authenticity does not cover the body (none, or a secret token header)."""

    def can_resign(self, req: WebhookRequest) -> bool:
        return True

    def resign(self, req: WebhookRequest, body: bytes) -> dict[str, str]:
        return {}


UNSIGNED = Unsigned()


@dataclass(frozen=True)
class SignatureHeader:
    name: str
    prefix: str  # "sha256=" for Meta
    digest: str  # hashlib name
    prefix_optional: bool = False  # 360dialog sends bare hex; a prefixed value is tolerated


META_HEADERS = (
    SignatureHeader("X-Hub-Signature-256", "sha256=", "sha256"),
    SignatureHeader("X-Hub-Signature", "sha1=", "sha1"),  # legacy SHA-1
)
DIALOG360_HEADERS = (SignatureHeader("x-360dialog-signature", "sha256=", "sha256", True),)


class BodySignature:
    """A hex HMAC of the raw body in one of several headers, the strongest first."""

    def __init__(self, secret: bytes | None, headers: tuple[SignatureHeader, ...]) -> None:
        self._secret = secret
        self._headers = headers
        for header in headers:  # fail fast at load on a typo'd digest name
            hashlib.new(header.digest)

    def verify(self, req: WebhookRequest) -> None:
        """Raise BadSignature unless the strongest signature present matches the body."""
        if self._secret is None:
            return
        for header in self._headers:
            given = req.headers.get(header.name)
            if given is None:
                continue
            expected = hmac_hex(self._secret, req.body, header.digest)
            if not same(header.prefix + expected, self._canonical(header, given)):
                raise BadSignature(f"{header.name} does not match the body")
            return
        # SECURITY: with a secret configured an unsigned delivery is refused, never waved through.
        raise BadSignature(f"{self._headers[0].name} is missing")

    def can_resign(self, req: WebhookRequest) -> bool:
        # Without the secret a signed body must reach the upstream byte for byte.
        return self._secret is not None or not any(h.name in req.headers for h in self._headers)

    def resign(self, req: WebhookRequest, body: bytes) -> dict[str, str]:
        """New values for every signature header the provider sent, over the stamped body."""
        if self._secret is None:
            return {}
        signed: dict[str, str] = {}
        for header in self._headers:
            given = req.headers.get(header.name)
            if given is None:
                continue
            # Re-sign in the form the provider used (360dialog: bare hex unless it sent a prefix).
            bare = header.prefix_optional and not given.strip().lower().startswith(header.prefix)
            prefix = "" if bare else header.prefix
            signed[header.name] = prefix + hmac_hex(self._secret, body, header.digest)
        return signed

    @staticmethod
    def _canonical(header: SignatureHeader, given: str) -> str:
        given = given.strip().lower()  # hex digits may arrive upper-cased through some proxies
        if header.prefix_optional and not given.startswith(header.prefix):
            given = header.prefix + given
        return given
