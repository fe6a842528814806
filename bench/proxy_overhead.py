"""Scenario `proxy`: what pass-through costs. direct vs baseline proxy vs gateway, same payloads.

The gateway serves these paths on no route (no masking): it authenticates the token (cached after
the first request), matches no route, streams both ways and writes its access log line. The CPU
compared is the proxy process's own (baseline vs gateway); the upstream's is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import documents
from bench.load import Request, run_load
from bench.stack import Stack

PAYLOADS: dict[str, tuple[str, str, bytes]] = {
    "small_300B": ("GET", "/bench/small", b""),
    "large_200KB": ("GET", "/bench/large", b""),
    "post_1KB": ("POST", "/bench/echo", documents.post_bytes()),
}
TARGETS = ("direct", "baseline", "gateway")


@dataclass(frozen=True)
class LoadSettings:
    tool: str
    concurrency: int
    duration: float
    warmup: float


def run(stack: Stack, load: LoadSettings) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    # Payload-major order: the three targets of one payload run back to back, close in time.
    for payload, (method, path, body) in PAYLOADS.items():
        request = Request(method, path, {"Authorization": f"Bearer {stack.agent}"}, body)
        for target in TARGETS:
            proxy = {"direct": None, "baseline": stack.baseline, "gateway": stack.gateway}[target]
            url = proxy.url if proxy is not None else stack.upstream.url
            measured = [stack.upstream] + ([proxy] if proxy is not None else [])
            if load.warmup > 0:
                run_load(load.tool, url, request, load.concurrency, load.warmup, [])
            result = run_load(load.tool, url, request, load.concurrency, load.duration, measured)
            rows.append(
                {
                    "payload": payload,
                    "target": target,
                    "requests": result.requests,
                    "errors": result.errors,
                    "rps": result.rps,
                    "p50_ms": result.p50_ms,
                    "p99_ms": result.p99_ms,
                    "proxy_cpu_us_per_req": result.cpu_us.get(proxy.name) if proxy else None,
                    "upstream_cpu_us_per_req": result.cpu_us["upstream"],
                }
            )
    return {"rows": rows, "ratios": ratios(rows)}


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per payload: gateway/baseline proxy CPU per request, gateway/direct and baseline/direct
    latency, gateway/baseline throughput."""
    by_key = {(row["payload"], row["target"]): row for row in rows}
    out = []
    for payload in PAYLOADS:
        direct = by_key.get((payload, "direct"))
        baseline = by_key.get((payload, "baseline"))
        gateway = by_key.get((payload, "gateway"))
        if not (direct and baseline and gateway):
            continue
        out.append(
            {
                "payload": payload,
                "gateway_vs_baseline_cpu": _ratio(
                    gateway["proxy_cpu_us_per_req"], baseline["proxy_cpu_us_per_req"]
                ),
                "gateway_vs_direct_p50": _ratio(gateway["p50_ms"], direct["p50_ms"]),
                "gateway_vs_direct_p99": _ratio(gateway["p99_ms"], direct["p99_ms"]),
                "baseline_vs_direct_p50": _ratio(baseline["p50_ms"], direct["p50_ms"]),
                "gateway_vs_baseline_rps": _ratio(gateway["rps"], baseline["rps"]),
            }
        )
    return out


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
