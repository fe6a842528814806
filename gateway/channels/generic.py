"""Any JSON webhook, described in the rules (SPEC 5).

```yaml
- channel: generic
  path: /hooks/crm
  identity: { phone: "$.customer.mobile", email: "$.customer.email" }
  stamp_at: "$.customer"
```

The first value each `identity` path selects is the candidate (phones parsed with
`default_region`); the id is written into every object `stamp_at` selects. Without `stamp_at`,
or when it selects no object, only the header is stamped and the bytes go on untouched.
Generic webhooks have no signature scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.channels.contract import (
    PASSTHROUGH,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    is_handshake,
    unchanged,
)
from gateway.channels.json_body import json_delivery
from gateway.channels.ledger import StampLedger
from gateway.channels.signature import UNSIGNED
from gateway.errors import ConfigError
from gateway.jsonpath_plan import Selector, compile_selector


class GenericChannel:
    name = "generic"

    def __init__(self, cfg: ChannelSpec) -> None:
        self._resolver = cfg.resolver
        identity = cfg.spec.get("identity")
        key = (*cfg.key_path, "identity")
        if not isinstance(identity, Mapping) or not ({"phone", "email"} & identity.keys()):
            raise ConfigError(key, "a generic webhook needs identity.phone or identity.email")
        self._phone = _selector(identity, "phone", key)
        self._email = _selector(identity, "email", key)
        self._stamp_at = _selector(cfg.spec, "stamp_at", cfg.key_path)

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req):
            return unchanged(req, PASSTHROUGH)
        return json_delivery(req, self._resolver, UNSIGNED, self._stamp)

    def _stamp(self, doc: Any, ledger: StampLedger) -> None:
        # PII: the clear values are read only to derive the id.
        resolved = ledger.resolve(
            phone=_first(self._phone, doc), email=_first(self._email, doc), learn=True
        )
        if resolved is None:
            return
        ledger.record(resolved)
        targets = self._stamp_at.find(doc) if self._stamp_at is not None else []
        for target in targets:
            if isinstance(target, dict):
                ledger.stamp(target, resolved)


def _selector(spec: Mapping[str, Any], name: str, key: tuple[str | int, ...]) -> Selector | None:
    expr = spec.get(name)
    return None if expr is None else compile_selector(expr, (*key, name))


def _first(selector: Selector | None, doc: Any) -> Any:
    if selector is None:
        return None
    return next((value for value in selector.find(doc) if value is not None), None)
