"""One exchange per client request: the immutable decision, a mutable tally, recorded once.

`web_proxy.handle` creates the `Exchange` first thing; the stages read its decision and add to
its tally instead of passing loose arguments, request keys and returned tuples around; and
`exchange_record.record` writes the access line, every metric and the audit event from it,
exactly once, however the exchange ended (answered, failed, cancelled by a client that left).

Two decisions, no stand-in values: an `ApiRequest` (authenticated caller, route policy) or a
`WebhookDelivery` (the channel's compiled webhook; no caller, no policy).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.transform import Outcome

if TYPE_CHECKING:
    from gateway.auth import Caller
    from gateway.channels import CompiledWebhook
    from gateway.route_view import RoutePolicy
    from gateway.rules_plan import Plan


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """An API request: who calls, and what the matched routes do for that caller's role."""

    request_id: str
    plan: Plan  # the plan the request started with (a reload swaps the state's, not this one)
    path: str  # normalised; this is what goes upstream
    query: str  # raw, as the client sent it
    caller: Caller
    policy: RoutePolicy

    @property
    def route_label(self) -> str:
        return self.policy.route_label

    @property
    def role(self) -> str:
        return self.caller.role


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """A channel webhook: verified, stamped and re-signed by the channel's adapter (SPEC 5)."""

    request_id: str
    plan: Plan
    path: str
    query: str
    hook: CompiledWebhook

    @property
    def route_label(self) -> str:
        return f"webhook:{self.hook.channel.name}"

    @property
    def role(self) -> str:
        return "-"


Decision = ApiRequest | WebhookDelivery


@dataclass(slots=True)
class Tally:
    """What happened during the exchange: everything the record step reports."""

    outcome: Outcome = field(default_factory=Outcome)  # values masked per (route, mask), stamps
    revealed: int | None = None  # audit: values an unmasked role was shown in clear
    upstream_seconds: float | None = None  # time to the upstream's response headers
    fail_closed: str | None = None  # the fail-closed reason, when masking could not be done
    token_failure: str | None = None  # why a token was refused
    stream_items: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, action)
    stream_closed: str | None = None  # why the gateway closed a masked stream
    webhook_outcome: str | None = None  # stamped / no_identity / bad_signature / too_large
    webhook_stamped: tuple[str, ...] = ()  # identity kinds stamped on a webhook
    # SEAM: sentinel findings (SPEC 3.9) and shadow-mode verdicts (SPEC 3.11) are added here.


class Exchange:
    """One client request from arrival to record. `decision` is None until it is made (and
    stays None for a request refused before: a bad target, a bad token)."""

    __slots__ = ("decision", "recorded", "request", "request_id", "started", "status", "tally")

    def __init__(self, request: web.Request, request_id: str) -> None:
        self.request = request
        self.request_id = request_id
        self.started = time.perf_counter()
        self.decision: Decision | None = None
        self.tally = Tally()
        self.status: int | None = None  # what the client was answered (101 for a WebSocket)
        self.recorded = False

    @property
    def api(self) -> ApiRequest:
        """The API decision (stages that only run for API requests read it through this)."""
        decision = self.decision
        assert isinstance(decision, ApiRequest), "an API stage ran without an API decision"
        return decision
