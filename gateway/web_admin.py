"""The admin listener (SPEC 6): health, readiness, metrics and the loaded rules.

These paths exist only here; on the client listener every path is proxied.
"""

from __future__ import annotations

import time

import orjson
from aiohttp import web

from gateway.metrics import render_metrics
from gateway.web_state import STATE, GatewayState


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[STATE].plan is None:
        return _json({"status": "not ready", "reason": "rules are not loaded"}, status=503)
    return _json({"status": "ready"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    body, content_type = render_metrics()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


async def rules(request: web.Request) -> web.Response:
    state = request.app[STATE]
    plan = state.plan
    if plan is None:
        return _json({"loaded": False, "errors": state.reload_errors}, status=503)
    return _json(
        {
            "loaded": True,
            "version": plan.source.digest,
            "files": list(plan.source.files),
            "routes": len(plan.routes),
            "webhooks": len(plan.webhooks),
            "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(plan.loaded_at)),
            "last_reload_errors": state.reload_errors,
        }
    )


def build_admin_app(state: GatewayState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/rules", rules)
    return app
