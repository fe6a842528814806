"""OpenTelemetry tracing (SPEC 6), on only with `OTEL_EXPORTER_OTLP_ENDPOINT` (or `--otel`) set.

Spans: one server span per request (continuing an incoming `traceparent`), one client span per
upstream call (whose context is what goes upstream in `traceparent`), a masking span per masked
body and a stamping span per webhook, with counts as attributes, never values.

Without it no tracing code runs: opentelemetry is imported by `start` only, and the hooks are
chosen when the app is built (`traced_handler`, `upstream_class`); the one check left on a path
that masks a body (`mask`) is a global read.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import yarl
from aiohttp import web
from multidict import CIMultiDict

from gateway import __version__
from gateway.client_upstream import Upstream
from gateway.settings import Settings, SettingsError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

    from gateway.channels import WebhookRequest, WebhookResult
    from gateway.channels.contract import Channel
    from gateway.document_masker import DocumentMasker, Masked
    from gateway.transform import Outcome

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
INSTALL_HINT = "pip install 'omnigate-sidecar[otel]'"


def wanted(settings: Settings, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether tracing is configured: `--otel`, or the standard endpoint variables."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(settings.otel) or any(environ.get(name) for name in ENDPOINT_VARIABLES)


class Tracing:
    """The tracer and the propagator, with one method per hook point."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import propagate, trace

        self.provider = provider
        self._tracer = provider.get_tracer("omnigate", __version__)
        self._propagate = propagate
        self._trace = trace
        self._kind = trace.SpanKind
        self._error = trace.Status(trace.StatusCode.ERROR)

    async def serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The server span: the request's whole life in the gateway, child of its traceparent."""
        parent = self._propagate.extract(request.headers)
        with self._tracer.start_as_current_span(
            request.method,
            context=parent,
            kind=self._kind.SERVER,
            # PII: no URL, no query, no path here; the route and the status come with `annotate`.
            attributes={"http.request.method": request.method},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await handler(request)
            except BaseException as exc:
                span.set_status(self._error)
                span.set_attribute("error.type", type(exc).__name__)
                raise

    def annotate(self, fields: Mapping[str, Any]) -> str | None:
        """Name and label the current server span from the access-log fields; its trace id.

        PII: only the route, the logged path template, the role, the status and counts: never the
        JWT `sub`, which the access log keeps.
        """
        span = self._trace.get_current_span()
        context = span.get_span_context()
        if not context.is_valid:
            return None
        route, status = fields.get("route"), fields.get("status")
        span.update_name(f"{fields.get('method')} {route}")
        span.set_attribute("http.route", str(route))
        span.set_attribute("http.response.status_code", int(status or 0))
        span.set_attribute("omnigate.role", str(fields.get("role")))
        span.set_attribute("omnigate.request_id", str(fields.get("request_id")))
        span.set_attribute("omnigate.values_masked", int(fields.get("masked") or 0))
        if isinstance(status, int) and status >= 500:
            span.set_status(self._error)
        return f"{context.trace_id:032x}"

    async def call_upstream(
        self,
        method: str,
        url: yarl.URL,
        headers: CIMultiDict[str],
        send: Callable[[], Awaitable[Any]],
    ) -> Any:
        """The client span around `send`, and its context injected into `headers`."""
        with self._tracer.start_as_current_span(
            method,
            kind=self._kind.CLIENT,
            # PII: the upstream host and port only; the path may carry ids and phone numbers.
            attributes={
                "http.request.method": method,
                "server.address": url.host or "",
                "server.port": url.port or 0,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            # The client's traceparent is replaced by this span's: the upstream's spans hang
            # under the gateway's, in the same trace.
            self._propagate.inject(headers)
            try:
                response = await send()
            except BaseException as exc:
                span.set_status(self._error)
                span.set_attribute("error.type", type(exc).__name__)
                raise
            span.set_attribute("http.response.status_code", getattr(response, "status", 0))
            return response

    def mask(self, masker: DocumentMasker, document: Any, outcome: Outcome) -> Masked:
        with self._tracer.start_as_current_span(
            "omnigate.mask", record_exception=False, set_status_on_exception=False
        ) as span:
            masked_before, stamped_before = outcome.masked_total, outcome.stamped
            try:
                result = masker.mask(document, outcome)
            except Exception as exc:
                span.set_status(self._error)
                span.set_attribute("error.type", type(exc).__name__)
                raise
            _count(span, outcome.masked_total - masked_before, outcome.stamped - stamped_before)
            return result

    def stamp(self, channel: Channel, request: WebhookRequest) -> WebhookResult:
        with self._tracer.start_as_current_span(
            "omnigate.stamp",
            attributes={"omnigate.channel": channel.name},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = channel.process(request)
            except Exception as exc:
                span.set_status(self._error)
                span.set_attribute("error.type", type(exc).__name__)
                raise
            span.set_attribute("omnigate.webhook.outcome", result.outcome)
            span.set_attribute("omnigate.identities_stamped", len(result.kinds))
            return result


def _count(span: Span, masked: int, stamped: int) -> None:
    span.set_attribute("omnigate.values_masked", masked)
    span.set_attribute("omnigate.identities_stamped", stamped)


TRACER: Tracing | None = None  # None: tracing is off and none of the code above runs


def start(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """Set up the tracer when tracing is configured; a no-op otherwise (once per worker)."""
    global TRACER
    if TRACER is not None or not wanted(settings, environ):
        return
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise SettingsError(f"--otel: tracing needs the otel extra: {INSTALL_HINT}") from None
    provider = TracerProvider(
        resource=Resource.create({"service.name": "omnigate", "service.version": __version__})
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings, environ)))
    TRACER = Tracing(provider)


def _exporter(settings: Settings, environ: Mapping[str, str]) -> Any:
    """OTLP over HTTP/protobuf, unless OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says grpc."""
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found, unused-ignore]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            raise SettingsError(
                "OTEL_EXPORTER_OTLP_PROTOCOL: grpc needs opentelemetry-exporter-otlp-proto-grpc"
            ) from None
        return GrpcExporter(endpoint=settings.otel) if settings.otel else GrpcExporter()
    if protocol != "http/protobuf":
        raise SettingsError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL: expected http/protobuf or grpc, got {protocol!r}"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if settings.otel:  # a base URL, like OTEL_EXPORTER_OTLP_ENDPOINT: the signal path is added
        return OTLPSpanExporter(endpoint=settings.otel.rstrip("/") + "/v1/traces")
    return OTLPSpanExporter()


STOP_SECONDS = 2.0


def stop(timeout: float = STOP_SECONDS) -> None:
    """Export what is left and turn tracing off (at the end of the drain), waiting at most
    `timeout`: an unreachable collector (whose exporter retries for seconds) must not hold up
    the shutdown. Blocking: call it in a thread."""
    global TRACER
    tracer, TRACER = TRACER, None
    if tracer is not None:
        exporting = threading.Thread(
            target=tracer.provider.shutdown, name="omnigate-otel-stop", daemon=True
        )
        exporting.start()
        exporting.join(timeout)


def traced_handler(handler: Handler) -> Handler:
    """`handler` inside a server span when tracing is on; `handler` itself otherwise."""
    tracer = TRACER
    if tracer is None:
        return handler

    async def traced(request: web.Request) -> web.StreamResponse:
        return await tracer.serve(request, handler)

    return traced


def upstream_class() -> type[Upstream]:
    return Upstream if TRACER is None else TracedUpstream


@dataclass(frozen=True)
class TracedUpstream(Upstream):
    """The upstream boundary with a client span (and traceparent) around each call."""

    async def send(
        self, method: str, url: yarl.URL, headers: CIMultiDict[str], body: Any
    ) -> aiohttp.ClientResponse:
        tracer = TRACER
        if tracer is None:
            return await super().send(method, url, headers, body)
        response: aiohttp.ClientResponse = await tracer.call_upstream(
            method, url, headers, lambda: Upstream.send(self, method, url, headers, body)
        )
        return response

    async def ws_connect(
        self, url: yarl.URL, headers: CIMultiDict[str], protocols: tuple[str, ...]
    ) -> aiohttp.ClientWebSocketResponse:
        tracer = TRACER
        if tracer is None:
            return await super().ws_connect(url, headers, protocols)
        response: aiohttp.ClientWebSocketResponse = await tracer.call_upstream(
            "GET", url, headers, lambda: Upstream.ws_connect(self, url, headers, protocols)
        )
        return response


def mask(masker: DocumentMasker, document: Any, outcome: Outcome) -> Masked:
    """`masker.mask(document, outcome)`, in a span with its counts when tracing is on."""
    tracer = TRACER
    if tracer is None:
        return masker.mask(document, outcome)
    return tracer.mask(masker, document, outcome)


def stamp(channel: Channel, request: WebhookRequest) -> WebhookResult:
    """`channel.process(request)`, in a span with its outcome and count when tracing is on."""
    tracer = TRACER
    if tracer is None:
        return channel.process(request)
    return tracer.stamp(channel, request)


_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}", re.IGNORECASE)


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C `traceparent` (for the access log when tracing is off)."""
    if not traceparent:
        return None
    found = _TRACEPARENT.match(traceparent)
    if found is None or found[1] == "0" * 32:
        return None
    return found[1].lower()
