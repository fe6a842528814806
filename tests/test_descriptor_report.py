"""Running out of file descriptors is logged once per episode, not once per failed accept."""

from __future__ import annotations

import asyncio
import errno
import logging

import pytest

from gateway.web_server import DescriptorReport


async def test_exhaustion_is_reported_once_and_other_errors_pass_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    passed: list[dict[str, object]] = []
    report = DescriptorReport(lambda _loop, context: passed.append(context))
    emfile = OSError(errno.EMFILE, "Too many open files")
    with caplog.at_level(logging.ERROR, logger="omnigate"):
        for _ in range(500):  # a flood of failed accepts
            report(loop, {"message": "socket.accept() out of system resource", "exception": emfile})
        report(loop, {"message": "other", "exception": ValueError("x")})
        report(loop, {"message": "no exception at all"})
    lines = [r.getMessage() for r in caplog.records if "file descriptors" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith("out of file descriptors (limit ")
    # everything else still reaches the previous handler, untouched
    assert [c["message"] for c in passed] == ["other", "no exception at all"]


async def test_enfile_counts_as_exhaustion_too(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    report = DescriptorReport(None)
    with caplog.at_level(logging.ERROR, logger="omnigate"):
        report(loop, {"message": "accept", "exception": OSError(errno.ENFILE, "table full")})
    assert any("out of file descriptors" in r.getMessage() for r in caplog.records)
