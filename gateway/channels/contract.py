"""What the HTTP glue hands a channel adapter, and what it gets back (SPEC 5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import KeyPath
from gateway.identity.omni_id import IdentityResolver

# Metric labels for `WebhookResult.outcome` ("webhooks by channel and outcome").
STAMPED = "stamped"  # body and header carry the id(s)
STAMPED_HEADER_ONLY = "stamped_header_only"  # body forwarded byte for byte (cannot re-sign)
NO_IDENTITY = "no_identity"  # verified, but no sender identity (receipts, echoes, invalid ids)
UNPARSABLE = "unparsable"  # verified, but the body is not the channel's format: forwarded as is
PASSTHROUGH = "passthrough"  # handshakes, and deliveries when no omnichannel section is set
OUTCOMES = (STAMPED, STAMPED_HEADER_ONLY, NO_IDENTITY, UNPARSABLE, PASSTHROUGH)


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    url: str  # the public URL the provider signed (Twilio); built by the glue
    headers: Mapping[str, str]  # case-insensitive (multidict.CIMultiDictProxy)
    body: bytes


@dataclass(frozen=True)
class WebhookResult:
    body: bytes  # the original bytes object itself when nothing was stamped into it
    # Authoritative headers to set on the forwarded request: the stamp header, re-signed
    # signature headers (a case-insensitive mapping). Content-Length is recomputed by the glue.
    set_headers: Mapping[str, str] = field(default_factory=dict)
    ids: tuple[str, ...] = ()  # stamped ids in order of first appearance
    kinds: tuple[str, ...] = ()  # "phone" / "email", one per id
    outcome: str = PASSTHROUGH


@dataclass(frozen=True)
class ChannelSpec:
    """One `webhooks:` entry as an adapter is built from it (at load, once)."""

    spec: Mapping[str, Any]
    key_path: KeyPath  # ("webhooks", index)
    resolver: IdentityResolver | None
    secret: bytes | None  # from `secret_env`; None when the entry names none


class Channel(Protocol):
    name: str

    def process(self, req: WebhookRequest) -> WebhookResult:
        """Verify, find the senders, stamp. Raises `gateway.errors.BadSignature`."""
        ...


def unchanged(req: WebhookRequest, outcome: str) -> WebhookResult:
    """Forward the request exactly as it came."""
    return WebhookResult(body=req.body, outcome=outcome)


def is_handshake(req: WebhookRequest) -> bool:
    """A bodyless GET / HEAD is a verification handshake (Meta's `hub.challenge`)."""
    # SECURITY: a GET carrying a body is treated as a delivery and verified like a POST, so it
    # cannot smuggle an unsigned payload past the check.
    return req.method.upper() in ("GET", "HEAD") and not req.body
