"""The gateway's log lines: access and audit events, and every other line it writes (start-up,
reload, warnings), one per event, JSON or `key=value` text, each with its `time` and `level`.

PII: only fields the SPEC names are written (request id, trace id, method, route, path without
query, status, role, JWT `sub`, durations, counts). Bodies, query strings and tokens never reach
this module.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import IO, Any

import orjson


class EventLog:
    """Writes events as lines to a stream; `text` format is `key=value` pairs for humans.

    With `flush_every` > 0, lines are flushed at most that often (plus by `flush()`): one write
    syscall per request costs more than the rest of the log line. Lines are formatted when they
    are flushed, not when they are written: the request path only keeps the fields. JSON lines
    go to the stream's binary buffer when it has one and is UTF-8: orjson's bytes as they are,
    no decoding and encoding again per line.
    """

    def __init__(self, stream: IO[str], fmt: str, flush_every: float = 0.0) -> None:
        self._stream = stream
        self._json = fmt == "json"
        self._flush_every = flush_every
        self._flushed_at = 0.0
        self._pending: list[tuple[float, str, str, dict[str, Any]]] = []
        # orjson writes UTF-8: straight to the binary buffer only when the text layer would too
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self._binary: IO[bytes] | None = (
            getattr(stream, "buffer", None) if encoding in ("utf8", "utf_8") else None
        )

    @classmethod
    def open(cls, target: str, fmt: str, flush_every: float = 0.0) -> EventLog:
        if target == "-":
            return cls(sys.stdout, fmt, flush_every)
        return cls(open(target, "a", encoding="utf-8"), fmt, flush_every)

    def write(self, event: str, fields: dict[str, Any], level: str = "info") -> None:
        """Queue one event; `fields` must not change afterwards (it is formatted at flush)."""
        now = time.time()
        self._pending.append((now, level, event, fields))
        # (wall-clock time: one clock read per line; a clock set back flushes at once)
        if not 0.0 <= now - self._flushed_at < self._flush_every:
            self._flushed_at = now
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        # a closed or full log must not fail the request
        with contextlib.suppress(OSError, ValueError):
            if self._json:
                data = b"".join([_json_line(*line) for line in pending])
                binary = self._binary
                if binary is not None:
                    self._stream.flush()  # whatever was written as text goes first
                    binary.write(data)
                    binary.flush()
                    return
                self._stream.write(data.decode())
            else:
                text = [format_line(*line, json=False) for line in pending]
                self._stream.write("\n".join(text) + "\n")
            self._stream.flush()

    def close(self) -> None:
        self.flush()
        if self._stream not in (sys.stdout, sys.stderr):
            self._stream.close()


def format_line(at: float, level: str, event: str, fields: dict[str, Any], json: bool) -> str:
    record = {"time": _stamp(at), "level": level, "event": event}
    record.update(fields)
    if json:
        return orjson.dumps(record, default=str).decode()
    return " ".join(f"{k}={_text(v)}" for k, v in record.items())


_HEADS: dict[tuple[str, str], bytes] = {}


def _json_line(at: float, level: str, event: str, fields: dict[str, Any]) -> bytes:
    """`format_line(..., json=True)` as bytes with its newline, made without the merged dict:
    the time, level and event written ahead of orjson's output for `fields` (the same bytes)."""
    if not fields or "time" in fields or "level" in fields or "event" in fields:
        return format_line(at, level, event, fields, True).encode() + b"\n"
    head = _HEADS.get((level, event))
    if head is None:
        if len(_HEADS) >= 256:  # levels and event names are the gateway's own: few
            _HEADS.clear()
        head = _HEADS[(level, event)] = b'",' + orjson.dumps({"level": level, "event": event})[1:-1]
    body = orjson.dumps(fields, default=str, option=orjson.OPT_APPEND_NEWLINE)
    whole = int(at)
    if whole != _second_json[0]:
        _second_json[:] = [whole, b'{"time":"' + _stamp(whole).encode()[:-4]]
    return b"".join((_second_json[1], _MILLIS[int(at % 1 * 1000)], head, b",", body[1:]))


# `{"time":"<second>.` of the current second, and the `<millisecond>Z` that follows it
_second_json: list[Any] = [-1, b""]
# (1000 too: `at % 1 * 1000` can round up to it, and `_stamp` then writes `1000Z` as well)
_MILLIS = [b"%03dZ" % millisecond for millisecond in range(1001)]


class LineHandler(logging.Handler):
    """Writes `logging` records (the gateway's own, aiohttp's, asyncio's, warnings) as log lines
    in the same format as the access log: `event` is the record's `event` extra, else `log`."""

    def __init__(self, stream: IO[str], json: bool) -> None:
        super().__init__()
        self._stream = stream
        self._json = json

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, Any] = {"logger": record.name, "message": record.getMessage()}
            if record.exc_info and record.exc_info[0] is not None:
                # Never a traceback (it could hold values): the exception's type is enough.
                fields["error"] = record.exc_info[0].__name__
            event = getattr(record, "event", "log")
            line = format_line(record.created, record.levelname.lower(), event, fields, self._json)
            with contextlib.suppress(OSError, ValueError):
                self._stream.write(line + "\n")
                self._stream.flush()
        except Exception:  # a log line must never fail the caller
            self.handleError(record)


def configure_logging(fmt: str, stream: IO[str] | None = None) -> None:
    """Send every `logging` record of the process, warnings included, to `stream` (stderr) as
    one `fmt` line each. Called as soon as the settings are known, in every worker."""
    handler = LineHandler(stream if stream is not None else sys.stderr, fmt == "json")
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


_second = (-1, "")


def _stamp(now: float) -> str:
    global _second
    whole = int(now)
    if whole != _second[0]:  # strftime once a second, not once a line
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int(now % 1 * 1000):03d}Z"


def _text(value: Any) -> str:
    text = "-" if value is None else str(value)
    if any(c in text for c in ' "=\\') or not text.isprintable():
        return orjson.dumps(text).decode()  # quoted and escaped: one event stays one line
    return text
