"""Live rule reload (SPEC 6): on SIGHUP and when the rule files change.

Kubernetes ConfigMap updates swap a `..data` symlink, so the fingerprint follows symlinks. A new
plan is compiled off the event loop and swapped whole; a failed reload keeps the previous plan,
logs every error with file and line (in the log format: JSON lines by default), counts a failure
and sets `omnigate_rules_last_reload_successful` to 0. Requests in flight keep the plan they
started with (they hold a reference to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from gateway import metrics
from gateway.rules_plan import Plan, load_plan
from gateway.rules_source import RuleLoadError
from gateway.web_state import GatewayState

log = logging.getLogger("omnigate")

POLL_SECONDS = 1.0
RETIRE_SECONDS = 20.0  # longer than the 15 s drain


def fingerprint(path: Path) -> tuple[tuple[str, int, int, int], ...]:
    """(name, inode, size, mtime) of the rule path and every entry in it, symlinks followed."""
    entries = [path]
    if path.is_dir():
        entries += sorted(p for p in path.iterdir() if not p.name.startswith("."))
    result = []
    for entry in entries:
        try:
            st = entry.stat()
        except OSError:
            continue
        result.append((entry.name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(result)


async def reload_rules(state: GatewayState) -> bool:
    """Compile the rules again and swap them in; False (previous rules kept) on any error."""
    async with state.reload_lock:  # one reload at a time: the last one started wins
        return await _reload(state)


async def _reload(state: GatewayState) -> bool:
    try:
        plan = await asyncio.to_thread(load_plan, state.settings.rules, os.environ)
    except RuleLoadError as exc:
        state.reload_errors = list(exc.errors)
        _failed()
        for line in exc.errors:
            log.error("rule reload failed: %s", line, extra={"event": "reload_failed"})
        return False
    if state.upstream is not None:
        await plan.auth.start(state.upstream.session)
    previous, state.plan = state.plan, plan
    state.reload_errors = []
    metrics.prime(plan)  # the new plan's routes, masks and channels start at zero too
    metrics.child(metrics.RULE_RELOADS, "success").inc()
    metrics.RELOAD_OK.set(1)
    log.info(
        "rules reloaded, version %s", plan.source.digest[:12], extra={"event": "rules_reloaded"}
    )
    if previous is not None:
        # Requests in flight keep the previous plan (and may be waiting on its key set): close
        # its resources only once they have had the drain time to finish.
        state.retired.append(previous)
        asyncio.get_running_loop().call_later(
            RETIRE_SECONDS, lambda: asyncio.ensure_future(retire(state, previous))
        )
    return True


async def retire(state: GatewayState, plan: Plan) -> None:
    """Release what a replaced plan holds (its JWKS refresher); once per plan."""
    if plan in state.retired:
        state.retired.remove(plan)
        await plan.auth.close()


@contextlib.asynccontextmanager
async def watch_rules(state: GatewayState) -> AsyncIterator[None]:
    task = asyncio.create_task(_poll(state))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _poll(state: GatewayState) -> None:
    seen = await asyncio.to_thread(fingerprint, state.settings.rules)
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            current = await asyncio.to_thread(fingerprint, state.settings.rules)
            if current == seen:
                continue
            # A file being rewritten in place can be caught half-written: reload only once the
            # files have stayed the same for one more poll.
            await asyncio.sleep(POLL_SECONDS)
            settled = await asyncio.to_thread(fingerprint, state.settings.rules)
            if settled != current:
                continue
            seen = settled
            await reload_rules(state)
        except Exception as exc:  # the watcher must outlive any one bad reload
            _failed()
            log.error("rule watcher: %s", type(exc).__name__, extra={"event": "reload_failed"})


def _failed() -> None:
    metrics.child(metrics.RULE_RELOADS, "failure").inc()
    metrics.RELOAD_OK.set(0)
