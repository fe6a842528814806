"""Typed application state shared by the client and admin listeners (aiohttp AppKeys)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from gateway.client_upstream import Upstream
from gateway.event_log import EventLog
from gateway.rules_plan import Plan
from gateway.settings import Settings


@dataclass
class GatewayState:
    settings: Settings
    access_log: EventLog
    audit_log: EventLog
    plan: Plan | None = None  # swapped whole on reload; each request keeps the one it started with
    upstream: Upstream | None = None  # set while the client session is open (cleanup_ctx)
    reload_errors: list[str] = field(default_factory=list)


STATE = web.AppKey("omnigate_state", GatewayState)
