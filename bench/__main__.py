"""`python -m bench`: run the scenarios, print the tables, write bench/results/bench-*.json."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import (
    linking_inprocess,
    loop_stall,
    masking_breakdown,
    masking_gateway,
    masking_inprocess,
    proxy_overhead,
    report,
    websocket_feed,
)
from bench.load import pick_tool
from bench.processes import ROOT, install_uvloop
from bench.proxy_overhead import LoadSettings
from bench.stack import Stack
from bench.websocket_feed import FeedSettings

SCENARIOS = ("proxy", "masking", "stall", "websocket", "linking")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="tiny run (about a second per measurement): checks the bench works, "
                             "its figures mean little")  # fmt: skip
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="seconds of load per HTTP measurement (default 8, --quick 1)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=10,
        metavar="N",
        help="keep-alive connections of the load generator (default 10)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "builtin"),
        default="auto",
        help="load generator: wrk when installed (auto), or the built-in one",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="S",
        help="CPU seconds per in-process masking case (default 1.5, --quick 0.1)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "bench" / "results",
        metavar="DIR",
        help="where the JSON result goes (default bench/results)",
    )
    parser.add_argument(
        "--gateway-log",
        type=Path,
        default=None,
        metavar="FILE",
        help="append the gateway's output here (default: discarded)",
    )
    return parser


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def meta(args: argparse.Namespace, tool: str, duration: float) -> dict[str, Any]:
    import aiohttp

    return {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "loop": install_uvloop(),
        "loadgen": tool,
        "concurrency": args.concurrency,
        "duration": duration,
        "quick": args.quick,
        "loadavg_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scenarios = args.only or list(SCENARIOS)
    duration = args.duration or (1.0 if args.quick else 8.0)
    budget = args.budget or (0.1 if args.quick else 1.5)
    tool = pick_tool(args.loadgen)
    # wrk's shortest run is a second; the quick mode skips warm-ups rather than double its time.
    load = LoadSettings(tool, args.concurrency, duration, 0.0 if args.quick else 1.0)
    feed = FeedSettings(rounds=100, frames=500) if args.quick else FeedSettings(1000, 10_000)
    results: dict[str, Any] = {"meta": meta(args, tool, duration)}
    if "masking" in scenarios:
        print("masking in-process ...", file=sys.stderr)
        results["masking_inprocess"] = masking_inprocess.run(budget, 1 if args.quick else 3)
        results["masking_breakdown"] = masking_breakdown.run(budget / 3)
    if "linking" in scenarios:
        print("identity linking in-process ...", file=sys.stderr)
        results["linking_inprocess"] = linking_inprocess.report(
            100 if args.quick else 1000, 3 if args.quick else 20
        )
    if {"proxy", "masking", "stall", "websocket"} & set(scenarios):
        with Stack.start(with_baseline="proxy" in scenarios, gateway_log=args.gateway_log) as s:
            if "proxy" in scenarios:
                print("proxy pass-through ...", file=sys.stderr)
                results["proxy"] = proxy_overhead.run(s, load)
            if "masking" in scenarios:
                print("masking through the gateway ...", file=sys.stderr)
                results["masking_gateway"] = masking_gateway.run(s, load)
            if "stall" in scenarios:
                print("small requests while large responses are masked ...", file=sys.stderr)
                results["stall"] = loop_stall.run(s, load)
            if "websocket" in scenarios:
                print("websocket feed ...", file=sys.stderr)
                results["websocket"] = websocket_feed.run(s, feed)
    results["meta"]["loadavg_end"] = os.getloadavg()
    print(report.render(results))
    path = report.write_json(results, args.output)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
