"""The transform stage for a whole JSON body: decode, parse, stamp and mask, serialise.

`rewrite_json` is pure and synchronous, so the respond stage can run a large body beside the
event loop. `rewrite_settled` is the respond stage's entry: with identity linking on, it parses,
lets the stamps look up ids this process has not seen (on the event loop, one bounded round
trip, SPEC 4.1), then masks. For a role with masking on, every way this can go wrong is an
`UnmaskableResponse` (fail closed); for other roles the upstream's bytes are relayed as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway import json_codec
from gateway.body_codec import UndecodableBody, decode_body
from gateway.errors import UnmaskableResponse
from gateway.identity.stamp import settle_stamps
from gateway.route_view import RoutePolicy
from gateway.transform import Outcome, TransformFailed

T = TypeVar("T")


@dataclass(frozen=True)
class Rewritten:
    body: bytes | None  # None: send the upstream's bytes unchanged
    revealed: int | None = None  # for the audit of an unmasked role: values shown in clear


async def rewrite_settled(
    raw: bytes,
    content_encoding: str | None,
    policy: RoutePolicy,
    outcome: Outcome,
    limit: int,
    pool: Executor | None,
) -> Rewritten:
    """`rewrite_json`, run beside the event loop when `pool` is given; with linking on, the ids
    the stamps meet are settled with the link store before the masker runs."""
    if not any(stamper.linker is not None for stamper in policy.stampers):
        return await _run(pool, rewrite_json, raw, content_encoding, policy, outcome, limit)
    parsed = await _run(pool, parse_json, raw, content_encoding, policy, limit)
    if isinstance(parsed, Rewritten):
        return parsed
    # Stamping is idempotent: the masker stamps again from the warm cache.
    await settle_stamps(policy.stampers, parsed.document)
    return await _run(pool, mask_parsed, parsed, policy, outcome)


def rewrite_json(
    raw: bytes,
    content_encoding: str | None,
    policy: RoutePolicy,
    outcome: Outcome,
    limit: int,
) -> Rewritten:
    parsed = parse_json(raw, content_encoding, policy, limit)
    if isinstance(parsed, Rewritten):
        return parsed
    return mask_parsed(parsed, policy, outcome)


@dataclass(frozen=True)
class Parsed:
    document: Any


def parse_json(
    raw: bytes, content_encoding: str | None, policy: RoutePolicy, limit: int
) -> Parsed | Rewritten:
    """The parsed document, or what to answer without one (an empty or unreadable body)."""
    try:
        data = decode_body(raw, content_encoding, limit)
    except UndecodableBody:
        return _refuse(policy, "the upstream response cannot be decoded", "encoding")
    if not data.strip():
        return Rewritten(None)  # an empty body holds nothing to mask
    try:
        return Parsed(json_codec.loads(data))
    except ValueError:
        return _refuse(policy, "the upstream response is not valid JSON", "invalid_json")


def mask_parsed(parsed: Parsed, policy: RoutePolicy, outcome: Outcome) -> Rewritten:
    document = parsed.document
    masker = policy.masker
    revealed = None
    if not policy.masking:
        revealed = masker.count_revealed(document)
        if not masker.stampers:
            return Rewritten(None, revealed)
    try:
        return Rewritten(json_codec.dumps(masker.mask(document, outcome).document), revealed)
    except (TransformFailed, ValueError):
        return _refuse(policy, "the upstream response could not be masked", "transform", revealed)


async def _run(pool: Executor | None, work: Callable[..., T], *args: Any) -> T:
    if pool is None:
        return work(*args)
    # CPU-heavy work runs beside the event loop, so small requests are not stalled behind it.
    return await asyncio.get_running_loop().run_in_executor(pool, work, *args)


def _refuse(
    policy: RoutePolicy, message: str, reason: str, revealed: int | None = None
) -> Rewritten:
    if policy.masking:
        # PII: fail closed; never the clear body.
        raise UnmaskableResponse(message, reason)
    return Rewritten(None, revealed)  # stamping is best effort; the bytes go on as they came
