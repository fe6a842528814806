"""The transform stage: stamp identities on clear values, then mask, on a parsed JSON document.

Pure: no I/O. Stamping runs first (SPEC 3.7: ids come from the clear values), masking after.

Rules apply in order, each as if on its own (`apply_rule`). Consecutive rules of the form
`<prefix>..<field chain>` with one prefix (`$..sender.phone_number`, `$..sender.email`, ...) share
one walk of the document (`gateway.jsonpath_group`), with the same result and counts. Which rules
share a walk is decided once per tuple of rules (a route and role's view), not per request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias

from gateway.exempt import changed as is_change
from gateway.jsonpath_group import DescentGroup, Shape
from gateway.masks import REMOVE, Mask

if TYPE_CHECKING:
    from gateway.identity.stamp import Stamper
    from gateway.route_view import MaskRule


class RuleSet(Protocol):
    """What the transform reads: a route policy, or the document masker built from it."""

    @property
    def rules(self) -> tuple[MaskRule, ...]: ...

    @property
    def stampers(self) -> tuple[Stamper, ...]: ...


@dataclass
class Outcome:
    """What a transform did, for metrics, the access log and `mask --explain`."""

    masked: Counter[tuple[str, str]] = field(default_factory=Counter)  # (route, mask) -> values
    fired: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (route, path, mask)
    stamped: int = 0
    # Residual-sentinel findings (SPEC 3.9): (route, kind, action) -> count.
    findings: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @property
    def masked_total(self) -> int:
        return sum(self.masked.values())


class TransformFailed(Exception):
    """A rule raised on this document (e.g. a filter dividing by zero): it cannot be masked."""


def transform_document(doc: Any, view: RuleSet, outcome: Outcome) -> Any:
    """Return `doc` stamped and masked per `view` (mutated in place where possible).

    The rule stage of `DocumentMasker.mask`: call that, which adds the bare-text case and the
    post-rule steps; this is exposed for the stage's own tests.
    """
    try:
        for stamper in view.stampers:
            outcome.stamped += stamper.apply(doc)
        for step in _plan(view.rules):
            if isinstance(step, _Fused):
                doc = _apply_fused(doc, step, outcome)
            else:
                doc = apply_rule(doc, step, outcome)
    except Exception as exc:  # PII: fail closed, whatever a selector or mask ran into
        raise TransformFailed(type(exc).__name__) from exc
    return doc


def apply_rule(doc: Any, rule: MaskRule, outcome: Outcome) -> Any:
    mask = rule.mask
    changed = 0

    def masked(value: Any) -> Any:
        nonlocal changed
        result = mask(value)
        changed += is_change(result, value)  # a mark on an equal string is no change
        return result

    doc, _ = rule.selector.transform(doc, masked, remove=REMOVE)
    if changed:
        outcome.masked[(rule.route, mask.name)] += changed
        outcome.fired[(rule.route, rule.path, mask.name)] += changed
    return doc


@dataclass(frozen=True, eq=False)
class _Fused:
    """Consecutive rules whose selectors share one walk of the document."""

    rules: tuple[MaskRule, ...]
    masks: tuple[Mask, ...]
    group: DescentGroup


_Step: TypeAlias = "MaskRule | _Fused"
_PLANS: dict[tuple[int, ...], tuple[tuple[MaskRule, ...], tuple[_Step, ...]]] = {}
_PLANS_MAX: Final = 256  # (route, role) views times rule reloads; beyond that, start over


def _plan(rules: tuple[MaskRule, ...]) -> tuple[_Step, ...]:
    """The steps applying `rules`, worked out once per tuple of rules."""
    # The rules are the route plan's own MaskRule objects, shared by every policy: keyed by
    # identity (cheap; MaskRule equality would compare selectors and masks field by
    # field). The entry holds the rules, so no id in its key is reused while it is cached.
    key = tuple(map(id, rules))
    cached = _PLANS.get(key)
    if cached is not None:
        return cached[1]
    steps = tuple(_steps(rules))
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[key] = (rules, steps)
    return steps


def _steps(rules: tuple[MaskRule, ...]) -> Iterator[_Step]:
    """Runs of consecutive rules `<prefix>..<field chain>` with one prefix become `_Fused` steps;
    only consecutive ones, since moving a rule past another could change what either sees."""
    run: list[tuple[MaskRule, Shape]] = []
    for rule in (*rules, None):
        shape = None if rule is None else rule.selector.shape
        if run and (shape is None or shape[0] != run[0][1][0]):
            fused = tuple(r for r, _ in run)
            chains = [chain for _, (_, chain) in run]
            yield _Fused(fused, tuple(r.mask for r in fused), DescentGroup(run[0][1][0], chains))
            run = []
        if rule is not None:
            if shape is None:
                yield rule
            else:
                run.append((rule, shape))


def _apply_fused(doc: Any, step: _Fused, outcome: Outcome) -> Any:
    done = 0
    counts = step.group.apply(doc, step.masks, remove=REMOVE)
    for rule, changed in zip(step.rules, counts, strict=False):  # counts may stop short
        if changed:
            outcome.masked[(rule.route, rule.mask.name)] += changed
            outcome.fired[(rule.route, rule.path, rule.mask.name)] += changed
        done += 1
    # The group stopped before a rule that would change the document's structure (replace or
    # remove a container, or write one): that rule and the ones after it apply one at a time.
    for rule in step.rules[done:]:
        doc = apply_rule(doc, rule, outcome)
    return doc


def count_revealed(doc: Any, view_rules: tuple[MaskRule, ...]) -> int:
    """How many non-null values the rules select: what an unmasked role was shown (audit)."""
    return sum(1 for rule in view_rules for value in rule.selector.find(doc) if value is not None)


def mask_document(
    document: Any, mask_json: Callable[[Any], Any], mask_text: Callable[[str], Any]
) -> Any:
    """A JSON document through the route's rules; a bare JSON string or number is chat text."""
    if isinstance(document, str):
        return mask_text(document)
    if isinstance(document, int | float) and not isinstance(document, bool):
        masked = mask_text(str(document))
        return document if masked == str(document) else masked
    return mask_json(document)
