"""The transform stage for a whole JSON body: decode, parse, stamp and mask, serialise.

`rewrite_json` is pure and synchronous, so the respond stage can run a large body beside the
event loop. `rewrite_settled` is the respond stage's entry: with identity linking on, ids the
stamps meet that this process has not seen are looked up (one bounded round trip on the event
loop, SPEC 4.1) and the body rewritten again when one is linked; a warm cache costs nothing more.
For a role with masking on, every way this can go wrong is an `UnmaskableResponse` (fail
closed); for other roles the upstream's bytes are relayed as they are.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway import json_codec, tracing
from gateway.body_codec import UndecodableBody, decode_body
from gateway.errors import UnmaskableResponse
from gateway.identity.linker import settle_async
from gateway.route_view import RoutePolicy
from gateway.sentinel import ResidualPII
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
    """`rewrite_json`, run beside the event loop when `pool` is given. With linking on, when the
    stamps met ids this process has not cached, they are looked up once (bounded) and, if one is
    linked, the body is rewritten again from its raw bytes with the answer cached (SPEC 4.1)."""
    linker = next((s.linker for s in policy.stampers if s.linker is not None), None)
    if linker is None:
        return await _run(pool, rewrite_json, raw, content_encoding, policy, outcome, limit)
    tallies = [outcome]

    def attempt() -> Awaitable[Rewritten]:
        # A second attempt masks the same values (only the stamped ids differ): counted once.
        tally = tallies.pop() if tallies else Outcome()
        return _run(pool, rewrite_json, raw, content_encoding, policy, tally, limit)

    return await settle_async(linker, attempt)


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
        # Written once: the residual screens' serialisation when nothing changed after it.
        body = masked.body if masked.body is not None else json_codec.dumps(masked.document)
        return Rewritten(body, revealed)
    except ResidualPII as exc:
        # PII: the sentinel's `block` (SPEC 3.9), on a protected path too.
        raise UnmaskableResponse(
            "the upstream response holds PII no rule masks", "residual_pii"
        ) from exc
    except (TransformFailed, ValueError):
        return _refuse(policy, "the upstream response could not be masked", "transform", revealed)


async def _run(pool: Executor | None, work: Callable[..., T], *args: Any) -> T:
    if pool is None:
        return work(*args)
    # CPU-heavy work runs beside the event loop, so small requests are not stalled behind it;
    # in this task's context, so that ids the stamps miss are collected (`settle_async`).
    call = functools.partial(contextvars.copy_context().run, work, *args)
    return await asyncio.get_running_loop().run_in_executor(pool, call)


def _refuse(
    policy: RoutePolicy, message: str, reason: str, revealed: int | None = None
) -> Rewritten:
    if policy.masking and not policy.protected:
        # PII: fail closed; never the clear body. (A path only `sentinel.protect` names has no
        # rules to fail: what it cannot scan passes, as it did before it was protected.)
        raise UnmaskableResponse(message, reason)
    return Rewritten(None, revealed)  # stamping is best effort; the bytes go on as they came
