"""Issue 9 (branch pass4) attacks 2 to 4, end to end: the cached-token fast path, the small body
taken from the stream's buffer (`arrived_body`), and the per-raw-path and per-(path, query)
memos of the request path.

The upstream here is a raw socket server answering canned bytes, so it can lie: a Content-Length
longer or shorter than its body, both framings at once, a body on a 204, gzip on a masked route.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import textwrap
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import yarl
from contact_route import ADMIN, AGENT, CONTACT, PII, RULES

from gateway import web_request
from gateway.client_upstream import Upstream, make_session
from gateway.rules_plan import load_plan
from tests.conftest import GatewayFactory, raw_http, token

DOCUMENT = {
    "payload": {"phone_number": "+1 415 555 7890", "email": "jane.doe@example.com", "name": "Jane"}
}
CLEAR = json.dumps(DOCUMENT).encode()


def _head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode()


class RawUpstream:
    """Answers each request with the canned bytes for its path; `close` after them, or not."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[bytes, bool]] = {}
        self.requests: list[bytes] = []
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                path = head.split(b" ", 2)[1].decode().partition("?")[0]
                answer, close = self.answers.get(
                    path, (_head("404 Not Found", "Content-Length: 0"), False)
                )
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def raw_upstream() -> AsyncIterator[RawUpstream]:
    fake = RawUpstream()
    server = await asyncio.start_server(fake._serve, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    yield fake
    server.close()
    await server.wait_closed()


async def _get(port: int | None, target: str, who: str | None, method: str = "GET") -> bytes:
    headers = [f"Authorization: Bearer {who}"] if who else []
    lines = [f"{method} {target} HTTP/1.1", "Host: gw.test", "Connection: close", *headers]
    return await raw_http(port, ("\r\n".join(lines) + "\r\n\r\n").encode(), read_timeout=3.0)


def _split(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunked(body)
    return int(lines[0].split(" ")[1]), headers, body


def _dechunked(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


# --- attack 3: a small body taken from the stream's buffer ------------------------------------

SHORT = _head("200 OK", "Content-Type: application/json", "Content-Length: 400") + CLEAR
LONG = _head("200 OK", "Content-Type: text/plain", "Content-Length: 5") + b"hello world"
BOTH = (
    _head("200 OK", "Content-Type: text/plain", "Content-Length: 3", "Transfer-Encoding: chunked")
    + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
)
ODD_CHUNKS = (
    _head("200 OK", "Content-Type: text/plain", "Transfer-Encoding: chunked")
    + b"1;ext=1\r\nh\r\n000004\r\nello\r\n0\r\nTrailer: x\r\n\r\n"
)
GZIPPED = gzip.compress(CLEAR)
GZIP = (
    _head(
        "200 OK",
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        f"Content-Length: {len(GZIPPED)}",
    )
    + GZIPPED
)
NO_CONTENT = _head("204 No Content", "Content-Type: application/json", "Content-Length: 0")
# Each row: (upstream bytes, close after them?, method, route, what the agent must get).
# `route` True: the masked contact route; False: a pass-through path.
BODY_ROWS: list[tuple[bytes, bool, str, bool, Callable[[int, dict[str, str], bytes], bool]]] = [
    # a body shorter than its Content-Length, then the connection ends: an error, never a
    # 200 with a truncated body (pass-through) or clear PII (masked)
    (SHORT, True, "GET", False, lambda s, h, b: s == 502),
    (SHORT, True, "GET", True, lambda s, h, b: s == 502),
    # a longer body: exactly Content-Length bytes go out, with a Content-Length that says so
    # (the rest of the body is garbage to the pooled connection: a clear 502 next time is fine)
    (LONG, True, "GET", False, lambda s, h, b: (s == 200 and b == b"hello") or _error(s, b)),
    # both framings from the upstream: refused, or relayed with a length true to the body
    (BOTH, True, "GET", False, lambda s, h, b: s == 502 or int(h["content-length"]) == len(b)),
    # chunk extensions, leading zeros, trailers: the decoded body, its length true
    (ODD_CHUNKS, True, "GET", False, lambda s, h, b: s == 200 and b == b"hello"),
    # gzip on a pass-through path: the upstream's bytes as they are
    (GZIP, False, "GET", False, lambda s, h, b: s == 200 and b == GZIPPED),
    # gzip on the masked route: masked (decoded, masked, re-encoded or sent plain)
    (
        GZIP,
        False,
        "GET",
        True,
        lambda s, h, b: s == 200 and b"XXX-XXX-7890" in _plain(h, b),
    ),
    # HEAD of the masked route: no body, no byte-describing headers of the clear body
    (
        _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(CLEAR)}"),
        False,
        "HEAD",
        True,
        lambda s, h, b: s == 200 and b == b"" and "content-length" not in h,
    ),
    # a 204 whose upstream sent body bytes anyway: none reach the client
    (
        NO_CONTENT + CLEAR,
        True,
        "GET",
        True,
        lambda s, h, b: (s == 204 and b == b"") or _error(s, b),
    ),
    (
        NO_CONTENT + CLEAR,
        True,
        "GET",
        False,
        lambda s, h, b: (s == 204 and b == b"") or _error(s, b),
    ),
]


def _error(status: int, body: bytes) -> bool:
    """The gateway's own clear error for a broken upstream (SPEC 6 JSON, no upstream bytes)."""
    return status == 502 and body.startswith(b'{"error":{"code":"upstream_unavailable"')


def _plain(headers: dict[str, str], body: bytes) -> bytes:
    return gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body


@pytest.mark.parametrize(("upstream", "close", "method", "masked", "expected"), BODY_ROWS)
async def test_small_bodies_from_a_lying_upstream(
    raw_upstream: RawUpstream,
    make_gateway: GatewayFactory,
    upstream: bytes,
    close: bool,
    method: str,
    masked: bool,
    expected: Callable[[int, dict[str, str], bytes], bool],
) -> None:
    path = CONTACT if masked else "/other"
    raw_upstream.answers[path] = (upstream, close)
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", RULES, upstream_timeout=2.0)
    for _ in range(2):  # the second time on a pooled connection, if the first kept one
        answer = await _get(gw.client.port, path, AGENT, method)
        status, headers, body = _split(answer)
        assert expected(status, headers, body), answer[:400]
        if "content-length" in headers and method != "HEAD":
            assert int(headers["content-length"]) == len(body)  # never a desync toward clients
        if masked:
            assert not any(item in _plain(headers, body) for item in PII), answer[:400]


async def test_leftover_bytes_never_answer_another_request(
    raw_upstream: RawUpstream, make_gateway: GatewayFactory
) -> None:
    # An upstream that answers more than asked (a second response after a complete first one)
    # must not have that second response served to the next client's request.
    smuggled = _head("200 OK", "Content-Type: text/plain", "Content-Length: 9") + b"smuggled!"
    raw_upstream.answers["/first"] = (
        _head("200 OK", "Content-Type: text/plain", "Content-Length: 5") + b"first" + smuggled,
        False,
    )
    raw_upstream.answers["/second"] = (
        _head("200 OK", "Content-Type: text/plain", "Content-Length: 6") + b"second",
        False,
    )
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", RULES, upstream_timeout=2.0)
    first = _split(await _get(gw.client.port, "/first", ADMIN))
    second = _split(await _get(gw.client.port, "/second", AGENT))
    assert first[2] == b"first"
    assert second[2] in (b"second", b"") and b"smuggled" not in second[2], second


# --- attack 4: the path and URL memos ----------------------------------------------------------

# Each row: a raw path that normalises to the masked route (or one of its upstream aliases).
VARIANTS = [
    CONTACT,
    "/api/v1/accounts/1//contacts/2",
    "/api/v1/./accounts/1/contacts/2",
    "/api/v1/accounts/1/x/../contacts/2",
    "/api/v1/accounts/1/contacts/2/",
    "/api/v1/accounts/1/contacts/2;v=1",
    "/api/v1/accounts/1/contacts/%32",
    "/api/v1/accounts/1/contact%73/2",
    "/api/v1/accounts/1/contacts/2#x",
]


@pytest.mark.parametrize("target", VARIANTS)
async def test_variants_stay_masked_from_a_warm_memo(
    raw_upstream: RawUpstream, make_gateway: GatewayFactory, target: str
) -> None:
    # The same raw path three times (memo cold, then warm), with the query varied (URL memo),
    # interleaved with the admin's clear request for the same path: each answer is the caller's.
    answer = _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(CLEAR)}")
    raw_upstream.answers[CONTACT] = (answer + CLEAR, False)
    for variant in VARIANTS:
        raw_upstream.answers[variant.partition("#")[0]] = (answer + CLEAR, False)
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", RULES)
    for query in ("", "?a=1", "", "?a=1"):
        for who, clear in ((AGENT, False), (ADMIN, True), (None, False)):
            status, _, body = _split(await _get(gw.client.port, target + query, who))
            if status == 404:  # the fake does not serve this alias: nothing to mask
                continue
            assert status == 200, (target, status, body)
            assert (b"555 7890" in body) is clear, (target, who, body)


async def test_a_reload_drops_remembered_webhooks(
    raw_upstream: RawUpstream, make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    # The same raw path, a webhook under the first rules and a masked route under the next:
    # what was remembered for the first plan must not decide for the second.
    hook_rules = textwrap.dedent(
        """
        version: 1
        auth:
          jwt: { algorithms: [HS256], secret_env: OMNIGATE_JWT_SECRET, role_claim: role }
        roles:
          admin: { masking: false }
          agent: { masking: true }
        default_role: agent
        omnichannel:
          identify_by: [phone, email]
          default_region: US
          id_secret_env: OMNIGATE_ID_SECRET
        webhooks:
          - channel: generic
            path: /hooks/crm
            identity: { phone: "$.customer.mobile" }
        """
    )
    masked_rules = (
        RULES
        + """  - name: hook_now_masked
    match: { path: "/hooks/crm" }
    response:
      - { path: "$.payload.phone_number", mask: phone }
"""
    )
    raw_upstream.answers["/hooks/crm"] = (
        _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(CLEAR)}") + CLEAR,
        False,
    )
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", hook_rules)
    raw_path = "/hooks//crm"
    first_plan = gw.state.plan
    assert first_plan is not None
    assert web_request._path_of(first_plan, raw_path)[1] is not None  # a webhook, remembered
    await _get(gw.client.port, raw_path, AGENT)
    rules_dir = tmp_path / "next"
    rules_dir.mkdir()
    (rules_dir / "rules.yaml").write_text(masked_rules)
    gw.state.plan = load_plan(rules_dir)  # as a reload swaps it
    status, _, body = _split(await _get(gw.client.port, raw_path, AGENT))
    assert status == 200 and b"555 7890" not in body and b"XXX-XXX-7890" in body, body


def test_the_path_memo_is_bounded_in_entries(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(RULES))
    plan = load_plan(tmp_path)
    for index in range(5000):
        web_request._path_of(plan, f"/p/{index}")
    assert len(web_request._path_of.state[1]) <= 4096
    assert web_request._path_of.state[0] is plan


async def test_the_memos_are_bounded_in_bytes(tmp_path: Path) -> None:
    # SECURITY: targets come from unauthenticated clients; one long (16 KiB, under the line
    # limit) distinct path per request must not grow what the process keeps past a few MiB.
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(RULES))
    plan = load_plan(tmp_path)
    session = make_session(1.0)
    upstream = Upstream(yarl.URL("http://127.0.0.1:9/"), session, 1.0)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(4096):
            raw = f"/{index:05d}/" + "a/" * 8000 + "%61"  # normalised: another string
            path, _ = web_request._path_of(plan, raw)
            upstream.url_for(path, "")
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        await session.close()
    assert kept <= 16 * 2**20, f"{kept / 2**20:.0f} MiB kept for client-chosen targets"


