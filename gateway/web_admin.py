"""The admin listener (SPEC 6): health, readiness, metrics, the loaded rules, and the identity-
linking store (SPEC 4.1: `GET /identities/{id}`, `POST /identities/link`, `/identities/unlink`).

These paths exist only here; on the client listener every path is proxied. The identity endpoints
change who is whom: the admin port must stay inside the cluster (the chart's NetworkPolicy).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from gateway.errors import BadRequest, GatewayError, UpstreamUnavailable
from gateway.identity.clusters import Cluster, is_omni_id
from gateway.identity.linker import Linker, StoreUnavailable, close_linkers
from gateway.metrics import render_metrics
from gateway.web_errors import render_error
from gateway.web_request import request_id_of
from gateway.web_state import STATE, GatewayState

_MAX_LINK_IDS = 100


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[STATE].plan is None:
        return _json({"status": "not ready", "reason": "rules are not loaded"}, status=503)
    return _json({"status": "ready"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    # OpenMetrics when the scraper's Accept asks for it (Prometheus does), else text 0.0.4.
    body, content_type = render_metrics(request.headers.get("Accept"))
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


async def identity_show(request: web.Request) -> web.Response:
    omni_id = request.match_info["omni_id"]
    return await _identity(request, lambda linker: linker.cluster(_checked_id(omni_id)))


async def identity_link(request: web.Request) -> web.Response:
    async def link(linker: Linker) -> Cluster:
        ids = (await _json_body(request)).get("ids")
        if not isinstance(ids, list) or len(set(map(str, ids))) < 2:
            raise BadRequest('expected {"ids": [ID, ID, ...]} with at least two different ids')
        if len(ids) > _MAX_LINK_IDS:
            raise BadRequest(f"at most {_MAX_LINK_IDS} ids can be linked at once")
        return await linker.link([_checked_id(omni_id) for omni_id in ids])

    return await _identity(request, link)


async def identity_unlink(request: web.Request) -> web.Response:
    async def unlink(linker: Linker) -> Cluster:
        return await linker.unlink(_checked_id((await _json_body(request)).get("id")))

    return await _identity(request, unlink)


async def _identity(
    request: web.Request, act: Callable[[Linker], Awaitable[Cluster]]
) -> web.Response:
    """Run one store operation and answer its cluster, or a SPEC 6 error."""
    plan = request.app[STATE].plan
    linking = plan.resolver.linking if plan is not None and plan.resolver is not None else None
    try:
        if linking is None:
            raise BadRequest("identity linking is off (omnichannel.linking in the rules)")
        try:
            cluster = await act(linking.linker)
        except StoreUnavailable as exc:
            raise UpstreamUnavailable(f"{exc}; try again later") from None
    except GatewayError as error:
        return render_error(error, request_id_of(request))
    return _json(cluster.to_json())


def _checked_id(value: Any) -> str:
    if not is_omni_id(value):
        # PII: the message never echoes the value (it could be a phone number or an address).
        raise BadRequest("not an omnichannel id (omni_ followed by 26 base32 characters)")
    return str(value)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


async def _close_linkers(app: web.Application) -> None:
    await close_linkers()


def build_admin_app(state: GatewayState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/rules", rules)
    app.router.add_get("/identities/{omni_id}", identity_show)
    app.router.add_post("/identities/link", identity_link)
    app.router.add_post("/identities/unlink", identity_unlink)
    app.on_cleanup.append(_close_linkers)
    return app
