"""`omnigate serve` as a process: drain on SIGTERM, workers sharing a port, live rule reload."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from tests.conftest import JWT_SECRET, MINIMAL_RULES, bearer

ROOT = Path(__file__).resolve().parents[1]

RULES = MINIMAL_RULES + textwrap.dedent(
    """
    routes:
      - name: contact
        match: { path: "/contacts/{id}" }
        response: [ { path: "$.phone", mask: phone } ]
    """
)


def upstream_app() -> web.Application:
    async def contact(request: web.Request) -> web.Response:
        delay = float(request.query.get("delay", "0"))
        await asyncio.sleep(delay)
        return web.json_response({"phone": "+14155557890"})

    app = web.Application()
    app.router.add_get("/contacts/{id}", contact)
    return app


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, admin: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.admin = f"http://127.0.0.1:{admin}"


async def start_gateway(
    upstream_url: str, rules: Path, port: int, admin: int, *extra: str
) -> Served:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--upstream",
            upstream_url,
            "--listen",
            f"127.0.0.1:{port}",
            "--admin-listen",
            f"127.0.0.1:{admin}",
            "--rules",
            str(rules),
            *extra,
        ],
        env={**os.environ, "OMNIGATE_JWT_SECRET": JWT_SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    served = Served(process, port, admin)
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(served.admin + "/readyz") as resp:
                    if resp.status == 200:
                        return served
            except aiohttp.ClientError:
                pass
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("gateway did not become ready")


async def stop(served: Served) -> int:
    served.process.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(served.process.wait, 30)


@pytest.fixture
async def upstream(aiohttp_server: AiohttpServer) -> TestServer:
    return await aiohttp_server(upstream_app())


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.yaml").write_text(RULES)
    return folder


async def test_sigterm_drains_in_flight_requests(
    upstream: TestServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    served = await start_gateway(
        str(upstream.make_url("/")), rules_dir, unused_tcp_port_factory(), unused_tcp_port_factory()
    )
    async with aiohttp.ClientSession() as session:
        in_flight = asyncio.create_task(
            session.get(served.url + "/contacts/1?delay=1.5", headers=bearer("agent"))
        )
        await asyncio.sleep(0.5)
        served.process.send_signal(signal.SIGTERM)
        resp = await in_flight
        assert resp.status == 200
        assert await resp.json() == {"phone": "XXX-XXX-7890"}
    assert await asyncio.to_thread(served.process.wait, 30) == 0


async def test_workers_share_the_port_and_metrics(
    upstream: TestServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    served = await start_gateway(
        str(upstream.make_url("/")),
        rules_dir,
        unused_tcp_port_factory(),
        unused_tcp_port_factory(),
        "--workers",
        "2",
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(3):  # new connections, so both workers can be reached
                async with (
                    aiohttp.ClientSession() as fresh,
                    fresh.get(served.url + "/contacts/1", headers=bearer()) as resp,
                ):
                    assert resp.status == 200
            for _ in range(17):
                async with session.get(served.url + "/contacts/1", headers=bearer()) as resp:
                    assert resp.status == 200
            async with session.get(served.admin + "/metrics") as resp:
                text = await resp.text()
        total = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("omnigate_requests_total{")
        )
        assert total == 20  # aggregated over both workers
        # SPEC 6, in multiprocess mode too: known labels at zero from start-up, the reload gauge
        # and the build info
        assert 'omnigate_fail_closed_total{reason="transform"} 0.0' in text
        assert 'omnigate_rule_reloads_total{outcome="failure"} 0.0' in text
        assert "omnigate_rules_last_reload_successful 1.0" in text
        assert 'omnigate_build_info{aiohttp="' in text
    finally:
        assert await stop(served) == 0


async def test_rules_reload_on_change_and_keep_working_on_bad_rules(
    upstream: TestServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    served = await start_gateway(
        str(upstream.make_url("/")), rules_dir, unused_tcp_port_factory(), unused_tcp_port_factory()
    )
    failures: list[int] = []
    seen: list[str] = []
    stop_load = asyncio.Event()

    async def load(session: aiohttp.ClientSession) -> None:
        while not stop_load.is_set():
            async with session.get(served.url + "/contacts/1", headers=bearer("team_manager")) as r:
                if r.status != 200:
                    failures.append(r.status)
                seen.append((await r.json())["phone"])
            await asyncio.sleep(0.01)

    try:
        async with aiohttp.ClientSession() as session:
            loader = asyncio.create_task(load(session))
            await asyncio.sleep(0.3)
            assert seen[-1] == "XXX-XXX-7890"
            # toggle team_manager's masking off, as a settings page would
            (rules_dir / "rules.yaml").write_text(
                RULES.replace("team_manager: { masking: true }", "team_manager: { masking: false }")
            )
            await _until(lambda: seen[-1] == "+14155557890")
            # an invalid file changes nothing
            (rules_dir / "broken.yaml").write_text("version: 1\nroles: [oops]\n")
            await asyncio.sleep(2.5)
            assert seen[-1] == "+14155557890"
            async with session.get(served.admin + "/rules") as resp:
                info = await resp.json()
            assert info["loaded"] is True
            assert any("broken.yaml:2:" in line for line in info["last_reload_errors"])
            async with session.get(served.admin + "/metrics") as resp:
                metrics_text = await resp.text()
            assert 'omnigate_rule_reloads_total{outcome="failure"} 1.0' in metrics_text
            assert "omnigate_rules_last_reload_successful 0.0" in metrics_text
            # SIGHUP reloads too: remove the broken file, then signal
            (rules_dir / "broken.yaml").unlink()
            served.process.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.5)
            stop_load.set()
            await loader
            async with session.get(served.admin + "/metrics") as resp:
                metrics_text = await resp.text()
            assert "omnigate_rules_last_reload_successful 1.0" in metrics_text
        assert failures == []
    finally:
        assert await stop(served) == 0
    # SPEC 6: in json log format every line on stderr is JSON with a level, reload errors too
    stderr = served.process.stderr.read().decode() if served.process.stderr else ""
    logged = [json.loads(line) for line in stderr.splitlines()]
    assert all(line["level"] in ("info", "warning", "error") for line in logged)
    failed = [line for line in logged if line["event"] == "reload_failed"]
    assert failed and all(line["level"] == "error" for line in failed)
    assert any("broken.yaml:2:" in line["message"] for line in failed)


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_admin_endpoints(
    upstream: TestServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    served = await start_gateway(
        str(upstream.make_url("/")), rules_dir, unused_tcp_port_factory(), unused_tcp_port_factory()
    )
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(served.admin + "/healthz") as resp:
                assert resp.status == 200
            async with session.get(served.admin + "/rules") as resp:
                info = orjson.loads(await resp.read())
                assert info["routes"] == 1 and len(info["version"]) == 64
            async with session.get(served.url + "/healthz", headers=bearer()) as resp:
                assert resp.status == 404  # on the client listener, every path is proxied
    finally:
        await stop(served)


CUT = web.AppKey("cut", list[str])


def slow_upstream_app() -> web.Application:
    """`/slow` answers after 40 s, far beyond the drain; it records being cut off."""
    app = web.Application()
    app[CUT] = []

    async def slow(request: web.Request) -> web.Response:
        try:
            await asyncio.sleep(40)
        except asyncio.CancelledError:
            app[CUT].append(request.path)
            raise
        return web.Response(text="late")

    app.router.add_get("/slow", slow)
    return app


async def test_sigterm_drain_ends_within_its_deadline_and_cancels_the_rest(
    aiohttp_server: AiohttpServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    upstream = await aiohttp_server(slow_upstream_app())
    served = await start_gateway(
        str(upstream.make_url("/")), rules_dir, unused_tcp_port_factory(), unused_tcp_port_factory()
    )
    async with aiohttp.ClientSession() as session:
        in_flight = asyncio.create_task(session.get(served.url + "/slow", headers=bearer()))
        await _until(lambda: upstream.app[CUT] == [] and upstream.handler.requests_count == 1)
        served.process.send_signal(signal.SIGTERM)
        # The drain is 15 s; aiohttp's own shutdown would take twice that (~32 s). 25 s is the
        # bound that tells the two apart with room to spare on a slow machine.
        code = await asyncio.to_thread(served.process.wait, 25)
        with pytest.raises(aiohttp.ClientError):
            await in_flight  # cut off, never answered "late"
    assert code == 0
    stderr = served.process.stderr.read().decode() if served.process.stderr else ""
    assert "drain: 1 request(s) still running at the deadline: cancelled" in stderr
    await _until(lambda: upstream.app[CUT] == ["/slow"])  # the upstream side was torn down


async def test_a_client_that_never_finishes_its_headers_is_disconnected(
    upstream: TestServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    served = await start_gateway(
        str(upstream.make_url("/")),
        rules_dir,
        unused_tcp_port_factory(),
        unused_tcp_port_factory(),
        "--header-timeout",
        "1",
    )
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", int(served.url.rsplit(":", 1)[1])
        )
        writer.write(b"GET /contacts/1 HTTP/1.1\r\nHost: g\r\n")  # the head never ends
        await writer.drain()
        closed = await asyncio.wait_for(reader.read(), 20)  # without the timeout: never
        assert closed == b""
        writer.close()
    finally:
        assert await stop(served) == 0


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc")
async def test_the_soft_descriptor_limit_is_raised_at_start(
    upstream: TestServer, rules_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    served = await start_gateway(
        str(upstream.make_url("/")), rules_dir, unused_tcp_port_factory(), unused_tcp_port_factory()
    )
    try:
        limits_file = Path(f"/proc/{served.process.pid}/limits")
        limits = (await asyncio.to_thread(limits_file.read_text)).splitlines()
        soft, hard = next(line for line in limits if line.startswith("Max open files")).split()[3:5]
        assert soft == hard or (hard == "unlimited" and int(soft) >= 1 << 20)
    finally:
        await stop(served)
