"""Access and audit logs: one line per event, JSON or text.

PII: only fields the SPEC names are written (request id, method, route, path without query, status,
role, JWT `sub`, durations, counts). Bodies, query strings and tokens never reach this module.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, Any

import orjson


class EventLog:
    """Writes events as lines to a stream; `text` format is `key=value` pairs for humans.

    With `flush_every` > 0, lines are flushed at most that often (plus by `flush()`): one write
    syscall per request costs more than the rest of the log line. Lines are formatted when they
    are flushed, not when they are written: the request path only keeps the fields.
    """

    def __init__(self, stream: IO[str], fmt: str, flush_every: float = 0.0) -> None:
        self._stream = stream
        self._json = fmt == "json"
        self._flush_every = flush_every
        self._flushed_at = 0.0
        self._pending: list[tuple[float, str, dict[str, Any]]] = []

    @classmethod
    def open(cls, target: str, fmt: str, flush_every: float = 0.0) -> EventLog:
        if target == "-":
            return cls(sys.stdout, fmt, flush_every)
        return cls(open(target, "a", encoding="utf-8"), fmt, flush_every)

    def write(self, event: str, fields: dict[str, Any]) -> None:
        """Queue one event; `fields` must not change afterwards (it is formatted at flush)."""
        self._pending.append((time.time(), event, fields))
        now = time.monotonic()
        if now - self._flushed_at >= self._flush_every:
            self._flushed_at = now
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        lines = [self._line(at, event, fields) for at, event, fields in pending]
        # a closed or full log must not fail the request
        with contextlib.suppress(OSError, ValueError):
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()

    def _line(self, at: float, event: str, fields: dict[str, Any]) -> str:
        record = {"time": _stamp(at), "event": event}
        record.update(fields)
        if self._json:
            return orjson.dumps(record).decode()
        return " ".join(f"{k}={_text(v)}" for k, v in record.items())

    def close(self) -> None:
        self.flush()
        if self._stream not in (sys.stdout, sys.stderr):
            self._stream.close()


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
