"""The decide stage (`web_request`) as plain functions: target, request id, caller, route."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import BadRequest, GatewayError
from gateway.exchange import ApiRequest, Exchange, WebhookDelivery
from gateway.web_request import decide, decided, request_id_of, split_target, vary_names
from tests.conftest import MINIMAL_RULES, bearer, token
from tests.stage_kit import mocked, plan_of, state_of


@pytest.mark.parametrize(
    ("target", "path", "query"),
    [
        ("/a/b?x=1&y=2", "/a/b", "x=1&y=2"),  # origin-form: path and raw query
        ("/a?x=%2F", "/a", "x=%2F"),  # the query stays as sent (encoded)
        ("/contacts#x?y=1", "/contacts", ""),  # SECURITY: the fragment is cut before the query
        ("/a?b#frag", "/a", "b"),  # a fragment after the query is cut too
        ("http://h.test/p/q?z=1", "/p/q", "z=1"),  # absolute-form: the authority is dropped
        ("http://h.test", "/", ""),  # absolute-form without a path is the root
    ],
)
def test_split_target(target: str, path: str, query: str) -> None:
    assert split_target(target) == (path, query)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("a/b", "must start with '/'"),  # neither origin-form nor absolute
        ("http://[::1/x", "not a valid URL"),  # an absolute-form URL that does not parse
    ],
)
def test_split_target_refuses(target: str, words: str) -> None:
    with pytest.raises(BadRequest) as refused:
        split_target(target)
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("abc-123", True),  # a sane client id is kept, so logs join across services
        ("a" * 200, True),  # up to 200 characters
        ("a" * 201, False),  # longer: replaced
        ("bad id\x01", False),  # control characters or spaces: replaced
        ("", False),  # none given: a new one
    ],
)
async def test_request_id_of(tmp_path: Path, given: str, kept: bool) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {"X-Request-Id": given} if given else {}
    request = mocked(stage.state, "GET", "/x", headers)
    rid = request_id_of(request)
    assert (rid == given) is kept
    assert rid and request_id_of(request) == rid  # remembered on the request


async def test_new_request_ids_differ(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    ids = {request_id_of(mocked(stage.state, "GET", "/x")) for _ in range(50)}
    assert len(ids) == 50


async def test_an_api_request_gets_its_caller_and_route(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", "/api//contacts/./7?x=1", bearer("agent"))
    exchange = Exchange(request, request_id_of(request))
    decision = await decide(request, exchange)
    assert isinstance(decision, ApiRequest)
    assert (decision.path, decision.query) == ("/api/contacts/7", "x=1")  # normalised path
    assert (decision.role, decision.caller.masking) == ("agent", True)
    assert decision.route_label == "contacts" and decision.policy.guarded
    assert decided(request) is decision
    assert await decide(request, exchange) is decision  # made once per request


async def test_an_admin_is_not_masked(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "GET", "/api/contacts/7", bearer("admin"))
    decision = await decide(request, Exchange(request, "rid"))
    assert isinstance(decision, ApiRequest)
    assert decision.role == "admin" and not decision.caller.masking


async def test_a_webhook_path_is_a_delivery_without_a_caller(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "POST", "/webhooks/whatsapp")  # no token needed
    decision = await decide(request, Exchange(request, "rid"))
    assert isinstance(decision, WebhookDelivery)
    assert (decision.route_label, decision.role) == ("webhook:whatsapp", "-")


async def test_a_refused_token_is_tallied_and_raised(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    forged = token("admin", secret="another-secret-0123456789abcdef-x")
    request = mocked(stage.state, "GET", "/api/contacts/7", {"Authorization": f"Bearer {forged}"})
    exchange = Exchange(request, "rid")
    with pytest.raises(GatewayError) as refused:
        await decide(request, exchange)
    assert refused.value.status == 401
    assert exchange.tally.token_failure == "bad_signature"
    assert decided(request) is None  # nothing was decided


async def test_content_length_with_transfer_encoding_is_refused(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {**bearer(), "Content-Length": "3", "Transfer-Encoding": "chunked"}
    request = mocked(stage.state, "POST", "/api/contacts/7", headers)
    with pytest.raises(BadRequest, match="both Content-Length and Transfer-Encoding"):
        await decide(request, Exchange(request, "rid"))


async def test_no_rules_loaded_is_an_error(tmp_path: Path) -> None:
    stage = state_of(None, tmp_path)
    request = mocked(stage.state, "GET", "/x", bearer())
    with pytest.raises(GatewayError, match="rules are not loaded"):
        await decide(request, Exchange(request, "rid"))


@pytest.mark.parametrize(
    ("token_from", "names"),
    [
        (None, ("Authorization",)),  # the default: tokens come from the header only
        ("[header, cookie:sid]", ("Authorization", "Cookie")),  # a cookie token varies on Cookie
    ],
)
async def test_vary_names_follow_the_token_carriers(
    tmp_path: Path, token_from: str | None, names: tuple[str, ...]
) -> None:
    rules = MINIMAL_RULES
    if token_from is not None:
        rules = rules.replace(
            "role_claim: role }", f"role_claim: role, token_from: {token_from} }}"
        )
    stage = state_of(plan_of(tmp_path, rules), tmp_path)
    request = mocked(stage.state, "GET", "/x", bearer())
    decision = await decide(request, Exchange(request, "rid"))
    assert isinstance(decision, ApiRequest)
    assert vary_names(decision) == names


# Each row: (a target sent twice, the normalised path both times, or the refusal both times).
REMEMBERED_PATHS = [
    ("/a//b/./c", "/a/b/c"),  # normalised once, remembered: the second request gets the same
    ("/%61", "/a"),  # the same for a percent-encoded unreserved character
    ("/a%2Fb", "encoded '/'"),  # SECURITY: a refused path is refused again, never remembered
]


@pytest.mark.parametrize(("target", "expected"), REMEMBERED_PATHS)
async def test_paths_are_remembered_but_refusals_are_not(
    tmp_path: Path, target: str, expected: str
) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    for _ in range(2):
        request = mocked(stage.state, "GET", target, bearer("agent"))
        try:
            decision = await decide(request, Exchange(request, "rid"))
        except BadRequest as refused:
            assert expected in refused.message
        else:
            assert decision.path == expected
