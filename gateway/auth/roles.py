"""Roles: the `roles:` table in privilege order, `default_role`, and reading a role from claims.

- `role_claim` (default `role`) is a dotted path such as `realm_access.roles`; a claim whose full
  name is a top-level key is used as is first, so namespaced claims like
  `https://example.com/roles` work too.
- A string value names one role; a list picks the first role of `roles:` (most privileged first)
  that it holds. Unknown, absent, or non-string values give `default_role`.
- `masking` defaults to true when a role omits it (fail closed).
- `default_role` must exist and have masking on. A rule set with no roles and no default_role
  gives every request the built-in role `anonymous` with masking on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import ConfigError

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class RoleTable:
    order: tuple[str, ...]  # most privileged first
    masking: Mapping[str, bool]
    default: str

    @classmethod
    def compile(
        cls, roles: Mapping[str, Mapping[str, Any]] | None, default_role: str | None
    ) -> RoleTable:
        roles = roles or {}
        if not isinstance(roles, Mapping):
            raise ConfigError(("roles",), "roles must be a mapping of role name to settings")
        masking = {name: _masking(name, spec) for name, spec in roles.items()}
        if default_role is None:
            if masking:
                raise ConfigError(
                    ("default_role",),
                    "default_role is required: it is the role of requests without a token "
                    "or without a known role",
                )
            return cls(order=(), masking={ANONYMOUS: True}, default=ANONYMOUS)
        if default_role not in masking:
            raise ConfigError(
                ("default_role",), f"default_role {default_role!r} is not a role in roles"
            )
        if not masking[default_role]:
            # SECURITY: anonymous and unrecognised callers must never see clear data.
            raise ConfigError(
                ("default_role",),
                f"default_role {default_role!r} must be a role with masking: true",
            )
        return cls(order=tuple(masking), masking=masking, default=default_role)

    def role_from(self, value: Any) -> str:
        """The role a role-claim value grants."""
        if isinstance(value, str):
            return value if value in self.order else self.default
        if isinstance(value, list | tuple):
            held = {item for item in value if isinstance(item, str)}
            for name in self.order:
                if name in held:
                    return name
        return self.default


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted claim path, or None."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _masking(name: Any, spec: Any) -> bool:
    if not isinstance(name, str) or not name:
        raise ConfigError(("roles",), "role names must be non-empty strings")
    if spec is None:
        return True
    if not isinstance(spec, Mapping):
        raise ConfigError(("roles", name), "a role is a mapping such as { masking: true }")
    value = spec.get("masking", True)
    if not isinstance(value, bool):
        raise ConfigError(("roles", name, "masking"), "masking must be true or false")
    return value
