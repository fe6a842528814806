"""Rule source -> compiled, immutable plan. Everything that can be done once happens here.

A plan is swapped as a whole on reload; a request keeps the plan it started with.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from gateway.auth import Authenticator, Caller
from gateway.channels import CompiledWebhook, compile_webhook
from gateway.errors import ConfigError, ConfigErrors, GatewayError
from gateway.header_rules import builtin_header_rules
from gateway.http_path import normalise_path
from gateway.identity import IdentityResolver
from gateway.masks import Mask, MaskContext, compile_mask
from gateway.path_memo import MEMO_CHARS
from gateway.route_match import PathTemplate, compile_template
from gateway.route_view import (
    PASS_POLICY,
    HeaderRule,
    Route,
    RoutePolicy,
    build_policy,
    protected_policy,
)
from gateway.rules_routes import compile_route, mask_context, residual_plan
from gateway.rules_source import RuleLoadError, RuleSource, load_rules
from gateway.sentinel import ResidualPlan

T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    source: RuleSource
    auth: Authenticator
    roles: Mapping[str, bool]
    routes: tuple[Route, ...]
    webhooks: Mapping[str, CompiledWebhook]
    resolver: IdentityResolver | None
    text_mask: Mask
    tests: tuple[Mapping[str, Any], ...]
    residual: ResidualPlan | None = None  # known values and the sentinel (SPEC 3.9)
    header_rules: tuple[HeaderRule, ...] = ()  # the built-in header rules (SPEC 3.10)
    loaded_at: float = field(default_factory=time.time)
    mode: str = "enforce"  # the top-level `mode:` (SPEC 3.11); routes may set their own

    def __post_init__(self) -> None:
        remembered = lru_cache(maxsize=4096)(self._match_uncached)
        uncached = self._match_uncached

        def match(method: str | None, path: str) -> tuple[Route, ...]:
            # SECURITY: long client-chosen paths are matched anew, never kept (bounded in bytes)
            return remembered(method, path) if len(path) <= MEMO_CHARS else uncached(method, path)

        object.__setattr__(self, "_match", match)
        templates = tuple(
            (compile_template(path, None), hook) for path, hook in self.webhooks.items()
        )
        object.__setattr__(self, "_webhook_templates", templates)
        object.__setattr__(self, "_policies", {})

    def webhook_for(self, path: str) -> CompiledWebhook | None:
        exact = self.webhooks.get(path.rstrip("/") or "/")
        if exact is not None or not self.webhooks:
            return exact
        # SECURITY: the aliases an upstream answers for a webhook path (case, `;params`,
        # `.json`) are webhook deliveries too: they must never reach it unverified.
        templates: tuple[tuple[PathTemplate, CompiledWebhook], ...]
        templates = self._webhook_templates  # type: ignore[attr-defined]
        for template, hook in templates:
            if template.matches(None, path):
                return hook
        return None

    def policy(self, method: str, path: str, caller: Caller) -> RoutePolicy:
        """The route policy for a request (SPEC 3.2: every route on the path protects it,
        whatever its `match.method`; the method narrows only which routes stamp)."""
        matched: tuple[Route, ...] = self._match(None, path)  # type: ignore[attr-defined]
        if not matched:
            residual = self.residual
            if (
                caller.masking
                and residual is not None
                and residual.protect
                and residual.protects(path)
            ):
                return self._protected(caller.role)
            return PASS_POLICY
        stamping: tuple[Route, ...] = self._match(method, path)  # type: ignore[attr-defined]
        # Policies depend only on the matched routes and the role: built once, then reused. The
        # key holds route ids; the entry holds the routes, so no id is reused while cached.
        policies: dict[tuple[Any, ...], tuple[tuple[Route, ...], RoutePolicy]]
        policies = self._policies  # type: ignore[attr-defined]
        key = (*map(id, matched), len(stamping), *map(id, stamping), caller.role, caller.masking)
        cached = policies.get(key)
        if cached is not None:
            return cached[1]
        policy = build_policy(
            matched,
            caller.role,
            caller.masking,
            self.text_mask,
            stamping,
            self.residual,
            self.header_rules,
        )
        if len(policies) >= 4096:
            policies.clear()
        policies[key] = (matched + stamping, policy)
        return policy

    def first_template(self, path: str) -> str | None:
        """The template of the first route (in file order) matching `path`: the access log's
        path (SPEC 3.10)."""
        matched: tuple[Route, ...] = self._match(None, path)  # type: ignore[attr-defined]
        return matched[0].template.template if matched else None

    def _protected(self, role: str) -> RoutePolicy:
        policies: dict[tuple[Any, ...], tuple[tuple[Route, ...], RoutePolicy]]
        policies = self._policies  # type: ignore[attr-defined]
        key = ("protect", role)
        cached = policies.get(key)
        if cached is None:
            assert self.residual is not None
            cached = ((), protected_policy(self.residual, role, self.text_mask))
            policies[key] = cached
        return cached[1]

    def _match_uncached(self, method: str | None, path: str) -> tuple[Route, ...]:
        return tuple(r for r in self.routes if r.template.matches(method, path))


def load_plan(path: str | Path, environ: Mapping[str, str] = os.environ) -> Plan:
    """Load, validate and compile; raises RuleLoadError with every `file:line: message`."""
    return compile_plan(load_rules(path), environ)


def compile_plan(source: RuleSource, environ: Mapping[str, str] = os.environ) -> Plan:
    data = source.data
    errors: list[str] = []

    def attempt(build: Callable[..., T], *args: Any) -> T | None:
        try:
            return build(*args)
        except ConfigError as exc:
            errors.append(source.format_error(exc))
        except ConfigErrors as group:
            errors.extend(source.format_error(exc) for exc in group.errors)
        return None

    roles = {name: bool(spec.get("masking", True)) for name, spec in data.get("roles", {}).items()}
    mode = data.get("mode", "enforce")
    auth = attempt(
        lambda: Authenticator.compile(
            data.get("auth"), data.get("roles", {}), data.get("default_role"), environ
        )
    )
    resolver = attempt(lambda: IdentityResolver.compile(data.get("omnichannel"), environ))
    ctx = attempt(lambda: mask_context(data, environ))
    routes: list[Route] = []
    webhooks: dict[str, CompiledWebhook] = {}
    if ctx is not None:
        seen: dict[str, int] = {}
        # A route's `sentinel:` keys override the top level's; the rest are inherited.
        inherited = {k: v for k, v in (data.get("sentinel") or {}).items() if k != "protect"}
        for index, spec in enumerate(data.get("routes", [])):
            route = attempt(compile_route, spec, index, ctx, resolver, roles, seen, inherited, mode)
            if route is not None:
                routes.append(route)
    for index, spec in enumerate(data.get("webhooks", [])):
        hook = attempt(compile_webhook, spec, index, resolver, environ)
        if hook is not None:
            key = hook.path.rstrip("/") or "/"
            problem = _webhook_path_problem(hook.path) or _webhook_conflict(key, webhooks, routes)
            if problem:
                errors.append(
                    source.format_error(ConfigError(("webhooks", index, "path"), problem))
                )
            webhooks[key] = hook
    text_mask = attempt(
        compile_mask, "text", ctx or MaskContext(), ("omnichannel", "default_region")
    )
    residual = None
    header_rules: tuple[HeaderRule, ...] = ()
    if ctx is not None and text_mask is not None:
        residual = attempt(residual_plan, data, ctx)
        header_rules = attempt(builtin_header_rules, ctx) or ()
    if errors or auth is None or text_mask is None:
        raise RuleLoadError(errors)
    return Plan(
        source=source,
        auth=auth,
        roles=roles,
        routes=tuple(routes),
        webhooks=webhooks,
        resolver=resolver,
        text_mask=text_mask,
        tests=tuple(data.get("tests", [])),
        mode=mode,
        residual=residual,
        header_rules=header_rules,
    )


def _webhook_path_problem(path: str) -> str | None:
    """Request paths are normalised before matching: a path written otherwise would never match."""
    if "?" in path or "#" in path or not path.startswith("/"):
        return f"webhook path {path!r} must be a plain absolute path (no query or fragment)"
    try:
        canonical = normalise_path(path)
    except GatewayError:
        canonical = ""
    if canonical != path:
        return (
            f"webhook path {path!r} is not in canonical form; write {canonical or 'it plainly'!r}"
        )
    return None


def _webhook_conflict(
    path: str, webhooks: Mapping[str, CompiledWebhook], routes: list[Route]
) -> str | None:
    if path in webhooks:
        return f"duplicate webhook path {path}"
    for route in routes:
        if route.rules and route.template.matches(None, path):
            # SECURITY: webhook paths need no token; they must never serve a masked route.
            return f"also matched by route {route.name!r}, which has response rules"
    return None
