"""The transform stage for a whole JSON body: decode, parse, stamp and mask, serialise.

Pure and synchronous, so the respond stage can run a large body beside the event loop. For a
role with masking on, every way this can go wrong is an `UnmaskableResponse` (fail closed); for
other roles the upstream's bytes are relayed as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway import json_codec
from gateway.body_codec import UndecodableBody, decode_body
from gateway.errors import UnmaskableResponse
from gateway.route_view import View
from gateway.transform import (
    Outcome,
    TransformFailed,
    count_revealed,
    mask_document,
    transform_document,
)


@dataclass(frozen=True)
class Rewritten:
    body: bytes | None  # None: send the upstream's bytes unchanged
    revealed: int | None = None  # for the audit of an unmasked role: values shown in clear


def rewrite_json(
    raw: bytes,
    content_encoding: str | None,
    view: View,
    outcome: Outcome,
    limit: int,
    text_mask: Callable[[str], Any],
) -> Rewritten:
    try:
        data = decode_body(raw, content_encoding, limit)
    except UndecodableBody:
        return _refuse(view, "the upstream response cannot be decoded", "encoding")
    if not data.strip():
        return Rewritten(None)  # an empty body holds nothing to mask
    try:
        document = json_codec.loads(data)
    except ValueError:
        return _refuse(view, "the upstream response is not valid JSON", "invalid_json")
    revealed = None
    if not view.masking:
        revealed = count_revealed(document, view.revealable)
        if not view.stampers:
            return Rewritten(None, revealed)

    def rules(doc: Any) -> Any:
        return transform_document(doc, view, outcome)

    try:
        if view.masking:  # a bare JSON string (or number) is chat text, as on streams
            return Rewritten(json_codec.dumps(mask_document(document, rules, text_mask)), revealed)
        return Rewritten(json_codec.dumps(rules(document)), revealed)
    except (TransformFailed, ValueError):
        return _refuse(view, "the upstream response could not be masked", "transform", revealed)


def _refuse(view: View, message: str, reason: str, revealed: int | None = None) -> Rewritten:
    if view.masking:
        # PII: fail closed; never the clear body.
        raise UnmaskableResponse(message, reason)
    return Rewritten(None, revealed)  # stamping is best effort; the bytes go on as they came
