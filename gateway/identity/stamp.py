"""Stamping the omnichannel id into API responses (SPEC 3.7).

The transform runs the stamper *before* masking, so the ids come from the clear values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import ConfigError, KeyPath
from gateway.identity.linker import Linker, settle
from gateway.identity.omni_id import IdentityResolver
from gateway.jsonpath_plan import Selector, compile_selector


@dataclass(frozen=True)
class _StampRule:
    at: Selector
    phone: Selector | None
    email: Selector | None


class Stamper:
    """A route's compiled `stamp:` rules."""

    def __init__(self, rules: tuple[_StampRule, ...], resolver: IdentityResolver | None) -> None:
        self._rules = rules
        self._resolver = resolver

    def __bool__(self) -> bool:
        return bool(self._rules)

    @property
    def linker(self) -> Linker | None:
        linking = self._resolver.linking if self._resolver is not None else None
        return linking.linker if linking is not None else None

    def apply(self, doc: Any) -> int:
        """Write the id into every selected object that has an identity; return how many."""
        resolver = self._resolver
        if resolver is None:
            return 0
        stamped = 0
        for rule in self._rules:
            for target in rule.at.find(doc):
                if not isinstance(target, dict):
                    continue
                # A contact naming both a phone and an email teaches their link (SPEC 4.1).
                resolved = resolver.resolve(
                    phone=_first(rule.phone, target),
                    email=_first(rule.email, target),
                    learn="responses",
                )
                if resolved is not None:
                    target[resolver.field] = resolved.id
                    stamped += 1
        return stamped


async def settle_stamps(stampers: Sequence[Stamper], doc: Any) -> int:
    """Stamp `doc` with ids this process has not seen yet looked up first (one bounded round
    trip, only with linking on and only when the cache missed). Stamping is idempotent, so the
    transform may stamp the same document again afterwards: it then hits the warm cache."""
    linkers = [stamper.linker for stamper in stampers if stamper.linker is not None]
    return await settle(
        linkers[0] if linkers else None, lambda: sum(stamper.apply(doc) for stamper in stampers)
    )


def compile_stamps(
    stamp_rules: Sequence[Mapping[str, Any]] | None,
    route_key_path: KeyPath,
    resolver: IdentityResolver | None,
) -> Stamper:
    """Compile a route's `stamp:` list once at load.

    `route_key_path` locates the route (`("routes", 3)`); the key path of the `stamp` list itself
    (`("routes", 3, "stamp")`) is accepted too.
    """
    list_key = route_key_path if route_key_path[-1:] == ("stamp",) else (*route_key_path, "stamp")
    if not stamp_rules:
        return Stamper((), resolver)
    if resolver is None:
        raise ConfigError(list_key, "stamp rules need an omnichannel section")
    rules: list[_StampRule] = []
    for index, spec in enumerate(stamp_rules):
        key = (*list_key, index)
        if "at" not in spec:
            raise ConfigError(key, "a stamp rule needs `at`")
        if spec.get("phone") is None and spec.get("email") is None:
            raise ConfigError(key, "a stamp rule needs `phone` or `email`")
        rules.append(
            _StampRule(
                at=compile_selector(spec["at"], (*key, "at")),
                phone=_optional(spec, "phone", key),
                email=_optional(spec, "email", key),
            )
        )
    return Stamper(tuple(rules), resolver)


def _optional(spec: Mapping[str, Any], name: str, key: KeyPath) -> Selector | None:
    expr = spec.get(name)
    return None if expr is None else compile_selector(expr, (*key, name))


def _first(selector: Selector | None, target: Any) -> Any:
    # PII: the clear value is read only to derive the id; it is never logged or kept.
    if selector is None:
        return None
    return next((value for value in selector.find(target) if value is not None), None)
