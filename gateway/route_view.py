"""What the gateway does for one request: compiled routes and the per-role view of them.

A `View` is derived from the routes that match a request and the caller's identity; the
transform and respond stages read only the view.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.identity.stamp import Stamper
from gateway.jsonpath_plan import Selector
from gateway.masks import Mask
from gateway.route_match import PathTemplate

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


@dataclass(frozen=True)
class View:
    """What the transform stage does for one (method, path, role)."""

    route_label: str
    rules: tuple[MaskRule, ...]  # the mask rules that apply to this role
    revealable: tuple[MaskRule, ...]  # for a role with masking off: what it is shown in clear
    stampers: tuple[Stamper, ...]
    guarded: bool  # a matched route has response rules: cache headers, audit, fail closed
    masking: bool  # guarded and the role's masking toggle is on
    non_json_pass: bool
    write_guard: str
    binary_pass: bool

    @property
    def transforms(self) -> bool:
        return self.masking or self.stampers != ()


PASS_VIEW = View("-", (), (), (), False, False, False, "off", True)


def build_view(matched: tuple[Route, ...], role: str, role_masks: bool) -> View:
    guarded_routes = [r for r in matched if r.rules]
    guarded = bool(guarded_routes)
    masking = guarded and role_masks
    every_rule = tuple(rule for route in guarded_routes for rule in route.rules)
    rules: tuple[MaskRule, ...] = ()
    if masking:
        rules = tuple(r for r in every_rule if r.roles is None or role in r.roles)
    return View(
        route_label=(guarded_routes or matched)[0].name,
        rules=rules,
        revealable=() if masking else every_rule,
        stampers=tuple(r.stamper for r in matched if r.stamper is not None),
        guarded=guarded,
        masking=masking,
        # SECURITY: the strictest matched route wins; pass-through needs every route to allow it.
        non_json_pass=guarded and all(r.non_json_pass for r in guarded_routes),
        write_guard=max((r.write_guard for r in guarded_routes), key=GUARD_ORDER.__getitem__)
        if guarded
        else "off",
        binary_pass=all(r.binary_pass for r in guarded_routes),
    )
