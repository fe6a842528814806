"""What the gateway does for one request: compiled routes and the per-role policy of them.

A `RoutePolicy` is derived from the routes that match a request's path and the caller's role,
built once per (matched routes, role) and cached by the plan; the later stages read only the
policy, and mask only through its `DocumentMasker`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.document_masker import DocumentMasker
from gateway.identity.stamp import Stamper
from gateway.jsonpath_plan import Selector
from gateway.masks import Mask
from gateway.route_match import PathTemplate
from gateway.sentinel import ResidualPlan, SentinelSettings

GUARD_ORDER = {"reject": 2, "strip": 1, "off": 0}


@dataclass(frozen=True)
class MaskRule:
    route: str
    path: str
    selector: Selector
    mask: Mask
    roles: frozenset[str] | None  # None: every role whose masking toggle is on


@dataclass(frozen=True)
class HeaderRule:
    """A route's `headers:` entry (SPEC 3.10): a response header whose values get `mask`."""

    name: str  # lower-case, as compared
    mask: Mask


@dataclass(frozen=True)
class Route:
    name: str
    template: PathTemplate
    rules: tuple[MaskRule, ...]
    stamper: Stamper | None
    non_json_pass: bool
    write_guard: str
    binary_pass: bool
    headers: tuple[HeaderRule, ...] = ()  # response headers to mask, in file order
    shadow: bool = False  # `mode: shadow` (SPEC 3.11): computed and counted, never applied
    sentinel: SentinelSettings | None = None  # the route's own `sentinel:` (SPEC 3.9)
    known_values: bool | None = None  # the route's own `known_values:`; None: the top level's


@dataclass(frozen=True)
class RoutePolicy:
    """What the gateway does for one (matched routes, role): masking, fail closed, guard."""

    route_label: str
    rules: tuple[MaskRule, ...]  # the mask rules that apply to this role
    revealable: tuple[MaskRule, ...]  # for a role with masking off: what it is shown in clear
    stampers: tuple[Stamper, ...]
    guarded: bool  # a matched route has response rules: cache headers, audit, fail closed
    masking: bool  # guarded and the role's masking toggle is on
    non_json_pass: bool
    write_guard: str  # decided here, at load: the strictest of the guarded routes (SPEC 3.5)
    binary_pass: bool
    masker: DocumentMasker
    # SPEC 3.11: every matched route is in shadow (one enforcing route on the path enforces).
    shadow: bool = False
    headers: tuple[HeaderRule, ...] = ()  # the matched routes' `headers:` (masked roles only)
    protected: bool = False  # no route matched, but `sentinel.protect` does (SPEC 3.9)

    @property
    def transforms(self) -> bool:
        return self.masking or self.stampers != ()


PASS_POLICY = RoutePolicy(
    "-", (), (), (), False, False, False, "off", True, DocumentMasker((), (), (), False, None)
)


def build_policy(
    matched: tuple[Route, ...],
    role: str,
    role_masks: bool,
    text_mask: Mask | None,
    stamping: tuple[Route, ...] | None = None,
    residual: ResidualPlan | None = None,
    builtin_headers: tuple[HeaderRule, ...] = (),
) -> RoutePolicy:
    """The policy of `matched` (every route on the path, SPEC 3.2) for `role`.

    `stamping`: the matched routes whose `match.method` also admits the request's method (the
    only thing a method narrows); None: all of `matched`.
    """
    guarded_routes = [r for r in matched if r.rules]
    guarded = bool(guarded_routes)
    masking = guarded and role_masks
    every_rule = tuple(rule for route in guarded_routes for rule in route.rules)
    rules: tuple[MaskRule, ...] = ()
    if masking:
        rules = tuple(r for r in every_rule if r.roles is None or role in r.roles)
    revealable = () if masking else every_rule
    stampers = tuple(
        r.stamper for r in (matched if stamping is None else stamping) if r.stamper is not None
    )
    label = (guarded_routes or matched)[0].name
    masker_residual = None
    if masking and residual is not None:
        own = next((r.sentinel for r in matched if r.sentinel is not None), None)
        known = next((r.known_values for r in matched if r.known_values is not None), None)
        # PII: a rule for other roles only is a deliberate reveal for this one (SPEC 3.9).
        reveals = tuple(
            r.selector for r in every_rule if r.roles is not None and role not in r.roles
        )
        masker_residual = residual.residual(label, own, known, reveals)
    return RoutePolicy(
        route_label=label,
        rules=rules,
        revealable=revealable,
        stampers=stampers,
        guarded=guarded,
        masking=masking,
        # SECURITY: the strictest matched route wins; pass-through needs every route to allow it.
        non_json_pass=guarded and all(r.non_json_pass for r in guarded_routes),
        write_guard=max((r.write_guard for r in guarded_routes), key=GUARD_ORDER.__getitem__)
        if guarded
        else "off",
        binary_pass=all(r.binary_pass for r in guarded_routes),
        masker=DocumentMasker(
            rules, revealable, stampers, masking, text_mask, residual=masker_residual
        ),
        headers=_header_rules(matched, builtin_headers) if masking else (),
        shadow=all(r.shadow for r in (guarded_routes or matched)),
    )


def _header_rules(
    matched: tuple[Route, ...], builtin: tuple[HeaderRule, ...]
) -> tuple[HeaderRule, ...]:
    """SPEC 3.10: the matched routes' `headers:`, then the built-in rules they do not name."""
    own: dict[str, HeaderRule] = {}
    for route in matched:
        for rule in route.headers:
            own.setdefault(rule.name, rule)
    return (*own.values(), *(rule for rule in builtin if rule.name not in own))


def protected_policy(residual: ResidualPlan, role: str, text_mask: Mask | None) -> RoutePolicy:
    """A path no route matches but `sentinel.protect` names, for a masked role: JSON bodies
    are scanned by the sentinel (no rules, so no known values); everything else passes."""
    masker = DocumentMasker(
        (), (), (), True, text_mask, residual=residual.residual("-", None, False, ())
    )
    return RoutePolicy("-", (), (), (), False, True, True, "off", True, masker, protected=True)
