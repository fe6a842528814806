"""Process model: listeners, workers sharing the port, graceful drain, reload on SIGHUP.

One worker serves in this process; with `--workers N` a supervisor starts N worker processes that
bind the same ports with SO_REUSEPORT and share metrics through prometheus-client's multiprocess
directory.

Logging: once the settings are valid, every line the process writes goes through `logging` in
the `--log-format` (JSON by default), start-up and reload errors included; only a bad flag or
environment value, found before the format is known, is answered in plain text by the CLI.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import http_parser, web

from gateway.aiohttp_adapter import AiohttpChanged, check_aiohttp
from gateway.descriptors import DescriptorReport, raise_fd_limit
from gateway.event_log import EventLog, configure_logging
from gateway.rules_plan import Plan, load_plan
from gateway.rules_source import RuleLoadError
from gateway.settings import Settings, SettingsError
from gateway.web_runner import GatewayRunner

if TYPE_CHECKING:
    from gateway.web_state import GatewayState

DRAIN_SECONDS = 15.0
# Of the drain, what is left for cancelled requests to unwind and for the listeners and the
# upstream session to close; in-flight requests get the rest.
CLOSE_SECONDS = 1.5
ACCESS_FLUSH_SECONDS = 0.5
SWITCH_INTERVAL = 0.001
USAGE_ERROR = 2
GC_THRESHOLD = 20_000

log = logging.getLogger("omnigate")


def check_c_parser() -> None:
    """SECURITY: the pure-Python parser has had request-smuggling bugs; refuse to run on it."""
    if http_parser.HttpRequestParser is not getattr(http_parser, "HttpRequestParserC", None):
        raise SettingsError(
            "aiohttp's C HTTP parser is not in use (AIOHTTP_NO_EXTENSIONS set, or no compiled "
            "wheel for this platform); refusing to start"
        )


def serve(settings: Settings) -> int:
    configure_logging(settings.log_format)
    try:
        return _serve(settings)
    except SettingsError as exc:  # one line, exit 2; in the log format, the settings being known
        log.error("omnigate serve: %s", exc, extra={"event": "settings_error"})
        return USAGE_ERROR


def _serve(settings: Settings) -> int:
    # A SIGHUP before the reload handler is installed (config reloaders send one early) must not
    # end the process; the rules are loaded fresh at start anyway.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    check_c_parser()
    try:
        check_aiohttp()
    except AiohttpChanged as exc:
        raise SettingsError(str(exc)) from None  # one line, exit 2, like the parser check
    plan = _load_rules(settings)
    if plan is None:
        return 1
    if settings.workers == 1:
        return run_worker(settings, plan, reuse_port=False)
    return _supervise(settings)


def _load_rules(settings: Settings) -> Plan | None:
    """The compiled rules, or None after logging each error (`file:line: message`)."""
    try:
        return load_plan(settings.rules)
    except RuleLoadError as exc:
        for line in exc.errors:
            log.error("%s", line, extra={"event": "rules_invalid"})
        return None


def run_worker(settings: Settings, plan: Plan | None, *, reuse_port: bool) -> int:
    if plan is None:
        plan = _load_rules(settings)
        if plan is None:
            return 1
    _install_uvloop()
    raise_fd_limit()
    # Large bodies are masked in a worker thread; a shorter GIL switch interval lets the event
    # loop back in sooner, so small requests wait ~1 ms rather than ~5 ms per hand-over.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # Everything loaded so far (rules, phone metadata, libraries) lives as long as the process:
    # keep it out of the collector's way, and collect young objects less often (a parsed body is
    # thousands of short-lived objects that reference counting frees anyway).
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 100)
    asyncio.run(_run(settings, plan, reuse_port))
    return 0


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - optional speed-up
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def start_gateway(settings: Settings, plan: Plan, reuse_port: bool = False) -> Gateway:
    """Bind the client and admin listeners and start serving; `Gateway.stop()` drains them."""
    # Imported here: the metrics module must see PROMETHEUS_MULTIPROC_DIR first.
    from gateway import metrics

    # At once: with several workers the gauge is the lowest live worker's, and it reads 0 from
    # its creation (the import) until set, while other workers may already answer scrapes.
    metrics.RELOAD_OK.set(1)
    from gateway import tracing
    from gateway.web_admin import build_admin_app
    from gateway.web_app import build_app
    from gateway.web_state import GatewayState

    check_aiohttp()
    metrics.prime(plan)
    tracing.start(settings)  # before the app is built: it picks the traced hooks or not
    state = GatewayState(
        settings=settings,
        # Access lines are flushed at most every half second; audit events at once.
        access_log=EventLog.open("-", settings.log_format, flush_every=ACCESS_FLUSH_SECONDS),
        audit_log=_open_audit_log(settings),
        plan=plan,
    )
    gateway = Gateway(state)
    for app, listen in (
        (build_app(state), settings.listen),
        (build_admin_app(state), settings.admin_listen),
    ):
        # Handlers are cancelled when their client goes away: the upstream side is torn down too.
        runner = GatewayRunner(
            app,
            access_log=None,
            # Only what is still running after the drain's own wait (cancelled by then) is
            # left to aiohttp's shutdown, which waits this long twice.
            shutdown_timeout=CLOSE_SECONDS / 3,
            handler_cancellation=True,
            keepalive_timeout=settings.header_timeout,
        )
        await runner.setup()
        gateway.runners.append(runner)
        site = web.TCPSite(
            runner,
            listen.host,
            listen.port,
            backlog=1024,
            reuse_port=reuse_port or None,
        )
        try:
            await site.start()
        except OSError as exc:
            await gateway.stop()
            flag = "--listen" if listen is settings.listen else "--admin-listen"
            raise SettingsError(f"{flag}: cannot listen on {listen}: {exc.strerror}") from None
    return gateway


def _open_audit_log(settings: Settings) -> EventLog:
    try:
        return EventLog.open(settings.audit_log, settings.log_format)
    except OSError as exc:
        target = settings.audit_log
        raise SettingsError(f"--audit-log: cannot open {target}: {exc.strerror}") from None


class Gateway:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.runners: list[GatewayRunner] = []

    @property
    def addresses(self) -> list[str]:
        return [str(addr) for runner in self.runners for addr in runner.addresses]

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Stop accepting, let in-flight requests finish, then close: all within `drain_seconds`.

        aiohttp's own shutdown waits its timeout once for handlers and once more after
        cancelling them (twice 15 s); here one deadline covers the whole drain instead.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(drain_seconds - CLOSE_SECONDS, 0.0)
        for runner in self.runners:  # every listener stops accepting first
            for site in list(runner.sites):
                await site.stop()
        for runner in self.runners:
            await runner.drain(deadline - loop.time())
        for runner in reversed(self.runners):
            await runner.cleanup()
        self.state.access_log.flush()
        self.state.audit_log.close()
        from gateway import tracing

        await asyncio.to_thread(tracing.stop)  # exports the spans still queued


async def _run(settings: Settings, plan: Plan, reuse_port: bool) -> None:
    from gateway.rules_reload import reload_rules

    gateway = await start_gateway(settings, plan, reuse_port)
    log.info(
        "proxying %s -> %s (admin %s, pid %d)",
        settings.listen,
        settings.upstream,
        settings.admin_listen,
        os.getpid(),
        extra={"event": "start"},
    )
    loop = asyncio.get_running_loop()
    descriptors = DescriptorReport(loop.get_exception_handler())
    loop.set_exception_handler(descriptors)  # the asyncio loop reports failed accepts here
    watch = loop.create_task(descriptors.watch())  # uvloop does not: it drops them silently
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        task = loop.create_task(reload_rules(gateway.state))
        reloads.add(task)  # keep a reference until it is done
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    await stop.wait()
    watch.cancel()
    await gateway.stop()


def _supervise(settings: Settings) -> int:
    """Start the workers, relay SIGHUP/SIGTERM to them, restart one that dies unexpectedly."""
    if settings.listen.port == 0 or settings.admin_listen.port == 0:
        raise SettingsError("--workers: several workers need fixed ports, not port 0")
    metrics_dir = tempfile.mkdtemp(prefix="omnigate-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    context = multiprocessing.get_context("spawn")
    workers = [_start(context, settings) for _ in range(settings.workers)]
    stopping = False

    def forward(sig: int) -> Callable[[int, object], None]:
        def handler(_signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = stopping or sig in (signal.SIGTERM, signal.SIGINT)
            for worker in workers:
                if worker.pid is not None and worker.is_alive():
                    os.kill(worker.pid, signal.SIGTERM if sig == signal.SIGINT else sig)

        return handler

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward(sig))
    while True:
        for index, worker in enumerate(workers):
            worker.join(timeout=0.5)
            if worker.exitcode is None:
                continue
            if stopping:
                continue
            if worker.exitcode == USAGE_ERROR:  # a setting (a busy port) will not fix itself
                stopping = True
                for other in workers:
                    if other.pid is not None and other.is_alive():
                        os.kill(other.pid, signal.SIGTERM)
                continue
            log.error(
                "worker %s exited (%s); restarting",
                worker.pid,
                worker.exitcode,
                extra={"event": "worker_exit"},
            )
            if worker.pid is not None:  # its gauges leave the live-worker aggregates
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
            time.sleep(1.0)  # no tight crash loop
            workers[index] = _start(context, settings)
        if stopping and all(w.exitcode is not None for w in workers):
            shutil.rmtree(metrics_dir, ignore_errors=True)
            failed = any(w.exitcode == USAGE_ERROR for w in workers)
            return USAGE_ERROR if failed else 0


def _start(
    context: multiprocessing.context.SpawnContext, settings: Settings
) -> multiprocessing.process.BaseProcess:
    process = context.Process(target=_worker_main, args=(settings,), daemon=False)
    process.start()
    return process


def _worker_main(settings: Settings) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor turns Ctrl-C into SIGTERM
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the event loop handles it
    configure_logging(settings.log_format)  # a spawned worker starts with a fresh process
    try:
        code = run_worker(settings, None, reuse_port=True)
    except SettingsError as exc:
        log.error("omnigate serve: %s", exc, extra={"event": "settings_error"})
        code = USAGE_ERROR
    raise SystemExit(code)
