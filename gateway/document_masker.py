"""The document masker: "this document as this role sees it", the one place that masks.

One `DocumentMasker` is built per (matched routes, role), with the route policy, and reused for
every request that policy serves. HTTP bodies (`body_rewrite`), SSE events (`sse`), WebSocket
frames (`web_websocket`) and the offline `omnigate mask` / `omnigate test` all call `mask` (or
`mask_text` for text that is not a document) and nothing else masks, so whatever a later issue
adds here applies to every transport at once.

Order (SPEC 3.7, 3.9): stamps from the clear values, then the route's rules (those feeding
known values record what they mask, for this call only), then the residual pass
(`gateway.sentinel.Residual`: known values, then the sentinel), then any further `post_steps`.
A bare JSON string or number is chat text: it gets the `text` mask, as a stream frame holding
only text would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from gateway.exempt import OutputMask, ScannedMask
from gateway.known_values import RECORD, RECORDED_KINDS, RecordingMask
from gateway.transform import (
    Outcome,
    TransformFailed,
    count_revealed,
    mask_document,
    transform_document,
)

if TYPE_CHECKING:
    from gateway.identity.stamp import Stamper
    from gateway.masks import Mask
    from gateway.route_view import MaskRule
    from gateway.sentinel import Residual


class PostStep(Protocol):
    """A step that runs after the rules on a masked document (SPEC 3.9).

    The seam for known values (every clear value a rule masked, masked again wherever it recurs:
    the tally's rules counted them) and then the residual-PII sentinel (`gateway.detect`): each
    takes the document and the tally, returns the document (mutated or replaced), may add to the
    tally, and raises `TransformFailed` to fail closed (sentinel `block`).
    """

    def __call__(self, document: Any, tally: Outcome) -> Any: ...


class Masked(NamedTuple):
    document: Any
    tally: Outcome
    # The document's JSON as the residual screens wrote it, when nothing changed it since (the
    # body is then not serialised a second time); None: serialise `document`.
    body: bytes | None = None


class DocumentMasker:
    """Stamps and masks parsed documents for one route policy (immutable once built)."""

    __slots__ = (
        "masking",
        "post_steps",
        "residual",
        "revealable",
        "rules",
        "stampers",
        "text_mask",
    )

    def __init__(
        self,
        rules: tuple[MaskRule, ...],
        revealable: tuple[MaskRule, ...],
        stampers: tuple[Stamper, ...],
        masking: bool,
        text_mask: Mask | None,
        post_steps: tuple[PostStep, ...] = (),
        residual: Residual | None = None,
    ) -> None:
        self.masking = masking
        self.stampers = stampers
        # Known values (SPEC 3.9): the rules that feed them record what they mask, per call.
        self.residual = residual if masking and residual is not None and residual.active else None
        if self.residual is not None and self.residual.known_values:
            rules = tuple(_recording(rule) for rule in rules)
        if self.residual is not None:
            rules = tuple(_scanning(rule, self.residual) for rule in rules)
        self.rules = rules
        self.revealable = revealable  # for a role with masking off: what it is shown in clear
        self.text_mask: Callable[[str], Any] = text_mask if text_mask is not None else str
        # SEAM (SPEC 3.9): known values, then the sentinel, are appended here when the policy is
        # built (rules_plan -> route_view.build_policy); empty until then.
        self.post_steps = post_steps

    @property
    def transforms(self) -> bool:
        """Whether documents change at all for this policy (masking, or stamps to add)."""
        return self.masking or self.stampers != ()

    def mask(self, document: Any, tally: Outcome | None = None) -> Masked:
        """`document` as the role sees it; counts go to `tally` (a new one if not given).

        The document is changed in place where possible. Raises `TransformFailed` when it cannot
        be masked (PII: the caller fails closed).
        """
        tally = Outcome() if tally is None else tally
        if not self.masking:
            return Masked(transform_document(document, self, tally), tally)
        residual = self.residual
        body: bytes | None = None
        if residual is None:
            document = mask_document(
                document, lambda doc: transform_document(doc, self, tally), self._text
            )
        else:
            recorded: list[tuple[str, str]] = []
            token = RECORD.set(recorded)
            try:
                document = mask_document(
                    document, lambda doc: transform_document(doc, self, tally), self._text
                )
            finally:
                RECORD.reset(token)
            try:
                document, body = residual.run(document, tally, recorded)
            except TransformFailed:
                raise
            except Exception as exc:  # PII: fail closed, whatever the scan ran into
                raise TransformFailed(type(exc).__name__) from exc
        for step in self.post_steps:
            document, body = step(document, tally), None
        return Masked(document, tally, body)

    def mask_text(self, text: str) -> str:
        """Free text (a non-JSON frame or event, a ping payload, a close reason) for this role."""
        if not self.masking:
            return text
        return self._text(text)

    def count_revealed(self, document: Any) -> int:
        """How many non-null values the rules select: what an unmasked role is shown (audit)."""
        return count_revealed(document, self.revealable)

    def _text(self, text: str) -> str:
        try:
            # A bare text needs no sentinel: the `text` mask ran the same detector over all of it.
            return str(self.text_mask(text))
        except Exception as exc:  # PII: fail closed, whatever the mask ran into
            raise TransformFailed(type(exc).__name__) from exc


def _scanning(rule: MaskRule, residual: Residual) -> MaskRule:
    """A `text` rule reading with the sentinel's detector marks what it returned (SPEC 3.9):
    the sentinel does not read those strings a second time. `email` and `phone` rules mark
    their whole outputs, which the sentinel skips (and its document screen need not read)."""
    if rule.mask.name in ("email", "phone") and residual.action != "off":
        return dataclasses.replace(rule, mask=OutputMask(rule.mask))
    detector = getattr(getattr(rule.mask, "_masker", None), "detector", None)
    if rule.mask.name != "text" or detector is None or not residual.scans_like(detector):
        return rule
    return dataclasses.replace(rule, mask=ScannedMask(rule.mask))


def _recording(rule: MaskRule) -> MaskRule:
    if rule.mask.name not in RECORDED_KINDS:
        return rule
    return dataclasses.replace(rule, mask=RecordingMask(rule.mask))