async def test_tokens_are_never_logged(
    raw_upstream: RawUpstream, make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # The cache keyed by the token itself: no log line, access or audit record carries one,
    # served from the cache or refused.
    raw_upstream.answers[CONTACT] = (
        _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(CLEAR)}") + CLEAR,
        False,
    )
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", RULES)
    expired = token("admin", exp=1)
    for who in (ADMIN, ADMIN, AGENT, expired, ADMIN + "x"):
        await _get(gw.client.port, CONTACT, who)
    gw.state.access_log.flush()
    gw.state.audit_log.flush()
    text = gw.access.getvalue() + gw.audit.getvalue() + caplog.text
    assert text
    for secret in (ADMIN, AGENT, expired):
        assert secret.split(".")[2] not in text
        assert secret.split(".")[1] not in text


async def test_a_cached_admin_token_with_a_second_carrier(
    raw_upstream: RawUpstream, make_gateway: GatewayFactory
) -> None:
    # The admin's token is cached; replayed beside a different second Authorization header
    # (which the fast path skips) the full path refuses it; beside an agent's query token or
    # an X-Authorization header, the gateway decides on the header it reads, as before.
    raw_upstream.answers[CONTACT] = (
        _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(CLEAR)}") + CLEAR,
        False,
    )
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", RULES)
    assert _split(await _get(gw.client.port, CONTACT, ADMIN))[0] == 200  # cached now
    lines = [
        f"GET {CONTACT} HTTP/1.1",
        "Host: gw.test",
        "Connection: close",
        f"Authorization: Bearer {ADMIN}",
        f"Authorization: Bearer {AGENT}",
    ]
    answer = await raw_http(gw.client.port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    status, _, body = _split(answer)
    assert status == 401 and b"555 7890" not in body
    lines[-1] = "Authorization: Basic YWRtaW46YWRtaW4="
    status, _, body = _split(
        await raw_http(gw.client.port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    )
    assert status == 401 and b"555 7890" not in body


async def test_connect_never_reaches_the_upstream(
    raw_upstream: RawUpstream, make_gateway: GatewayFactory
) -> None:
    # SECURITY: a server reading CONNECT as a tunnel request reads no body: the bytes after the
    # head are the next request on a pooled connection (request smuggling past every rule).
    raw_upstream.answers["/other"] = (_head("200 OK", "Content-Length: 2") + b"ok", False)
    gw = await make_gateway(f"http://127.0.0.1:{raw_upstream.port}/", RULES, upstream_timeout=2.0)
    smuggled = f"GET {CONTACT} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    head = (
        f"CONNECT /other HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n"
        f"Authorization: Bearer {AGENT}\r\nContent-Length: {len(smuggled)}\r\n\r\n"
    )
    answer = await raw_http(gw.client.port, head.encode() + smuggled, read_timeout=3.0)
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert not any(request.startswith(b"CONNECT") for request in raw_upstream.requests)
