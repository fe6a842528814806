"""First stages of the pipeline: read the request's target, authenticate, match routes.

`decide` runs once per request (cached on the request) so that the `Expect: 100-continue`
handler (`web_expect`) and the main handler share its result: SECURITY: the 100 is sent only
after the token has been checked.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import TYPE_CHECKING

import yarl
from aiohttp import hdrs, web

from gateway.auth import Caller
from gateway.errors import BadRequest, GatewayError
from gateway.exchange import ApiRequest, Decision, Exchange, WebhookDelivery
from gateway.http_headers import X_REQUEST_ID
from gateway.http_path import normalise_path
from gateway.path_memo import PathMemo
from gateway.web_state import STATE, GatewayState

if TYPE_CHECKING:
    from gateway.channels import CompiledWebhook
    from gateway.rules_plan import Plan

# Ids need to be unique, not secret: a random per-process prefix and a counter (no syscall).
_ID_PREFIX = os.urandom(10).hex()
_ID_COUNTER = itertools.count(1)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,200}$")
_NOTHING: dict[str, str] = {}  # cookies and query are parsed only when a token may be there


class _Memo:
    """What `request_id_of` and `decide` remember on a request: ONE storage entry, made with the
    id, so the decision's lookup hits it (a missed lookup costs a KeyError raised and caught)."""

    __slots__ = ("decision", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.decision: Decision | None = None


_MEMO = web.RequestKey("omnigate_memo", _Memo)


def _memo(request: web.BaseRequest) -> _Memo | None:
    # `len` first: a request's storage stays empty until `request_id_of` runs. (A request's
    # `get` is the Mapping mixin's: two Python calls; the lookup below is one.)
    if not len(request):
        return None
    try:
        return request[_MEMO]
    except KeyError:
        return None


def request_id_of(request: web.BaseRequest) -> str:
    """The client's X-Request-Id when it is sane, else a new one; remembered on the request."""
    return memo_of(request).request_id


def memo_of(request: web.BaseRequest) -> _Memo:
    """The request's memo: its id (made here on first use) and, once made, its decision."""
    memo = _memo(request)
    if memo is not None:
        return memo
    given = request.headers.get(X_REQUEST_ID, "")
    if given and _REQUEST_ID.match(given):
        rid = given
    else:  # (`%` formatting: a format spec goes through int.__format__, twice the work)
        rid = "%s%012x" % (_ID_PREFIX, next(_ID_COUNTER))  # noqa: UP031
    request[_MEMO] = memo = _Memo(rid)
    return memo


def decided(request: web.BaseRequest) -> Decision | None:
    """The decision `decide` made for this request, if it ran."""
    memo = _memo(request)
    return memo.decision if memo is not None else None


async def decide(
    request: web.Request,
    exchange: Exchange,
    state: GatewayState | None = None,
    memo: _Memo | None = None,
) -> Decision:
    """What this request is: a webhook delivery, or an API request with its caller and policy.

    A refused token is tallied on `exchange` (token failures by reason) before the error goes on.
    `state` is the app's (read from the request when not given); `memo`, the request's
    (`memo_of`; looked up when not given).
    """
    if memo is None:
        memo = _memo(request)
    if memo is not None and memo.decision is not None:
        return memo.decision
    rid = exchange.request_id
    plan = (state if state is not None else request.app[STATE]).plan
    if plan is None:
        raise GatewayError("rules are not loaded")
    headers = request.headers
    if hdrs.CONTENT_LENGTH in headers and hdrs.TRANSFER_ENCODING in headers:
        # SECURITY: request smuggling precondition (RFC 9112 6.3); never forwarded.
        raise BadRequest("a request must not carry both Content-Length and Transfer-Encoding")
    path, query = split_target(request.raw_path)
    path, webhook = _path_of(plan, path)
    decision: Decision
    if webhook is not None:
        decision = WebhookDelivery(rid, plan, path, query, webhook)
    else:
        auth = plan.auth
        # the common case (one cached Bearer token) without a coroutine; else the full way
        known = auth.known_caller(headers)
        if known is not None:
            caller: Caller = known
        else:
            try:
                caller = await auth.authenticate(
                    headers,
                    request.cookies if auth.reads_cookies else _NOTHING,
                    request.rel_url.query if auth.reads_query else _NOTHING,
                )
            except GatewayError as exc:
                exchange.tally.token_failure = getattr(exc, "reason", "invalid")
                raise
        # SECURITY (SPEC 3.2): every route on the path protects it, whatever the method; an
        # upstream may honour a method override the gateway does not know.
        policy = plan.policy(request.method, path, caller)
        decision = ApiRequest(rid, plan, path, query, caller, policy)
    if memo is None:
        request[_MEMO] = memo = _Memo(rid)
    memo.decision = decision
    return decision


def _normalised(plan: Plan, raw: str) -> tuple[str, CompiledWebhook | None]:
    """The normalised path and the webhook it delivers to (`BadRequest` for a refused path)."""
    path = normalise_path(raw)
    return path, plan.webhook_for(path)


# The same work for every request to a path; clients repeat the same few.
_path_of: PathMemo[Plan, tuple[str, CompiledWebhook | None]] = PathMemo(_normalised)


def vary_names(decision: ApiRequest) -> tuple[str, ...]:
    """What a masked response varies on: the token's carriers."""
    if decision.plan.auth.reads_cookies:
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
