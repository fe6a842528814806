"""Access and audit logs: one line per event, JSON or text.

PII: only fields the SPEC names are written (request id, method, route, path without query, status,
role, JWT `sub`, durations, counts). Bodies, query strings and tokens never reach this module.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

import orjson


class EventLog:
    """Writes events as lines to a stream; `text` format is `key=value` pairs for humans."""

    def __init__(self, stream: IO[str], fmt: str) -> None:
        self._stream = stream
        self._json = fmt == "json"

    @classmethod
    def open(cls, target: str, fmt: str) -> EventLog:
        if target == "-":
            return cls(sys.stdout, fmt)
        return cls(open(target, "a", buffering=1, encoding="utf-8"), fmt)

    def write(self, event: str, fields: dict[str, Any]) -> None:
        record = {"time": _now(), "event": event, **fields}
        if self._json:
            line = orjson.dumps(record).decode()
        else:
            line = " ".join(f"{k}={_text(v)}" for k, v in record.items())
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed or full log must not fail the request
            pass

    def close(self) -> None:
        if self._stream not in (sys.stdout, sys.stderr):
            self._stream.close()


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _text(value: Any) -> str:
    text = "-" if value is None else str(value)
    if any(c in text for c in ' "=\\') or not text.isprintable():
        return orjson.dumps(text).decode()  # quoted and escaped: one event stays one line
    return text
