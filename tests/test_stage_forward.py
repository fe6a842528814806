"""The forward stage (`web_forward`) as plain functions: the headers that go upstream and the
request-body guard (SPEC 2, 3.5), on mocked requests."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from gateway.errors import BadRequest, GatewayError, PayloadTooLarge
from gateway.exchange import ApiRequest
from gateway.web_forward import (
    checked_query,
    forwarded_headers,
    is_json_type,
    request_body,
    upstream_headers,
    write_guard_mode,
)
from tests.conftest import bearer
from tests.stage_kit import decided_exchange, mocked, plan_of, state_of

CONTACT = "/api/contacts/7"
MASKED_PHONE = b'{"phone_number": "XXX-XXX-7890"}'  # what the phone mask shows a masked role


async def api_request(
    tmp_path: Path,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[ApiRequest, object]:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, method, target, headers, body=body)
    exchange = await decided_exchange(request)
    return exchange.api, request


async def test_forwarded_headers_drop_hop_by_hop_and_add_the_gateways(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {
        **bearer(),
        "Connection": "keep-alive, X-Secret",
        "Keep-Alive": "timeout=5",
        "X-Secret": "named in Connection: hop-by-hop",
        "Expect": "100-continue",
        "x-omni-customer-id": "forged",
        "X-Request-Id": "client-id",
        "Host": "api.example.com",
        "Accept": "application/json",
    }
    request = mocked(stage.state, "GET", CONTACT, headers)
    exchange = await decided_exchange(request)
    sent = forwarded_headers(request, exchange.api)
    for dropped in ("Connection", "Keep-Alive", "X-Secret", "Expect"):
        assert dropped not in sent
    # SECURITY: only the gateway stamps identities: a client's stamp header never goes on
    assert not any(name.lower() == "x-omni-customer-id" for name in sent)
    assert sent["X-Request-Id"] == "client-id"
    assert sent["X-Forwarded-Host"] == "api.example.com"
    assert sent["X-Forwarded-Proto"] == "http"
    assert (
        sent["Accept"] == "application/json" and sent["Authorization"] == headers["Authorization"]
    )


@pytest.mark.parametrize(
    ("role", "method", "dropped", "kept"),
    [
        # a byte range of a masked body cannot be masked: dropped on a guarded route
        ("agent", "GET", ["Range", "If-Range", "If-None-Match", "If-Modified-Since"], []),
        # SECURITY: conditionals are dropped only for a masked role (a 304 would confirm a guess)
        ("admin", "GET", ["Range", "If-Range"], ["If-None-Match", "If-Modified-Since"]),
        # a write keeps its preconditions (optimistic locking), even for a masked role
        ("agent", "PUT", ["Range", "If-Range"], ["If-Match", "If-Unmodified-Since"]),
    ],
)
async def test_upstream_headers_on_a_guarded_route(
    tmp_path: Path, role: str, method: str, dropped: list[str], kept: list[str]
) -> None:
    headers = {
        **bearer(role),
        "Range": "bytes=0-10",
        "If-Range": '"v1"',
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
        "If-Match": '"v1"',
        "If-Unmodified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
    }
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, method, CONTACT, headers)
    sent = upstream_headers(request, (await decided_exchange(request)).api)
    assert [name for name in dropped if name in sent] == []
    assert [name for name in kept if name not in sent] == []


async def test_accept_encoding_is_narrowed_to_what_the_gateway_can_undo(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {**bearer(), "Accept-Encoding": "zstd, br, gzip, compress"}
    request = mocked(stage.state, "GET", CONTACT, headers)
    sent = upstream_headers(request, (await decided_exchange(request)).api)
    assert "compress" not in sent["Accept-Encoding"]
    assert "gzip" in sent["Accept-Encoding"]


async def test_unmatched_route_passes_headers_through(tmp_path: Path) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    headers = {**bearer(), "Range": "bytes=0-1", "Accept-Encoding": "compress"}
    request = mocked(stage.state, "GET", "/elsewhere", headers)
    sent = upstream_headers(request, (await decided_exchange(request)).api)
    assert sent["Range"] == "bytes=0-1" and sent["Accept-Encoding"] == "compress"


@pytest.mark.parametrize(
    ("role", "target", "mode"),
    [
        ("agent", CONTACT, "reject"),  # the route's mode for a masked role
        ("admin", CONTACT, "off"),  # an unmasked role sees clear values: nothing to guard
        ("agent", "/elsewhere", "off"),  # no guarded route on the path
    ],
)
async def test_write_guard_mode(tmp_path: Path, role: str, target: str, mode: str) -> None:
    stage = state_of(plan_of(tmp_path), tmp_path)
    request = mocked(stage.state, "PUT", target, bearer(role))
    assert write_guard_mode((await decided_exchange(request)).api) == mode


async def _body(
    tmp_path: Path,
    body: bytes | None,
    *,
    target: str = CONTACT,
    role: str = "agent",
    headers: dict[str, str] | None = None,
    max_body: int = 1024,
) -> tuple[object, str]:
    stage = state_of(plan_of(tmp_path), tmp_path)
    all_headers = {**bearer(role), **(headers or {})}
    if body is not None:
        all_headers.setdefault("Content-Length", str(len(body)))
    request = mocked(stage.state, "PATCH", target, all_headers, body=body)
    exchange = await decided_exchange(request)
    sent = upstream_headers(request, exchange.api)
    return await request_body(request, exchange.api, sent, max_body)


async def test_no_body_and_a_plain_query_is_not_inspected(tmp_path: Path) -> None:
    assert await _body(tmp_path, None, target=CONTACT + "?page=2") == (None, "page=2")


async def test_a_clean_json_body_goes_on_as_sent(tmp_path: Path) -> None:
    raw = b'{"phone_number": "+14155557890"}'
    assert await _body(tmp_path, raw, headers={"Content-Type": "application/json"}) == (raw, "")


@pytest.mark.parametrize(
    ("body", "target", "headers"),
    [
        (MASKED_PHONE, CONTACT, {"Content-Type": "application/json"}),  # a mask output
        (None, CONTACT + "?phone_number=XXX-XXX-7890", {}),  # SECURITY: in the query, no body
        (gzip.compress(MASKED_PHONE), CONTACT, {"Content-Encoding": "gzip"}),  # compressed
        (MASKED_PHONE, CONTACT, {"Content-Type": "application/octet-stream"}),  # sniffed JSON
    ],
)
async def test_a_mask_output_written_back_is_refused(
    tmp_path: Path, body: bytes | None, target: str, headers: dict[str, str]
) -> None:
    with pytest.raises(GatewayError) as refused:
        await _body(tmp_path, body, target=target, headers=headers)
    assert refused.value.status == 422


async def test_an_unmasked_role_streams_its_body_unread(tmp_path: Path) -> None:
    sent, query = await _body(tmp_path, MASKED_PHONE, role="admin")
    assert not isinstance(sent, bytes) and sent is not None  # a chunk stream, not read here
    assert query == ""


async def test_a_binary_upload_streams_on(tmp_path: Path) -> None:
    raw = bytes(range(256)) * 8
    sent, _ = await _body(
        tmp_path, raw, headers={"Content-Type": "image/png"}, max_body=len(raw) // 2
    )
    assert not isinstance(sent, bytes)  # never buffered, so never too large here


@pytest.mark.parametrize(
    ("body", "headers", "error"),
    [
        (b"x" * 2000, {"Content-Type": "application/json"}, PayloadTooLarge),  # over --max-body
        (b'{"a": 1}', {"Content-Encoding": "zz-unknown"}, BadRequest),  # cannot be inspected
    ],
)
async def test_a_body_that_cannot_be_checked_is_refused(
    tmp_path: Path, body: bytes, headers: dict[str, str], error: type[GatewayError]
) -> None:
    with pytest.raises(error):
        await _body(tmp_path, body, headers=headers)


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("page=2", False),  # nothing masked
        ("q=XXX-XXX-7890", True),  # a mask output in a WebSocket upgrade's query
    ],
)
def test_checked_query(query: str, refused: bool) -> None:
    if refused:
        with pytest.raises(GatewayError):
            checked_query(query, "reject")
    else:
        assert checked_query(query, "reject") == query


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("application/problem+json", True),  # any +json suffix
        ("application/jsonp", False),
        ("text/json", False),  # not an application type
        ("application/x-ndjson", False),
    ],
)
def test_is_json_type(content_type: str, json: bool) -> None:
    assert is_json_type(content_type) is json
