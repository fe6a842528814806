"""The ids stamped during one webhook delivery, and the result they make (SPEC 5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from gateway.channels.contract import (
    NO_IDENTITY,
    STAMPED,
    STAMPED_HEADER_ONLY,
    WebhookRequest,
    WebhookResult,
    unchanged,
)
from gateway.identity.omni_id import IdentityResolver, Resolved


class StampLedger:
    """Collects stamped ids in order of first appearance while an adapter walks a payload."""

    def __init__(self, resolver: IdentityResolver) -> None:
        self.resolver = resolver
        self._kinds: dict[str, str] = {}  # id -> kind; dicts keep insertion order
        self.body_changed = False

    def __bool__(self) -> bool:
        return bool(self._kinds)

    def resolve(
        self,
        *,
        phone: Any = None,
        email: Any = None,
        international: bool = False,
        learn: bool = False,
    ) -> Resolved | None:
        """The sender's id; `learn`: a payload naming both identities of one person teaches a
        link (generic webhooks, SPEC 4.1)."""
        source = "webhooks" if learn else None
        return self.resolver.resolve(phone, email, international=international, learn=source)

    def record(self, resolved: Resolved) -> None:
        """Count an id for the stamp header without writing it into the body."""
        self._kinds.setdefault(resolved.id, resolved.kind)

    def stamp(self, target: dict[str, Any], resolved: Resolved) -> None:
        """Write the id into a JSON object of the payload (and count it)."""
        target[self.resolver.field] = resolved.id
        self.record(resolved)
        self.body_changed = True

    def result(
        self, req: WebhookRequest, body: bytes, signed: Mapping[str, str] | None = None
    ) -> WebhookResult:
        """The result for forwarding `body`; `req.body` itself means the body was left alone."""
        if not self._kinds:
            if body is req.body:
                return unchanged(req, NO_IDENTITY)
            # A stamp field from outside was removed: the cleaned body goes on (SPEC 5).
            cleaned = CIMultiDictProxy(CIMultiDict(signed or {}))
            return WebhookResult(body=body, set_headers=cleaned, outcome=NO_IDENTITY)
        headers = CIMultiDict({self.resolver.header: ",".join(self._kinds)})
        if signed:
            headers.update(signed)
        return WebhookResult(
            body=body,
            set_headers=CIMultiDictProxy(headers),  # case-insensitive, like the request's
            ids=tuple(self._kinds),
            kinds=tuple(self._kinds.values()),
            outcome=STAMPED_HEADER_ONLY if body is req.body else STAMPED,
        )
