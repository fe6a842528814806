"""The built-in load generator, for machines without `wrk`. Runs in its own process:

    python -m bench.loadgen SPEC_JSON   ->   prints one JSON result line

Closed loop: `concurrency` keep-alive connections, each sending its next request as soon as the
previous response is read, for `duration` seconds. HTTP/1.1 is spoken by hand over asyncio
streams (Content-Length and chunked bodies): aiohttp's client would cost several times the CPU,
and on a 2-core machine every cycle the client burns is taken from the servers it measures.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import orjson

from bench.processes import install_uvloop


def encode_request(spec: dict[str, Any]) -> bytes:
    body = str(spec.get("body", "")).encode()
    lines = [f"{spec['method']} {spec['path']} HTTP/1.1", f"Host: {spec['host']}"]
    lines += [f"{name}: {value}" for name, value in spec.get("headers", {}).items()]
    if body or spec["method"] in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    start = lower.find(b"\r\ncontent-length:")
    if start >= 0:
        end = lower.index(b"\r\n", start + 2)
        await reader.readexactly(int(head[start + 17 : end]))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    return status


async def connection(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    clock = time.perf_counter
    try:
        while clock() < deadline:
            sent = clock()
            writer.write(request)
            status = await read_response(reader)
            latencies.append(clock() - sent)
            if status >= 400:
                errors.append(f"status {status}")
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        errors.append(type(exc).__name__)
    finally:
        writer.close()


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    request = encode_request(spec)
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    deadline = started + spec["duration"]
    await asyncio.gather(
        *(
            connection(spec["host"], spec["port"], request, deadline, latencies, errors)
            for _ in range(spec["concurrency"])
        )
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "seconds": elapsed,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1000,
    }


def main() -> None:
    spec = orjson.loads(sys.argv[1])
    install_uvloop()
    result = asyncio.run(run(spec))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
