"""Where recorded documents hold PII, and whether the rules mask it (`omnigate discover`).

Each string (and number under a telling key) of each document is read by the text detector
(SPEC 3.3) and by field-name hints (`field_hints`: `*name*`, `*phone*`, `*email*`, ...). Coverage is
measured, not guessed from selectors: the document goes through the route policy's
`DocumentMasker` for every role with masking on, exactly as the gateway would serve it, and a
value counts as covered only when none of its PII is left in any role's copy (a filter, a
`roles:` list or a post-rule step is then judged by what it does).

PII: the survey keeps counts, kinds and JSONPath patterns, never values.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.auth import Caller
from gateway.detect import Detector
from gateway.discover.field_hints import BARE_NUMBER, Step, hint_of, is_staff, skipped
from gateway.discover.traffic import Recorded
from gateway.masked_values import masked
from gateway.rules_plan import Plan
from gateway.transform import TransformFailed

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ID_SEGMENT = re.compile(r"\d+\Z|[0-9a-fA-F-]{16,}\Z|(?=.*\d)[A-Za-z0-9_.-]{6,}\Z")


@dataclass
class PathStat:
    """One JSONPath pattern of one route: what was found there, over every document."""

    kinds: set[str] = field(default_factory=set)
    values: int = 0
    uncovered: int = 0
    seen_by: set[str] = field(default_factory=set)  # roles shown a value in clear
    inside_text: bool = False  # some PII was part of a longer string (free text)

    @property
    def covered(self) -> bool:
        return self.uncovered == 0


@dataclass
class RouteStat:
    label: str  # the route's name, or the folded path when no route matches
    template: str  # the route's template, or the folded path
    known: bool  # a route of the rules matched
    paths: dict[str, PathStat] = field(default_factory=dict)


@dataclass(frozen=True)
class _Leaf:
    steps: tuple[Step, ...]
    value: Any
    kinds: frozenset[str]
    pieces: tuple[str, ...]  # what must not survive masking
    inside_text: bool


class Survey:
    """Accumulates the PII paths of recorded documents, per route."""

    def __init__(self, plan: Plan | None, detector: Detector) -> None:
        self.plan = plan
        self.detector = detector
        self.routes: dict[str, RouteStat] = {}
        self.documents = 0

    def add(self, record: Recorded) -> None:
        self.documents += 1
        route = self._route_of(record.path)
        leaves = list(self._leaves(record.body, ()))
        if not leaves:
            return
        views = self._masked_views(record)
        for leaf in leaves:
            # PII: a key that holds PII itself (a map keyed by address) is never printed.
            shown = tuple(
                "*" if isinstance(s, str) and ("@" in s or self.detector.find(s)) else s
                for s in leaf.steps
            )
            stat = route.paths.setdefault(pattern_of(shown), PathStat())
            stat.kinds |= leaf.kinds
            stat.values += 1
            stat.inside_text |= leaf.inside_text
            seen = [role for role, view in views.items() if _survives(leaf, view)]
            if seen:
                stat.uncovered += 1
                stat.seen_by.update(seen)

    def _route_of(self, path: str) -> RouteStat:
        plan = self.plan
        matched = [r for r in plan.routes if r.template.matches(None, path)] if plan else []
        if matched:
            route = next((r for r in matched if r.rules), matched[0])
            label, template, known = route.name, route.template.template, True
        else:
            label = template = self.folded(path)
            known = False
        return self.routes.setdefault(label, RouteStat(label, template, known))

    def folded(self, path: str) -> str:
        """`path` with id-like segments (and any holding PII) as `{id}`: never a value."""
        segments = path.rstrip("/").split("/")
        out = [
            "{id}"
            if seg and (_ID_SEGMENT.match(seg) or self.detector.find(seg) or "@" in seg)
            else seg
            for seg in segments
        ]
        return "/".join(out) or "/"

    def _masked_views(self, record: Recorded) -> dict[str, Any]:
        """The document as each role with masking on receives it (`_MISSING` when it fails
        closed: nothing of it is sent)."""
        plan = self.plan
        if plan is None:
            return {"(no rules)": record.body}
        views: dict[str, Any] = {}
        for role, masking in plan.roles.items():
            if not masking:
                continue
            caller = Caller(role=role, masking=True, sub=None, token_present=True)
            policy = plan.policy(record.method, record.path, caller)
            if not policy.masking:
                views[role] = record.body
                continue
            try:
                views[role] = policy.masker.mask(copy.deepcopy(record.body)).document
            except TransformFailed:
                views[role] = _MISSING  # fails closed: the role is sent nothing
        return views

    def _leaves(self, node: Any, steps: tuple[Step, ...]) -> Iterator[_Leaf]:
        if isinstance(node, dict):
            if is_staff(node):
                return  # an agent or a bot (`"type": "user"`, `"role": "agent"`), not a customer
            for key, value in node.items():
                if skipped(node, str(key)):
                    continue
                yield from self._leaves(value, (*steps, str(key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from self._leaves(value, (*steps, index))
        elif isinstance(node, str):
            nested = _json_in(node)
            if nested is not None:  # JSON nested as text: selectors descend into it too
                yield from self._leaves(nested, steps)
                return
            leaf = self._leaf(steps, node, node)
            if leaf is not None:
                yield leaf
        elif isinstance(node, int | float) and not isinstance(node, bool):
            hint = hint_of(steps)
            if hint not in (None, "name"):  # a number is PII only where its key says so
                yield _Leaf(steps, node, frozenset({hint}), (str(node),), False)

    def _leaf(self, steps: tuple[Step, ...], value: Any, text: str) -> _Leaf | None:
        if not text.strip() or masked(text.strip()):
            return None  # empty, or already a mask output (a HAR of a masked session)
        kinds: set[str] = set()
        pieces: list[str] = []
        inside = False
        for finding in self.detector.find(text):
            kinds.add(finding.kind)
            pieces.append(text[finding.start : finding.end])
            inside |= text[: finding.start].strip() != "" or text[finding.end :].strip() != ""
        if not kinds and BARE_NUMBER.fullmatch(text.strip()) and self.detector.find("+" + text):
            kinds.add("phone")
            pieces.append(text.strip())
        hint = hint_of(steps)
        if hint is not None and not (kinds and hint == "name"):
            kinds.add(hint)
            pieces.append(text.strip())
        if not kinds:
            return None
        return _Leaf(steps, value, frozenset(kinds), tuple(pieces), inside)


_MISSING = object()


def _json_in(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        nested = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    return nested if isinstance(nested, dict | list) else None


def _survives(leaf: _Leaf, view: Any) -> bool:
    """Whether any PII of `leaf` is still readable at its place in `view`."""
    node = view
    for step in leaf.steps:
        if isinstance(node, str):
            node = _json_in(node)
        node = _child(node, step)
        if node is _MISSING:
            return False  # removed (or the role was sent nothing)
    if isinstance(node, str):
        return any(piece in node for piece in leaf.pieces)
    return bool(node == leaf.value)


def _child(node: Any, step: Step) -> Any:
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step, _MISSING)
    return _MISSING


def pattern_of(steps: tuple[Step, ...]) -> str:
    """The JSONPath of `steps`, arrays folded to `[*]`."""
    out = ["$"]
    for step in steps:
        if isinstance(step, int):
            out.append("[*]")
        elif step == "*":
            out.append(".*")
        elif _IDENTIFIER.match(step):
            out.append(f".{step}")
        else:
            out.append("['" + step.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)
