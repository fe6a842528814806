"""File descriptors: the soft limit raised at start, and running out of them reported once.

Every client and upstream connection holds a descriptor, and distributions default the soft
limit to 1024. At the limit, the asyncio event loop reports every failed `accept()` to the loop's
exception handler (a flood, one per connection attempt), while uvloop (libuv) accepts and closes
such connections at once without telling anyone. `DescriptorReport` covers both: it is the loop's
exception handler, and it also samples the number of open descriptors every WATCH_SECONDS.
Either way one line is logged per episode, then at most one every REPORT_SECONDS while it lasts.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("omnigate")

FD_TARGET = 1 << 20  # the soft limit asked for when the hard one is unlimited
REPORT_SECONDS = 60.0
WATCH_SECONDS = 2.0
HEADROOM = 16  # this close to the limit, new connections are being refused
_FD_DIR = Path("/proc/self/fd")
_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})


def raise_fd_limit() -> None:
    """Raise the soft open-file limit to the hard one (FD_TARGET when that is unlimited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = FD_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open-file limit from %s to %s: %s", soft, target, exc)


def soft_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_descriptors() -> int | None:
    """How many descriptors this process holds (None where /proc is not available)."""
    try:
        return len(os.listdir(_FD_DIR))
    except OSError as exc:
        if exc.errno in _OUT_OF_DESCRIPTORS:  # listing takes a descriptor too: none was left
            return soft_limit()
        return None


class DescriptorReport:
    """Reports running out of descriptors once per episode, not once per failed accept."""

    def __init__(self, previous: Callable[..., object] | None) -> None:
        self._previous = previous
        self._reported_at: float | None = None
        self._suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """The loop's exception handler: everything but EMFILE/ENFILE goes to the previous one."""
        exc = context.get("exception")
        if not isinstance(exc, OSError) or exc.errno not in _OUT_OF_DESCRIPTORS:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        self.out_of_descriptors(loop.time(), soft_limit())

    def out_of_descriptors(self, now: float, limit: int) -> None:
        if self._reported_at is not None and now - self._reported_at < REPORT_SECONDS:
            self._suppressed += 1
            return
        more = f" ({self._suppressed} more since the last report)" if self._suppressed else ""
        log.error(
            "out of file descriptors (limit %s): new connections are refused until some close%s",
            limit,
            more,
        )
        self._reported_at = now
        self._suppressed = 0

    def observe(self, now: float, in_use: int, limit: int) -> None:
        """One sample of the descriptors in use; at the limit, counts as running out."""
        if in_use >= limit - HEADROOM:
            self.out_of_descriptors(now, limit)

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            in_use = open_descriptors()
            if in_use is None:
                return
            self.observe(loop.time(), in_use, soft_limit())
