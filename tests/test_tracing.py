"""OpenTelemetry tracing (SPEC 6) end to end: a live gateway in front of a loopback upstream,
exporting over OTLP/HTTP (protobuf) to a real receiver on loopback that decodes what it gets.

A trace shows the server span (continuing the client's `traceparent`), the upstream client span
(whose context is what the upstream receives) and the masking span with its counts; the access
log carries the trace id. Without tracing configured, opentelemetry is never even imported.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from gateway import tracing
from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.settings import Listen, Settings, SettingsError
from gateway.web_server import Gateway, start_gateway
from tests.conftest import MINIMAL_RULES, bearer

ROOT = Path(__file__).resolve().parents[1]
RULES = (
    MINIMAL_RULES
    + """
routes:
  - name: contact
    match: { path: "/contacts/{id}" }
    response: [ { path: "$.phone", mask: phone }, { path: "$.email", mask: email } ]
"""
)
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"


@dataclass
class Receiver:
    """An OTLP/HTTP trace receiver: every span it was sent, flattened."""

    url: str
    content_types: list[str] = field(default_factory=list)
    spans: list[Any] = field(default_factory=list)


@pytest.fixture
async def receiver(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> Receiver:
    found = Receiver(url="")

    async def traces(request: web.Request) -> web.Response:
        found.content_types.append(request.content_type)
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        for resource_spans in export.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                found.spans.extend(scope_spans.spans)
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    server = await aiohttp_server(app)
    found.url = str(server.make_url("")).rstrip("/")
    return found


@dataclass
class Upstream:
    server: TestServer
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def upstream(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Upstream:
    seen: list[dict[str, str]] = []

    async def contact(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"phone": "+14155557890", "email": "jane@example.com"})

    app = web.Application()
    app.router.add_get("/contacts/{id}", contact)
    return Upstream(await aiohttp_server(app), seen)


@dataclass
class Live:
    gateway: Gateway
    access: io.StringIO
    stopped: bool = False

    async def stop(self) -> None:
        """Drain the gateway: its batch span processor exports what is queued at shutdown."""
        if not self.stopped:
            self.stopped = True
            self.gateway.state.access_log.flush()
            await self.gateway.stop(drain_seconds=2.0)


@pytest.fixture
async def live(tmp_path: Path, upstream: Upstream, receiver: Receiver) -> AsyncIterator[Live]:
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(RULES))
    settings = Settings(
        upstream=yarl.URL(str(upstream.server.make_url("/"))),
        listen=Listen("127.0.0.1", 0),
        admin_listen=Listen("127.0.0.1", 0),
        rules=tmp_path / "rules.yaml",
        workers=1,
        upstream_timeout=5.0,
        max_body=1 << 20,
        log_format="json",
        audit_log="-",
        otel=receiver.url,
    )
    gateway = await start_gateway(settings, load_plan(settings.rules))
    access = io.StringIO()
    gateway.state.access_log = EventLog(access, "json")
    running = Live(gateway, access)
    try:
        yield running
    finally:
        await running.stop()
    assert tracing.TRACER is None


def _address(gateway: Gateway) -> str:
    host, port = gateway.runners[0].addresses[0][:2]
    return f"http://{host}:{port}"


async def test_a_trace_shows_server_upstream_and_masking_spans(
    live: Live, upstream: Upstream, receiver: Receiver
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            _address(live.gateway) + "/contacts/7",
            headers={**bearer("agent"), "traceparent": TRACEPARENT},
        ) as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["phone"] == "XXX-XXX-7890"
    await live.stop()

    spans = {span.name: span for span in receiver.spans}
    assert set(receiver.content_types) == {"application/x-protobuf"}  # OTLP/HTTP protobuf
    server, client, mask = spans["GET contact"], spans["GET"], spans["omnigate.mask"]
    # the server span continues the client's trace, under the client's span
    assert server.trace_id.hex() == CLIENT_TRACE
    assert server.parent_span_id.hex() == CLIENT_SPAN
    assert server.kind == server.SPAN_KIND_SERVER
    assert client.kind == client.SPAN_KIND_CLIENT
    # the upstream call and the masking are children of the server span, in the same trace
    for child in (client, mask):
        assert child.trace_id.hex() == CLIENT_TRACE
        assert child.parent_span_id == server.span_id
    # the upstream got the trace, with the gateway's client span as its parent
    assert upstream.headers[-1]["traceparent"] == f"00-{CLIENT_TRACE}-{client.span_id.hex()}-01"
    attributes = {span.name: _attributes(span) for span in receiver.spans}
    assert attributes["omnigate.mask"]["omnigate.values_masked"] == 2  # counts ...
    assert attributes["GET contact"]["http.route"] == "contact"
    assert attributes["GET contact"]["http.response.status_code"] == 200
    assert attributes["GET"]["http.response.status_code"] == 200
    # ... never values, paths or the caller's subject
    exported = repr([_attributes(span) for span in receiver.spans])
    for secret in ("+14155557890", "jane@example.com", "/contacts/7", "user-agent"):  # sub last
        assert secret not in exported
    (line,) = [orjson.loads(text) for text in live.access.getvalue().splitlines()]
    assert line["trace_id"] == CLIENT_TRACE


async def test_without_an_incoming_traceparent_a_new_trace_starts_and_is_logged(
    live: Live, upstream: Upstream, receiver: Receiver
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(_address(live.gateway) + "/contacts/7", headers=bearer("admin")) as resp,
    ):
        assert resp.status == 200
    await live.stop()
    server = next(span for span in receiver.spans if span.name == "GET contact")
    assert server.parent_span_id == b""
    (line,) = [orjson.loads(text) for text in live.access.getvalue().splitlines()]
    assert line["trace_id"] == server.trace_id.hex()
    assert upstream.headers[-1]["traceparent"].split("-")[1] == server.trace_id.hex()


def _attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value"))
    return values


@pytest.mark.parametrize(
    ("otel", "environ", "wanted"),
    [
        # nothing set: tracing off
        (None, {}, False),
        # the standard variable turns it on
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        # so does the traces-only one
        (None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True),
        # and --otel
        ("http://collector:4318", {}, True),
        # the SDK's own off switch wins
        ("http://collector:4318", {"OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_when_an_endpoint_is_set(
    otel: str | None, environ: dict[str, str], wanted: bool
) -> None:
    settings = _settings(otel)
    assert tracing.wanted(settings, environ) is wanted


def test_an_unknown_otlp_protocol_is_a_settings_error() -> None:
    environ = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
    with pytest.raises(SettingsError, match="http/protobuf or grpc, got 'http/json'"):
        tracing.start(_settings("http://127.0.0.1:9"), environ)
    assert tracing.TRACER is None


@pytest.mark.parametrize(
    ("header", "trace_id"),
    [
        # a well-formed traceparent
        (TRACEPARENT, CLIENT_TRACE),
        # upper-case hex is read as the same id
        (TRACEPARENT.upper(), CLIENT_TRACE),
        # the all-zero trace id is invalid
        ("00-" + "0" * 32 + "-00f067aa0ba902b7-01", None),
        # not hex
        ("00-" + "z" * 32 + "-00f067aa0ba902b7-01", None),
        # truncated
        ("00-4bf92f3577b34da6", None),
        # absent
        (None, None),
    ],
)
def test_trace_id_of_reads_a_w3c_traceparent(header: str | None, trace_id: str | None) -> None:
    assert tracing.trace_id_of(header) == trace_id


def _settings(otel: str | None) -> Settings:
    return Settings(
        upstream=yarl.URL("http://127.0.0.1:9"),
        listen=Listen("127.0.0.1", 0),
        admin_listen=Listen("127.0.0.1", 0),
        rules=ROOT / "rules" / "examples",
        workers=1,
        upstream_timeout=5.0,
        max_body=1 << 20,
        log_format="json",
        audit_log="-",
        otel=otel,
    )


NO_TRACING = """
import asyncio, sys
from pathlib import Path
import aiohttp, yarl
from aiohttp import web
from gateway.rules_plan import load_plan
from gateway.settings import Listen, Settings
from gateway.web_server import start_gateway

