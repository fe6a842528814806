"""JSON deliveries: parse, let the adapter stamp, re-serialise and re-sign (SPEC 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.channels.contract import (
    PASSTHROUGH,
    UNPARSABLE,
    WebhookRequest,
    WebhookResult,
    unchanged,
)
from gateway.channels.ledger import StampLedger
from gateway.channels.signature import Signer
from gateway.identity.omni_id import IdentityResolver

# Walks a parsed payload, resolving senders and stamping through the ledger.
Stamp = Callable[[Any, StampLedger], None]

_INVALID = object()


def load_json(body: bytes) -> Any:
    """The parsed document, or `_INVALID` (the adapters then forward the bytes untouched)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
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
    ledger = StampLedger(resolver)
    stamp(doc, ledger)
    if not ledger.body_changed or not signer.can_resign(req):
        return ledger.result(req, req.body)  # header only, bytes untouched
    # orjson keeps key order and values; only insignificant whitespace and escapes may change.
    body = orjson.dumps(doc)
    return ledger.result(req, body, signer.resign(req, body))


def objects(value: Any) -> list[dict[str, Any]]:
    """The dict items of a JSON array (anything else in a payload is ignored, never an error)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def child(value: Any, key: str) -> dict[str, Any] | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else None
