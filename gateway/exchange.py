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
from typing import TYPE_CHECKING, NamedTuple

from aiohttp import web

from gateway.transform import Outcome

if TYPE_CHECKING:
    from gateway.auth import Caller
    from gateway.channels import CompiledWebhook
    from gateway.route_view import RoutePolicy
    from gateway.rules_plan import Plan
    from gateway.web_state import GatewayState


class ApiRequest(NamedTuple):
    """An API request: who calls, and what the matched routes do for that caller's role.

    (Immutable as a named tuple: made once per request, at a third of a frozen dataclass's cost.)
    """

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


class WebhookDelivery(NamedTuple):
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


class Tally:
    """What happened during the exchange: everything the record step reports.

    The counters are made on first use: most exchanges (pass-through) never touch them.
    """

    __slots__ = (
        "_outcome",
        "_stream_items",
        "fail_closed",
        "revealed",
        "stream_closed",
        "token_failure",
        "upstream_seconds",
        "webhook_outcome",
        "webhook_stamped",
    )

    def __init__(self) -> None:
        self._outcome: Outcome | None = None
        self._stream_items: Counter[tuple[str, str]] | None = None
        self.revealed: int | None = None  # audit: values an unmasked role was shown in clear
        self.upstream_seconds: float | None = None  # time to the upstream's response head
        self.fail_closed: str | None = None  # the fail-closed reason, when masking failed
        self.token_failure: str | None = None  # why a token was refused
        self.stream_closed: str | None = None  # why the gateway closed a masked stream
        self.webhook_outcome: str | None = None  # stamped / no_identity / bad_signature / ...
        self.webhook_stamped: tuple[str, ...] = ()  # identity kinds stamped on a webhook
        # SEAM: sentinel findings (SPEC 3.9) and shadow-mode verdicts (SPEC 3.11) go here.

    @property
    def outcome(self) -> Outcome:
        """Values masked per (route, mask) and stamps: what the masker adds to."""
        if self._outcome is None:
            self._outcome = Outcome()
        return self._outcome

    @property
    def stream_items(self) -> Counter[tuple[str, str]]:
        """SSE events and WebSocket frames by (kind, action) on masked routes."""
        if self._stream_items is None:
            self._stream_items = Counter()
        return self._stream_items

    def counted(self) -> tuple[Outcome | None, Counter[tuple[str, str]] | None]:
        """The counters, None where nothing was counted (for the record step)."""
        return self._outcome, self._stream_items


class Exchange:
    """One client request from arrival to record. `decision` is None until it is made (and
    stays None for a request refused before: a bad target, a bad token)."""

    __slots__ = (
        "decision",
        "recorded",
        "request",
        "request_id",
        "started",
        "state",
        "status",
        "tally",
    )

    def __init__(
        self, request: web.Request, request_id: str, state: GatewayState | None = None
    ) -> None:
        self.request = request
        self.request_id = request_id
        # the app's state, when the handler has it (`request.app` needs aiohttp's router)
        self.state = state
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
