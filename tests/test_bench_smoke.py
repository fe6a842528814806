"""`python -m bench --quick` runs end to end and reports every scenario (structure, not timings).

The bench starts real processes (upstream, baseline proxy, gateway) on 127.0.0.1 and drives them
with its built-in load generator (wrk may be absent on CI). Besides the report's shape, the checks
that do not depend on the machine's speed are asserted: no request failed, the masked responses
and frames hold no clear PII, the pass-through scenarios measured every target, and the stall
scenario measured small requests both alone and beside the masked background load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--duration", "0.5", "--budget", "0.05",
         "--loadgen", "builtin", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    files = list(out.glob("bench-*.json"))
    assert len(files) == 1
    return done.stdout, json.loads(files[0].read_text())


def test_report_has_every_section(bench_run: tuple[str, dict[str, Any]]) -> None:
    stdout, results = bench_run
    for title in ("pass-through", "in-process", "by rule", "through the gateway",
                  "large responses are masked", "WebSocket", "identity linking"):  # fmt: skip
        assert title in stdout
    assert set(results) == {
        "meta", "proxy", "masking_inprocess", "masking_breakdown", "masking_gateway", "stall",
        "websocket", "linking_inprocess",
    }  # fmt: skip
    assert results["meta"]["loadgen"] == "builtin"
    assert results["meta"]["nproc"] >= 1


def test_proxy_rows_cover_every_payload_and_target(bench_run: tuple[str, dict[str, Any]]) -> None:
    proxy = bench_run[1]["proxy"]
    seen = {(row["payload"], row["target"]) for row in proxy["rows"]}
    assert seen == {
        (payload, target)
        for payload in ("small_300B", "large_200KB", "post_1KB")
        for target in ("direct", "baseline", "gateway")
    }
    for row in proxy["rows"]:
        assert row["requests"] > 0 and row["errors"] == 0, row
        assert row["p50_ms"] <= row["p99_ms"]
        # direct has no proxy process; the two proxies always report theirs
        assert (row["proxy_cpu_us_per_req"] is None) == (row["target"] == "direct")
    assert [r["payload"] for r in proxy["ratios"]] == ["small_300B", "large_200KB", "post_1KB"]


def test_masking_figures_and_no_leak(bench_run: tuple[str, dict[str, Any]]) -> None:
    inprocess = bench_run[1]["masking_inprocess"]
    for kind in ("realistic", "adversarial"):
        figures = inprocess[kind]
        for case in ("orjson_floor", "gateway_cold", "gateway_warm", "naive_regex",
                     "naive_regex_preparsed", "naive_matcher"):  # fmt: skip
            assert figures[case]["ms_per_response"] > 0 and figures[case]["runs"] >= 1
        for case in ("gateway_cold", "gateway_warm", "naive_matcher"):
            assert figures[case]["text_pii_left"] == 0, (kind, case)
        assert set(figures["ratios"]) >= {"naive_regex_vs_gateway_cold"}
    breakdown = bench_run[1]["masking_breakdown"]
    assert "unavailable" not in breakdown, breakdown.get("unavailable")
    assert [row["mask"] for row in breakdown["realistic"]] == ["text", "phone", "email", "name"]
    assert set(breakdown["text_us_per_text"]) >= {"plain", "phone", "email"}
    through = bench_run[1]["masking_gateway"]
    for case in (
        "passthrough_200KB",
        "masked_realistic",
        "masked_adversarial",
        "masked_fields_only",
    ):
        assert through[case]["requests"] > 0 and through[case]["errors"] == 0, case
    assert "masking_added_cpu_ms" in through["masked_realistic"]


def test_stall_small_requests_alone_and_with_masking(bench_run: tuple[str, dict[str, Any]]) -> None:
    stall = bench_run[1]["stall"]
    for case in ("alone", "with_masking", "background"):
        row = stall[case]
        assert row["requests"] > 0 and row["errors"] == 0, (case, row)
        assert row["p50_ms"] <= row["p99_ms"] <= row["max_ms"], (case, row)
    # the background is the masked route, hit while the small requests ran
    assert stall["masked_path"] != stall["small_path"]
    assert stall["background_clients"] >= 1
    assert stall["p99_ratio"] == stall["with_masking"]["p99_ms"] / stall["alone"]["p99_ms"]


def test_websocket_frames_masked_for_agent_only(bench_run: tuple[str, dict[str, Any]]) -> None:
    feed = bench_run[1]["websocket"]
    assert feed["gateway_agent"]["all_frames_masked"] is True
    assert feed["gateway_admin"]["all_frames_masked"] is False  # masking off: clear frames
    assert feed["direct"]["gateway_cpu_us_per_frame"] is None
    assert feed["gateway_agent"]["frames_per_s"] > 0


def test_python_functions_are_named_in_a_callgrind_dump(tmp_path: Path) -> None:
    from bench.instructions import name_python_functions

    dump = tmp_path / "callgrind.gateway.small_300B.1"
    dump.write_text(
        "fn=(1) 0x000000000547b00b\n"  # a trampoline the perf map names
        "cfn=(2) 0x000000000547b016\n"  # a call to another one
        "fn=(3) 0x0000000009999999\n"  # not in the map: left as it is
        "fn=(4) _PyEval_EvalFrameDefault\n"  # a C function: left as it is
    )
    perf_map = tmp_path / "perf-1.map"
    perf_map.write_text(
        "547b00b b py::handle:/g/web_proxy.py\n547b016 b py::Upstream.send:/g/client_upstream.py\n"
    )
    named = name_python_functions(dump, perf_map)
    assert named.name == dump.name + ".named"
    assert named.read_text().splitlines() == [
        "fn=(1) handle:/g/web_proxy.py",
        "cfn=(2) Upstream.send:/g/client_upstream.py",
        "fn=(3) 0x0000000009999999",
        "fn=(4) _PyEval_EvalFrameDefault",
    ]