async def main():
    app = web.Application()
    app.router.add_get("/{tail:.*}", lambda request: web.json_response({"ok": 1}))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rules = Path(sys.argv[1])
    settings = Settings(yarl.URL(f"http://127.0.0.1:{port}"), Listen("127.0.0.1", 0),
        Listen("127.0.0.1", 0), rules, 1, 5.0, 1 << 20, "json", "-")
    gateway = await start_gateway(settings, load_plan(rules))
    host, gport = gateway.runners[0].addresses[0][:2]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{host}:{gport}/x",
                               headers={"traceparent": sys.argv[2]}) as resp:
            assert resp.status == 200, resp.status
    await gateway.stop(drain_seconds=1.0)
    await runner.cleanup()
    print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))

asyncio.run(main())
"""


def test_without_an_endpoint_no_tracing_code_is_even_imported(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(textwrap.dedent(MINIMAL_RULES))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", NO_TRACING, str(rules), TRACEPARENT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environ, "OMNIGATE_JWT_SECRET": "x" * 32},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    # the access line still names the client's trace (it went upstream as it came)
    access = [orjson.loads(line) for line in result.stdout.splitlines()[:-1]]
    assert [line["trace_id"] for line in access if line["event"] == "access"] == [CLIENT_TRACE]


def test_stop_does_not_wait_for_an_exporter_that_hangs() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

    released = threading.Event()

    class HangingExporter(SpanExporter):  # an unreachable collector, retrying
        def shutdown(self) -> None:
            released.wait()

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(HangingExporter()))
    tracing.TRACER = tracing.Tracing(provider)
    try:
        tracing.stop(timeout=0.05)  # returns although the export has not finished
        assert tracing.TRACER is None
        assert not released.is_set()
    finally:
        released.set()
