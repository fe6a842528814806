"""The transform stage for a whole JSON body: decode, parse, stamp and mask, serialise.

Pure and synchronous, so the respond stage can run a large body beside the event loop. For a
role with masking on, every way this can go wrong is an `UnmaskableResponse` (fail closed); for
other roles the upstream's bytes are relayed as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway import json_codec, tracing
from gateway.body_codec import UndecodableBody, decode_body
from gateway.errors import UnmaskableResponse
from gateway.route_view import RoutePolicy
from gateway.transform import Outcome, TransformFailed


@dataclass(frozen=True)
class Rewritten:
    body: bytes | None  # None: send the upstream's bytes unchanged
    revealed: int | None = None  # for the audit of an unmasked role: values shown in clear


def rewrite_json(
    raw: bytes,
    content_encoding: str | None,
    policy: RoutePolicy,
    outcome: Outcome,
    limit: int,
) -> Rewritten:
    try:
        data = decode_body(raw, content_encoding, limit)
    except UndecodableBody:
        return _refuse(policy, "the upstream response cannot be decoded", "encoding")
    if not data.strip():
        return Rewritten(None)  # an empty body holds nothing to mask
    try:
        document = json_codec.loads(data)
    except ValueError:
        return _refuse(policy, "the upstream response is not valid JSON", "invalid_json")
    masker = policy.masker
    revealed = None
    if not policy.masking:
        revealed = masker.count_revealed(document)
        if not masker.stampers:
            return Rewritten(None, revealed)
    try:
        masked = tracing.mask(masker, document, outcome)  # masker.mask, in a span when tracing
        return Rewritten(json_codec.dumps(masked.document), revealed)
    except (TransformFailed, ValueError):
        return _refuse(policy, "the upstream response could not be masked", "transform", revealed)


def _refuse(
    policy: RoutePolicy, message: str, reason: str, revealed: int | None = None
) -> Rewritten:
    if policy.masking:
        # PII: fail closed; never the clear body.
        raise UnmaskableResponse(message, reason)
    return Rewritten(None, revealed)  # stamping is best effort; the bytes go on as they came
