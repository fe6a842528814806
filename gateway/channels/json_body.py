"""JSON deliveries: parse, let the adapter stamp, re-serialise and re-sign (SPEC 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway import json_codec
from gateway.channels.contract import (
    PASSTHROUGH,
    UNPARSABLE,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    is_handshake,
    unchanged,
)
from gateway.channels.ledger import StampLedger
from gateway.channels.signature import BodySignature, SignatureHeader, Signer
from gateway.identity.omni_id import IdentityResolver

# Walks a parsed payload, resolving senders and stamping through the ledger.
Stamp = Callable[[Any, StampLedger], None]

_INVALID = object()


def load_json(body: bytes) -> Any:
    """The parsed document, or `_INVALID` (the adapters then forward the bytes untouched)."""
    try:
        return json_codec.loads(body)  # exact integers: ids beyond 64 bits stay as they were
    except ValueError:
        return _INVALID


def json_delivery(
    req: WebhookRequest, resolver: IdentityResolver | None, signer: Signer, stamp: Stamp
) -> WebhookResult:
    """Stamp an already-verified JSON delivery; identity problems never raise (fail open)."""
    if resolver is None:
        return unchanged(req, PASSTHROUGH)
    doc = load_json(req.body)
    if doc is _INVALID:
        return unchanged(req, UNPARSABLE)
    # SECURITY: a stamp field sent from outside never reaches the upstream, stamped or not. A
    # genuine provider never sends one, so dropping it can only break a forged signature.
    forged = drop_field(doc, resolver.field) if may_hold(req.body, resolver.field) else 0
    resign = signer.can_resign(req)
    cleaned = json_codec.dumps(doc) if forged and not resign else req.body
    ledger = StampLedger(resolver)
    stamp(doc, ledger)
    if not resign or not (ledger.body_changed or forged):
        return ledger.result(req, cleaned)  # header only, bytes untouched unless cleaned
    # Key order and values are kept; only insignificant whitespace and escapes may change.
    body = json_codec.dumps(doc)
    return ledger.result(req, body, signer.resign(req, body))


class JsonChannel:
    """A JSON webhook: the handshake passes; the body signature (if any) is verified, then the
    senders are stamped and the body re-signed with the same secret."""

    def __init__(
        self, name: str, cfg: ChannelSpec, stamp: Stamp, headers: tuple[SignatureHeader, ...] = ()
    ) -> None:
        self.name = name
        self._resolver = cfg.resolver
        self._stamp = stamp
        self._signature = BodySignature(cfg.secret if headers else None, headers)

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req):  # e.g. Meta's GET hub.challenge: the upstream answers it
            return unchanged(req, PASSTHROUGH)
        self._signature.verify(req)
        return json_delivery(req, self._resolver, self._signature, self._stamp)


def may_hold(body: bytes, name: str) -> bool:
    """Whether a JSON body can hold key `name`: written plainly, or hidden behind escapes."""
    # SECURITY: a key spelled with \u escapes ("omni\u005fcustomer_id") has no plain bytes, so
    # any escape means a full walk; only a body with neither is skipped (the common case).
    plain = name.encode()
    return plain in body or b"\\" in body or not plain.isascii() or '"' in name


def drop_field(doc: Any, name: str) -> int:
    """Remove key `name` from every object of `doc`, at any depth; how many were removed."""
    removed = 0
    stack = [doc]
    while stack:  # iterative: a deeply nested body must not exhaust the recursion limit
        node = stack.pop()
        if isinstance(node, dict):
            if name in node:
                del node[name]
                removed += 1
            stack.extend(value for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            stack.extend(value for value in node if isinstance(value, dict | list))
    return removed


def objects(value: Any) -> list[dict[str, Any]]:
    """The dict items of a JSON array (anything else in a payload is ignored, never an error)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def child(value: Any, key: str) -> dict[str, Any] | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else None
