"""First stages of the pipeline: read the request's target, authenticate, match routes.

`prepare` runs once per request (cached on the request) so that the `Expect: 100-continue`
handler (`web_expect`) and the main handler share its result: SECURITY: the 100 is sent only
after the token has been checked.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass

import yarl
from aiohttp import web

from gateway import metrics
from gateway.auth import Identity
from gateway.channels import CompiledWebhook
from gateway.errors import BadRequest, GatewayError
from gateway.http_path import normalise_path
from gateway.route_view import PASS_VIEW, View
from gateway.rules_plan import Plan
from gateway.web_state import STATE

# Ids need to be unique, not secret: a random per-process prefix and a counter (no syscall).
_ID_PREFIX = os.urandom(10).hex()
_ID_COUNTER = itertools.count(1)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,200}$")
_PREPARED = web.RequestKey("omnigate_prepared", object)
_REQUEST_ID_KEY = web.RequestKey("omnigate_request_id", str)
_NOTHING: dict[str, str] = {}  # cookies and query are parsed only when a token may be there
_ANONYMOUS = Identity(role="-", masking=False, sub=None, token_present=False)


@dataclass(frozen=True)
class Prepared:
    request_id: str
    plan: Plan
    path: str  # normalised; this is what goes upstream
    query: str  # raw, as the client sent it
    webhook: CompiledWebhook | None
    identity: Identity
    view: View


def request_id_of(request: web.BaseRequest) -> str:
    """The client's X-Request-Id when it is sane, else a new one; remembered on the request."""
    cached = request.get(_REQUEST_ID_KEY)
    if isinstance(cached, str):
        return cached
    given = request.headers.get("X-Request-Id", "")
    rid = given if given and _REQUEST_ID.match(given) else f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"
    request[_REQUEST_ID_KEY] = rid
    return rid


async def prepare(request: web.Request) -> Prepared:
    cached = request.get(_PREPARED)
    if isinstance(cached, Prepared):
        return cached
    rid = request_id_of(request)
    plan = request.app[STATE].plan
    if plan is None:
        raise GatewayError("rules are not loaded")
    if "Content-Length" in request.headers and "Transfer-Encoding" in request.headers:
        # SECURITY: request smuggling precondition (RFC 9112 6.3); never forwarded.
        raise BadRequest("a request must not carry both Content-Length and Transfer-Encoding")
    path, query = split_target(request.raw_path)
    path = normalise_path(path)
    webhook = plan.webhook_for(path)
    if webhook is not None:
        prepared = Prepared(rid, plan, path, query, webhook, _ANONYMOUS, PASS_VIEW)
    else:
        try:
            auth = plan.auth
            identity = await auth.authenticate(
                request.headers,
                request.cookies if auth.reads_cookies else _NOTHING,
                request.rel_url.query if auth.reads_query else _NOTHING,
            )
        except GatewayError as exc:
            metrics.TOKEN_FAILURES.labels(getattr(exc, "reason", "invalid")).inc()
            raise
        view = plan.view(effective_method(request), path, identity)
        prepared = Prepared(rid, plan, path, query, None, identity, view)
    request[_PREPARED] = prepared
    return prepared


_OVERRIDES = ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def effective_method(request: web.BaseRequest) -> str | None:
    """The method routes are matched with; None (any) when the upstream may take another one.

    SECURITY: frameworks such as Rails turn a POST into a GET (or PUT, ...) on a method-override
    header, a `_method` query parameter or a `_method` form field. Such a POST is matched
    against the routes of every method, so a GET-only masking route still applies.
    """
    if request.method != "POST":
        return request.method
    if any(name in request.headers for name in _OVERRIDES):
        return None
    if "_method" in request.rel_url.query or request.content_type in _FORMS:
        return None
    return request.method


def vary_names(request: web.BaseRequest) -> tuple[str, ...]:
    """What a masked response varies on: the token's carriers."""
    prepared = request.get(_PREPARED)
    if isinstance(prepared, Prepared) and prepared.plan.auth.reads_cookies:
        return ("Authorization", "Cookie")
    return ("Authorization",)


def split_target(target: str) -> tuple[str, str]:
    """(path, raw query) of an origin-form or absolute-form request target."""
    if not target.startswith("/"):
        try:
            url = yarl.URL(target, encoded=True)
        except ValueError:
            raise BadRequest("the request target is not a valid URL") from None
        if not url.is_absolute():
            raise BadRequest("request path must start with '/'")
        return url.raw_path or "/", url.raw_query_string
    # SECURITY: a fragment is never part of the resource (and upstreams ignore it): cut it first,
    # or `/contacts#x` would miss the `/contacts` route and still reach `/contacts` upstream.
    path, _, query = target.partition("#")[0].partition("?")
    return path, query
