"""A rule source's routes compiled (SPEC 3): the masks' context (default region, attributes, hash
key), each route's response and header rules, its stamps and its own sentinel settings, and the
top-level sentinel and known-values settings. Called by
`gateway.rules_plan.compile_plan`, which gathers every error with its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import ConfigError, ConfigErrors, KeyPath
from gateway.identity import IdentityResolver
from gateway.identity.stamp import compile_stamps
from gateway.jsonpath_plan import compile_selector
from gateway.masks import MaskContext, compile_mask
from gateway.masks.attributes import DEFAULT_KEY, PATTERN_PREFIX, compile_pattern
from gateway.masks.text import text_masker, text_regions
from gateway.route_match import compile_template
from gateway.route_view import HeaderRule, MaskRule, Route
from gateway.sentinel import ACTIONS, ResidualPlan, SentinelSettings, allowed_values


def mask_context(data: Mapping[str, Any], environ: Mapping[str, str]) -> MaskContext:
    omnichannel = data.get("omnichannel") or {}
    region = omnichannel.get("default_region", "US")
    regions = tuple(omnichannel.get("text_regions", ()))
    attributes = dict(data.get("attributes", {}))
    for key in attributes:  # checked here too, so a pack without attributes rules still says so
        if key != DEFAULT_KEY and key.startswith(PATTERN_PREFIX):
            compile_pattern(key, ("attributes", key))
    hash_env = (data.get("secrets") or {}).get("hash_key_env")
    hash_key: bytes | None = None
    if hash_env:
        value = environ.get(hash_env)
        if value:
            hash_key = value.encode()
        elif _uses_hash(data):
            raise ConfigError(
                ("secrets", "hash_key_env"), f"environment variable {hash_env} is not set"
            )
    return MaskContext(
        default_region=region, hash_key=hash_key, attributes=attributes, text_regions=regions
    )


def _uses_hash(data: Mapping[str, Any]) -> bool:
    def is_hash(spec: Any) -> bool:
        return spec == "hash" or (isinstance(spec, Mapping) and spec.get("type") == "hash")

    if any(is_hash(m) for m in data.get("attributes", {}).values()):
        return True
    return any(
        is_hash(rule.get("mask"))
        for route in data.get("routes", [])
        for rule in (*route.get("response", []), *route.get("headers", []))
    )


def residual_plan(data: Mapping[str, Any], ctx: MaskContext) -> ResidualPlan:
    """Top-level `sentinel:` and `known_values:` (SPEC 3.9), compiled once."""
    spec = data.get("sentinel") or {}
    masker = text_masker(ctx.default_region.upper(), text_regions(ctx))
    protect = tuple(
        compile_template(path, None, ("sentinel", "protect", i))
        for i, path in enumerate(spec.get("protect", ()))
    )
    return ResidualPlan(
        settings=sentinel_settings(spec, ("sentinel",), ctx),
        known_values=bool(data.get("known_values", True)),
        detector=masker.detector,
        protect=protect,
    )


def sentinel_settings(spec: Mapping[str, Any], key: KeyPath, ctx: MaskContext) -> SentinelSettings:
    action = spec.get("action", "mask")
    if action not in ACTIONS:
        raise ConfigError((*key, "action"), f"sentinel action must be one of {', '.join(ACTIONS)}")
    return SentinelSettings(
        action=action,
        allow=allowed_values(spec.get("allow", ()), ctx.default_region.upper()),
        ignore=tuple(
            compile_selector(path, (*key, "ignore", i))
            for i, path in enumerate(spec.get("ignore", ()))
        ),
    )


def compile_rule(
    route: str,
    rule: Mapping[str, Any],
    key: KeyPath,
    ctx: MaskContext,
    roles: Mapping[str, bool],
) -> MaskRule:
    listed = rule.get("roles")
    for j, role in enumerate(listed or []):
        if role not in roles:
            raise ConfigError((*key, "roles", j), f"unknown role {role!r}")
    if listed and not any(roles[role] for role in listed):
        raise ConfigError(
            (*key, "roles"), "lists only roles with masking: false, so it would never apply"
        )
    return MaskRule(
        route=route,
        path=rule["path"],
        selector=compile_selector(rule["path"], (*key, "path")),
        mask=compile_mask(rule["mask"], ctx, (*key, "mask")),
        roles=frozenset(listed) if listed is not None else None,
    )


def compile_route(
    spec: Mapping[str, Any],
    index: int,
    ctx: MaskContext,
    resolver: IdentityResolver | None,
    roles: Mapping[str, bool],
    seen: dict[str, int],
    inherited: Mapping[str, Any] | None = None,
    mode: str = "enforce",
) -> Route:
    key: KeyPath = ("routes", index)
    name = spec["name"]
    if name in seen:
        raise ConfigError(
            (*key, "name"), f"route name {name!r} is already used by routes[{seen[name]}]"
        )
    seen[name] = index
    match = spec["match"]
    template = compile_template(match["path"], match.get("method"), (*key, "match"))
    rules: list[MaskRule] = []
    problems: list[ConfigError] = []
    for i, rule in enumerate(spec.get("response", [])):
        try:
            rules.append(compile_rule(name, rule, (*key, "response", i), ctx, roles))
        except ConfigError as exc:
            problems.append(exc)
    headers: list[HeaderRule] = []
    for i, rule in enumerate(spec.get("headers", [])):
        try:
            headers.append(_compile_header(rule, (*key, "headers", i), ctx, headers))
        except ConfigError as exc:
            problems.append(exc)
    if problems:
        raise ConfigErrors(problems)
    stamper = None
    if spec.get("stamp"):
        if resolver is None:
            raise ConfigError((*key, "stamp"), "stamp rules need an omnichannel: section")
        stamper = compile_stamps(spec["stamp"], (*key, "stamp"), resolver)
    own_sentinel = spec.get("sentinel")
    return Route(
        name=name,
        template=template,
        rules=tuple(rules),
        stamper=stamper,
        non_json_pass=spec.get("non_json", "fail") == "pass",
        write_guard=spec.get("write_guard", "reject"),
        binary_pass=spec.get("binary", "drop") == "pass",
        headers=tuple(headers),
        shadow=spec.get("mode", mode) == "shadow",
        sentinel=None
        if own_sentinel is None
        else sentinel_settings({**(inherited or {}), **own_sentinel}, (*key, "sentinel"), ctx),
        known_values=spec.get("known_values"),
    )


def _compile_header(
    rule: Mapping[str, Any], key: KeyPath, ctx: MaskContext, earlier: list[HeaderRule]
) -> HeaderRule:
    """A `headers:` entry; header names compare case-insensitively, so each is listed once."""
    name = str(rule["name"]).lower()
    if any(header.name == name for header in earlier):
        raise ConfigError((*key, "name"), f"header {rule['name']!r} is listed twice in this route")
    return HeaderRule(name=name, mask=compile_mask(rule["mask"], ctx, (*key, "mask")))
