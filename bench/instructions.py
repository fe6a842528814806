"""Instructions per request of a proxy, counted by valgrind (callgrind): repeatable under load.

    python -m bench.instructions [--requests N] [--concurrency C] [--target baseline|gateway]
                                 [--payload small_300B|post_1KB|large_200KB] [--keep DIR]

CPU seconds read from /proc move by 10-20 % on a shared machine; an instruction count does not
move with what else runs. Each target runs under `valgrind --tool=callgrind` (the upstream and
the client run natively); after a warm-up its counters are zeroed, N requests are sent at
concurrency C, and the counters are dumped: instructions / N is the figure. Valgrind answers
`callgrind_control` only while the process runs, so a trickle of requests (counted) keeps it
awake until each command is acknowledged (those sent before the dump are counted; before the
zeroing, not: each side is off by at most one request).

What it does not count: the kernel's work (syscalls run natively, outside valgrind), so a change
in the number of syscalls shows in the bench's CPU figures, not here. `--keep DIR` keeps the
dump for `callgrind_annotate`.

Python functions by name: callgrind sees only the interpreter's C functions, every Python frame
being one `_PyEval_EvalFrameDefault`. With `--python-names` the target runs under a Python 3.12+
interpreter (`--python`, e.g. a 3.12 venv with the project installed) with `-X perf`: each Python
function then runs through its own trampoline, named in `/tmp/perf-PID.map`, and the kept dump is
also written as `*.named` with those names, so that

    callgrind_annotate --inclusive=yes DIR/callgrind.gateway.small_300B.1.named

lists `handle:gateway/web_proxy.py`, `UrlDispatcher.resolve:aiohttp/...` with their inclusive
instructions (divide by the request count). Trampolines and 3.12 inflate every call (~1.4x the
3.11 total): read the figures as proportions, and price changes with the plain count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.loadgen import encode_request, read_response
from bench.processes import PYTHON, ROOT, Server, free_port, python_server
from bench.proxy_overhead import PAYLOADS
from bench.stack import RULES, SECRET, SECRET_ENV, mint_token

_TOTALS = re.compile(rb"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def _valgrind(out: Path) -> list[str]:
    return [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        "--dump-instr=no",
        "--trace-children=no",
    ]


def start_target(
    target: str,
    upstream: str,
    out: Path,
    launcher: Path | None = None,
    python: list[str] | None = None,
) -> Server:
    port = free_port()
    env = dict(os.environ, PYTHONHASHSEED="0", **{SECRET_ENV: SECRET})
    py = python or [PYTHON]
    if target == "baseline":
        argv = [*py, "-m", "bench.baseline_proxy", str(port), upstream]
    else:
        argv = [
            *([*py, str(launcher)] if launcher else [*py, "-m", "gateway"]),
            "serve", "--upstream", upstream,
            "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{free_port()}",
            "--rules", str(RULES), "--log-format", "json", "--workers", "1",
        ]  # fmt: skip
    server = Server(target, [*_valgrind(out), *argv], port, env=env)
    server.wait_ready(timeout=600)
    return server


async def _send(port: int, request: bytes, count: int, concurrency: int) -> None:
    async def one(share: int) -> None:
        done = 0
        while done < share:
            # a connection the server closes (its idle timeout, when valgrind starves it on a busy
            # machine) is opened again; only answered requests count
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
            try:
                while done < share:
                    writer.write(request)
                    status = await read_response(reader)
                    if status >= 400:
                        raise RuntimeError(f"status {status}")
                    done += 1
            except (asyncio.IncompleteReadError, ConnectionError):
                continue
            finally:
                writer.close()

    shares = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(one(share) for share in shares if share))


async def _command(pid: int, flag: str, port: int, request: bytes) -> int:
    """Run `callgrind_control FLAG PID`, sending one request at a time until it returns."""
    control = await asyncio.create_subprocess_exec(
        "callgrind_control", flag, str(pid), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sent = 0
    while control.returncode is None:
        await _send(port, request, 1, 1)
        sent += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(control.wait(), 0.2)
    return sent


def _instructions(out: Path) -> int:
    """Ir of the last dump callgrind wrote for `out` (the `-d` one)."""
    dumps = sorted(out.parent.glob(out.name + "*"), key=lambda p: p.stat().st_mtime)
    found = _TOTALS.findall(dumps[-1].read_bytes())
    return int(found[-1])


_UNNAMED = re.compile(r"^(c?fn=\(\d+\)) 0x([0-9a-f]+)$")


def name_python_functions(dump: Path, perf_map: Path) -> Path:
    """`dump` with each `-X perf` trampoline named as its Python function: `DUMP.named`."""
    names: dict[int, str] = {}
    for line in perf_map.read_text().splitlines():
        address, _size, name = line.split(" ", 2)
        names[int(address, 16)] = name.removeprefix("py::")
    named = dump.with_name(dump.name + ".named")
    with dump.open() as source, named.open("w") as sink:
        for line in source:
            found = _UNNAMED.match(line.rstrip("\n"))
            if found is not None and int(found[2], 16) in names:
                line = f"{found[1]} {names[int(found[2], 16)]}\n"
            sink.write(line)
    return named


def measure(
    target: str,
    payload: str,
    requests: int,
    concurrency: int,
    keep: Path | None,
    launcher: Path | None = None,
    python: str | None = None,
    python_names: bool = False,
) -> dict[str, float]:
    method, path, body = PAYLOADS[payload]
    workdir = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    out = workdir / f"callgrind.{target}.{payload}"
    upstream = python_server("upstream", "bench.upstream")
    server: Server | None = None
    try:
        interpreter = [python or PYTHON, *(["-X", "perf"] if python_names else [])]
        server = start_target(target, upstream.url, out, launcher, interpreter)
        spec = {
            "method": method,
            "path": path,
            "host": f"127.0.0.1:{server.port}",
            "headers": {"Authorization": f"Bearer {mint_token('agent')}"},
            "body": body.decode(),
        }
        raw = encode_request(spec)

        async def session() -> tuple[int, float]:
            await _send(server.port, raw, max(200, requests // 10), concurrency)  # warm-up
            await _command(server.pid, "-z", server.port, raw)
            started = time.perf_counter()
            await _send(server.port, raw, requests, concurrency)
            elapsed = time.perf_counter() - started
            after = await _command(server.pid, "-d", server.port, raw)
            return after, elapsed

        after, elapsed = asyncio.run(session())
        total = _instructions(out)
    finally:
        if server is not None:
            server.stop()
        upstream.stop()
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        perf_map = Path(f"/tmp/perf-{server.pid if server is not None else 0}.map")
        for dump in workdir.glob("callgrind.*"):
            shutil.copy(dump, keep / dump.name)
            if python_names and perf_map.exists():
                name_python_functions(keep / dump.name, perf_map)
        perf_map.unlink(missing_ok=True)
    shutil.rmtree(workdir, ignore_errors=True)
    # Trickle requests: those sent before the zeroing took effect are outside the window (all but
    # at most the last), those sent before the dump took effect are inside it (all but the last).
    counted = requests + max(after - 1, 0)
    return {"instructions_per_request": total / counted, "requests": counted, "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--target", action="append", choices=("baseline", "gateway"))
    parser.add_argument("--payload", action="append", choices=tuple(PAYLOADS))
    parser.add_argument("--keep", type=Path, default=None)
    # A/B experiments: a script run as `python FILE serve ...` in place of `python -m gateway`
    # (e.g. one that switches a stage off before calling gateway.cli.main).
    parser.add_argument("--launcher", type=Path, default=None)
    parser.add_argument("--python", default=None, help="the target's interpreter")
    parser.add_argument(
        "--python-names",
        action="store_true",
        help="name Python functions in the kept dump (Python 3.12+ `--python`, `--keep`)",
    )
    args = parser.parse_args()
    if args.python_names and args.keep is None:
        raise SystemExit("bench.instructions: --python-names needs --keep DIR")
    if shutil.which("valgrind") is None:
        raise SystemExit("bench.instructions: valgrind is not installed (apt-get install valgrind)")
    os.chdir(ROOT)
    rows: dict[tuple[str, str], float] = {}
    for payload in args.payload or ("small_300B", "post_1KB"):
        for target in args.target or ("baseline", "gateway"):
            result = measure(
                target,
                payload,
                args.requests,
                args.concurrency,
                args.keep,
                args.launcher,
                args.python,
                args.python_names,
            )
            rows[(payload, target)] = result["instructions_per_request"]
            print(
                f"{payload:12} {target:9} {result['instructions_per_request'] / 1000:9.1f} "
                f"k instructions/request ({result['requests']:.0f} requests)",
                flush=True,
            )
        base, gate = rows.get((payload, "baseline")), rows.get((payload, "gateway"))
        if base and gate:
            print(f"{payload:12} gateway/baseline {gate / base:.3f}", flush=True)


if __name__ == "__main__":
    main()
