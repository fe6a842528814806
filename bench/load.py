"""Driving HTTP load at a server and measuring what it cost the server processes.

The load runs in its own process: `wrk` (one thread) when installed, else `bench.loadgen`. While
it runs, this process only waits, so the CPU the servers report is theirs alone.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.processes import PYTHON, ROOT, Server

_WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "errors": %d, "seconds": %.6f, "p50_ms": %.4f, "p99_ms": %.4f, '
    .. '"max_ms": %.4f}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_us: dict[str, float]  # server name -> CPU microseconds per completed request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def pick_tool(choice: str) -> str:
    """`wrk` or `builtin`; `auto` takes wrk when it is on PATH."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "builtin"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("bench: --loadgen wrk asked for, but wrk is not installed")
    return choice


def _wrk_argv(
    url: str, request: Request, concurrency: int, duration: float, tmp: Path
) -> list[str]:
    body_file = tmp / "body"
    body_file.write_bytes(request.body)
    lines = [f'wrk.method = "{request.method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in request.headers.items()]
    if request.body:
        lines.append(f'local f = io.open("{body_file}", "rb"); wrk.body = f:read("*a"); f:close()')
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    script = tmp / "bench.lua"
    script.write_text("\n".join(lines) + "\n" + _WRK_DONE)
    seconds = max(1, round(duration))
    return [
        "wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), url + request.path,
    ]  # fmt: skip


def _builtin_argv(url: str, request: Request, concurrency: int, duration: float) -> list[str]:
    host_port = url.removeprefix("http://")
    host, _, port = host_port.partition(":")
    headers = dict(request.headers)
    if request.body:
        headers["Content-Type"] = "application/json"
    spec = {
        "host": host,
        "port": int(port),
        "method": request.method,
        "path": request.path,
        "headers": headers,
        "body": request.body.decode(),
        "concurrency": concurrency,
        "duration": duration,
    }
    return [PYTHON, "-m", "bench.loadgen", orjson.dumps(spec).decode()]


def _parse(tool: str, stdout: str) -> dict[str, float]:
    for line in stdout.splitlines():
        if tool == "wrk" and line.startswith("BENCH_JSON "):
            return dict(orjson.loads(line.removeprefix("BENCH_JSON ")))
        if tool == "builtin" and line.startswith("{"):
            return dict(orjson.loads(line))
    raise RuntimeError(f"no result from the {tool} load generator: {stdout[-500:]!r}")


def spawn_builtin(
    url: str, request: Request, concurrency: int, duration: float
) -> subprocess.Popen[str]:
    """Start the built-in generator without waiting for it: a background load beside a measured
    one. `collect` reads its figures once it is done."""
    argv = _builtin_argv(url, request, concurrency, duration)
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def collect(process: subprocess.Popen[str], timeout: float) -> dict[str, float]:
    """The figures of a `spawn_builtin` load (requests, errors, seconds, p50/p99/max ms)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError("the background load generator did not finish in time") from None
    if process.returncode != 0:
        raise RuntimeError(f"background load failed ({process.returncode}): {stderr[-500:]}")
    return _parse("builtin", stdout)


def run_load(
    tool: str,
    url: str,
    request: Request,
    concurrency: int,
    duration: float,
    measured: list[Server],
) -> LoadResult:
    """Load `url` for `duration` seconds; CPU per request of each server in `measured`."""
    with tempfile.TemporaryDirectory(prefix="omnigate-bench-") as tmp:
        if tool == "wrk":
            argv = _wrk_argv(url, request, concurrency, duration, Path(tmp))
        else:
            argv = _builtin_argv(url, request, concurrency, duration)
        before = {server.name: server.cpu() for server in measured}
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=duration + 60, check=False
        )
        after = {server.name: server.cpu() for server in measured}
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-500:]}")
    stats = _parse(tool, done.stdout)
    requests = int(stats["requests"])
    per_request = {
        name: (after[name] - before[name]) * 1e6 / requests if requests else 0.0 for name in before
    }
    return LoadResult(
        requests=requests,
        errors=int(stats["errors"]),
        seconds=float(stats["seconds"]),
        p50_ms=float(stats["p50_ms"]),
        p99_ms=float(stats["p99_ms"]),
        max_ms=float(stats.get("max_ms", 0.0)),
        cpu_us=per_request,
    )
