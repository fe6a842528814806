"""Typed application state shared by the client and admin listeners (aiohttp AppKeys)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
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
    # One thread masks large bodies beside the event loop. One, because masking is CPU-bound
    # Python: more threads would only take turns on the GIL (and fight the loop for it).
    masking_pool: ThreadPoolExecutor | None = None
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    retired: list[Plan] = field(default_factory=list)  # replaced plans, closed after the drain


STATE = web.AppKey("omnigate_state", GatewayState)
