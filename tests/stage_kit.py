"""Requests for the per-stage unit tests: aiohttp's `make_mocked_request` on an app that holds
a real gateway state (real rules, real tokens), with no server and no upstream.

Only aiohttp's transport side is stood in for (a writer that keeps what is written); the stages
under test run as they do in the gateway.
"""

from __future__ import annotations

import asyncio
import io
import textwrap
from pathlib import Path
from typing import Any

import orjson
import yarl
from aiohttp import HttpVersion, HttpVersion11, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.test_utils import make_mocked_request

from gateway.event_log import EventLog
from gateway.exchange import Exchange
from gateway.rules_plan import Plan, load_plan
from gateway.web_request import decide, request_id_of
from gateway.web_state import STATE, GatewayState
from tests.conftest import JWT_SECRET, OMNICHANNEL_RULES, loopback_settings

RULES = (
    OMNICHANNEL_RULES
    + """
webhooks:
  - { channel: whatsapp, path: /webhooks/whatsapp, secret_env: META_APP_SECRET }
routes:
  - name: contacts
    match: { path: "/api/contacts/{id}" }
    response: [ { path: "$.phone", mask: phone } ]
    write_guard: reject
"""
)


class Writer:
    """What the gateway writes on the client connection ahead of a response (100, 103)."""

    def __init__(self) -> None:
        self.written = b""
        self.output_size = 0
        self.buffer_size = 0

    async def write(self, data: bytes) -> None:
        self.written += data
        self.output_size += len(data)


def plan_of(folder: Path, rules: str = RULES) -> Plan:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yaml").write_text(textwrap.dedent(rules))
    return load_plan(folder, {"OMNIGATE_JWT_SECRET": JWT_SECRET, **_SECRETS})


_SECRETS = {
    "OMNIGATE_HASH_KEY": "test-hash-key",
    "OMNIGATE_ID_SECRET": "test-id-secret",
    "META_APP_SECRET": "test-meta-secret",
}


class Logs:
    """The access and audit lines a state made by `state_of` has written, parsed."""

    def __init__(self, state: GatewayState, access: io.StringIO, audit: io.StringIO) -> None:
        self.state, self._access, self._audit = state, access, audit

    def access(self) -> list[dict[str, Any]]:
        self.state.access_log.flush()
        return [orjson.loads(line) for line in self._access.getvalue().splitlines()]

    def audit(self) -> list[dict[str, Any]]:
        self.state.audit_log.flush()
        return [orjson.loads(line) for line in self._audit.getvalue().splitlines()]


def state_of(plan: Plan | None, folder: Path) -> Logs:
    """A gateway state on `plan`, with its logs kept in memory."""
    settings = loopback_settings(yarl.URL("http://upstream.test/"), folder, max_body=64 * 1024)
    access, audit = io.StringIO(), io.StringIO()
    state = GatewayState(
        settings=settings,
        access_log=EventLog(access, "json"),
        audit_log=EventLog(audit, "json"),
        plan=plan,
    )
    return Logs(state, access, audit)


def mocked(
    state: GatewayState,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    *,
    body: bytes | None = None,
    version: HttpVersion = HttpVersion11,
) -> web.Request:
    """A request as aiohttp hands it to the gateway's handler, with `body` readable."""
    app = web.Application()
    app[STATE] = state
    payload = EMPTY_PAYLOAD if body is None else stream_of(body)
    return make_mocked_request(
        method, target, headers or {}, app=app, writer=Writer(), payload=payload, version=version
    )


def writer_of(request: web.Request) -> Writer:
    writer = request.writer
    assert isinstance(writer, Writer)
    return writer


async def decided_exchange(request: web.Request) -> Exchange:
    """An exchange whose decision `decide` has made, as the handler has it."""
    exchange = Exchange(request, request_id_of(request))
    exchange.decision = await decide(request, exchange)
    return exchange


def stream_of(body: bytes) -> StreamReader:
    """A finished body stream holding `body`, as aiohttp reads one off a connection."""
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    stream.feed_data(body)
    stream.feed_eof()
    return stream
