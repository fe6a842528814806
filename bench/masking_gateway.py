"""Scenario `masking` (through-the-gateway half): CPU per masked response in the real gateway.

The agent's requests hit the masked `bench-messages` route; the upstream answers each with new
texts (see bench.documents), so the text mask's cache does not help. The same realistic document
on an unmasked path (the `proxy` scenario's `large_200KB`) is loaded right before, as agent too:
the difference is what masking adds on top of proxying that body. `masked_fields_only` is the
realistic document under the field rules alone (no `text` rule, no known values, no sentinel):
the floor under which no detection can bring a masked response in this design.
"""

from __future__ import annotations

from typing import Any

from bench.load import Request, run_load
from bench.proxy_overhead import LoadSettings
from bench.stack import Stack

CASES = {
    "passthrough_200KB": "/bench/large",
    "masked_realistic": "/api/v1/accounts/1/conversations/1/messages",
    "masked_adversarial": "/api/v1/accounts/1/conversations/2/messages",
    "masked_fields_only": "/bench/fields/1/messages",
}


def run(stack: Stack, load: LoadSettings) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for case, path in CASES.items():
        request = Request("GET", path, {"Authorization": f"Bearer {stack.agent}"})
        url = stack.gateway.url
        if load.warmup > 0:
            run_load(load.tool, url, request, load.concurrency, load.warmup, [])
        result = run_load(load.tool, url, request, load.concurrency, load.duration, [stack.gateway])
        rows[case] = {
            "requests": result.requests,
            "errors": result.errors,
            "rps": result.rps,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "gateway_cpu_ms_per_resp": result.cpu_us["gateway"] / 1000,
        }
    base = rows["passthrough_200KB"]["gateway_cpu_ms_per_resp"]
    for case in ("masked_realistic", "masked_adversarial", "masked_fields_only"):
        rows[case]["masking_added_cpu_ms"] = rows[case]["gateway_cpu_ms_per_resp"] - base
    return rows
