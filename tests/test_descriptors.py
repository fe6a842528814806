"""Running out of file descriptors is logged once per episode, not once per failed accept."""

from __future__ import annotations

import asyncio
import errno
import logging

import pytest

from gateway.descriptors import DescriptorReport


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


def test_samples_at_the_limit_are_reported_once_per_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    report = DescriptorReport(None)
    with caplog.at_level(logging.ERROR, logger="omnigate"):
        report.observe(0.0, 900, 1024)  # plenty left: nothing to say
        report.observe(2.0, 1020, 1024)  # at the limit (uvloop drops connections silently)
        report.observe(4.0, 1024, 1024)  # still there, within the minute: counted, not logged
        report.observe(70.0, 1024, 1024)  # a minute later: one more line with the count
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "out of file descriptors (limit 1024): new connections are refused until some close",
        "out of file descriptors (limit 1024): new connections are refused until some close"
        " (1 more since the last report)",
    ]


def test_open_descriptors_counts_this_process() -> None:
    from gateway.descriptors import open_descriptors

    before = open_descriptors()
    if before is None:
        pytest.skip("no /proc/self/fd here")
    with open(__file__) as _held:
        assert open_descriptors() == before + 1


def test_no_descriptor_left_to_count_with_counts_as_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway import descriptors

    def listdir(path: object) -> list[str]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(descriptors.os, "listdir", listdir)  # type: ignore[attr-defined]
    assert descriptors.open_descriptors() == descriptors.soft_limit()
