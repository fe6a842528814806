"""Scenario `stall`: small requests' latency while large responses are being masked.

The gateway serves every request from one event loop: a response masked on that loop holds up
every other request for as long as the mask runs (~40 ms for the adversarial 242 KB document).
The gateway hands bodies of `OFFLOAD_BYTES` and more to a worker thread (gateway/web_respond.py);
this scenario measures what is left of the stall for everyone else.

Two measurements back to back, of the same small-request load (agent token, `/bench/small`, a
path no route matches, `concurrency` keep-alive connections, the proxy scenario's load tool):

- `alone`: nothing else runs;
- `with_masking`: `BACKGROUND_CLIENTS` more connections fetch the adversarial masked document in a
  closed loop (the built-in generator, its own process), started `lead` seconds before the
  small-request load and outlasting it, so masking runs during the whole measurement.

Reported per measurement: small-request req/s, p50/p99/max latency and the gateway's CPU (in
cores: the worker thread shares the GIL, so one process stays near one core); and the background's
own throughput and latency. The two measurements are seconds apart in one run, on one gateway.
"""

from __future__ import annotations

import time
from typing import Any

from bench.load import Request, collect, run_load, spawn_builtin
from bench.proxy_overhead import LoadSettings
from bench.stack import Stack

SMALL_PATH = "/bench/small"
MASKED_PATH = "/api/v1/accounts/1/conversations/2/messages"  # adversarial, ~242 KB
BACKGROUND_CLIENTS = 2
TAIL = 1.5  # seconds the background outlasts the small-request load (process start-up included)


def _offload_bytes() -> int | None:
    """The gateway's worker-thread threshold, recorded with the figures it explains."""
    try:
        from gateway import web_respond
    except ImportError:
        return None
    value = getattr(web_respond, "OFFLOAD_BYTES", None)
    return value if isinstance(value, int) else None


def _measure(stack: Stack, load: LoadSettings, request: Request) -> dict[str, Any]:
    started = time.perf_counter()
    result = run_load(
        load.tool, stack.gateway.url, request, load.concurrency, load.duration, [stack.gateway]
    )
    wall = time.perf_counter() - started
    cpu_seconds = result.cpu_us["gateway"] * result.requests / 1e6
    return {
        "requests": result.requests,
        "errors": result.errors,
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "gateway_cpu_cores": cpu_seconds / wall if wall else 0.0,
    }


def run(stack: Stack, load: LoadSettings) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {stack.agent}"}
    small = Request("GET", SMALL_PATH, auth)
    masked = Request("GET", MASKED_PATH, auth)
    url = stack.gateway.url
    if load.warmup > 0:
        run_load(load.tool, url, small, load.concurrency, load.warmup, [])
    alone = _measure(stack, load, small)
    # The background starts first (lead covers its start-up and first responses) and ends after.
    lead = max(load.warmup, 0.5)
    background = spawn_builtin(url, masked, BACKGROUND_CLIENTS, lead + load.duration + TAIL)
    try:
        time.sleep(lead)
        loaded = _measure(stack, load, small)
    except BaseException:
        background.kill()
        background.communicate()
        raise
    stats = collect(background, timeout=lead + load.duration + TAIL + 60)
    seconds = float(stats["seconds"])
    return {
        "small_path": SMALL_PATH,
        "masked_path": MASKED_PATH,
        "background_clients": BACKGROUND_CLIENTS,
        "offload_bytes": _offload_bytes(),
        "alone": alone,
        "with_masking": loaded,
        "background": {
            "requests": int(stats["requests"]),
            "errors": int(stats["errors"]),
            "rps": stats["requests"] / seconds if seconds else 0.0,
            "p50_ms": float(stats["p50_ms"]),
            "p99_ms": float(stats["p99_ms"]),
            "max_ms": float(stats["max_ms"]),
        },
        "p50_ratio": _ratio(loaded["p50_ms"], alone["p50_ms"]),
        "p99_ratio": _ratio(loaded["p99_ms"], alone["p99_ms"]),
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None
