"""The transform stage: stamp identities on clear values, then mask, on a parsed JSON document.

Pure: no I/O. Stamping runs first (SPEC 3.7: ids come from the clear values), masking after.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gateway.masks import REMOVE
from gateway.route_view import MaskRule, View


@dataclass
class Outcome:
    """What a transform did, for metrics, the access log and `mask --explain`."""

    masked: Counter[tuple[str, str]] = field(default_factory=Counter)  # (route, mask) -> values
    fired: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (route, path, mask)
    stamped: int = 0

    @property
    def masked_total(self) -> int:
        return sum(self.masked.values())


class TransformFailed(Exception):
    """A rule raised on this document (e.g. a filter dividing by zero): it cannot be masked."""


def transform_document(doc: Any, view: View, outcome: Outcome) -> Any:
    """Return `doc` stamped and masked per `view` (mutated in place where possible)."""
    try:
        for stamper in view.stampers:
            outcome.stamped += stamper.apply(doc)
        for rule in view.rules:
            doc = apply_rule(doc, rule, outcome)
    except Exception as exc:  # PII: fail closed, whatever a selector or mask ran into
        raise TransformFailed(type(exc).__name__) from exc
    return doc


def apply_rule(doc: Any, rule: MaskRule, outcome: Outcome) -> Any:
    mask = rule.mask
    changed = 0

    def masked(value: Any) -> Any:
        nonlocal changed
        result = mask(value)
        if result is not value:
            changed += 1
        return result

    doc, _ = rule.selector.transform(doc, masked, remove=REMOVE)
    if changed:
        outcome.masked[(rule.route, mask.name)] += changed
        outcome.fired[(rule.route, rule.path, mask.name)] += changed
    return doc


def count_revealed(doc: Any, view_rules: tuple[MaskRule, ...]) -> int:
    """How many non-null values the rules select: what an unmasked role was shown (audit)."""
    return sum(1 for rule in view_rules for value in rule.selector.find(doc) if value is not None)
