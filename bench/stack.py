"""The three servers of a bench run (upstream, baseline proxy, gateway) and the tokens for them."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import jwt

from bench.processes import PYTHON, ROOT, Server, free_port, python_server

RULES = ROOT / "bench" / "rules"
SECRET_ENV = "OMNIGATE_BENCH_JWT_SECRET"
# A fixed, public test secret: the bench gateway guards nothing.
SECRET = "omnigate-bench-secret-not-for-production-0123456789"


def mint_token(role: str, secret: str = SECRET) -> str:
    claims = {"sub": "bench", "role": role, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, secret, algorithm="HS256")


def start_gateway(upstream: str, log: Path | None = None) -> Server:
    port, admin = free_port(), free_port()
    env = dict(os.environ, **{SECRET_ENV: SECRET})
    argv = [
        PYTHON, "-m", "gateway", "serve",
        "--upstream", upstream,
        "--listen", f"127.0.0.1:{port}",
        "--admin-listen", f"127.0.0.1:{admin}",
        "--rules", str(RULES),
        "--log-format", "json",
        "--workers", "1",
    ]  # fmt: skip
    # The access log (one JSON line per request) is part of the gateway's cost: it is written,
    # to /dev/null unless a log file is asked for.
    sink = log.open("ab") if log else None
    server = Server("gateway", argv, port, env=env, log=sink)
    if sink:
        sink.close()  # the child has its own descriptor
    try:
        server.wait_ready()
    except RuntimeError as exc:
        server.stop()
        hint = "" if log else " (run with --gateway-log FILE to see its output)"
        raise RuntimeError(f"{exc}{hint}") from None
    return server


@dataclass
class Stack:
    upstream: Server
    baseline: Server | None
    gateway: Server
    agent: str  # bearer tokens
    admin: str

    @classmethod
    def start(cls, with_baseline: bool = True, gateway_log: Path | None = None) -> Stack:
        upstream = python_server("upstream", "bench.upstream")
        started: list[Server] = [upstream]
        try:
            baseline = None
            if with_baseline:
                baseline = python_server("baseline", "bench.baseline_proxy", upstream.url)
                started.append(baseline)
            gateway = start_gateway(upstream.url, gateway_log)
        except BaseException:
            for server in started:
                server.stop()
            raise
        return cls(upstream, baseline, gateway, mint_token("agent"), mint_token("admin"))

    def stop(self) -> None:
        for server in (self.gateway, self.baseline, self.upstream):
            if server is not None:
                server.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
