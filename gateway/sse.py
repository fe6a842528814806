"""Server-Sent Events, incrementally: split a byte stream into events and mask each one.

Pure. An event ends at a blank line (LF, CRLF or CR line endings, as the HTML standard allows);
each completed event is re-emitted at once, never batched. Only `data:` lines change; `event`,
`id`, `retry` and comments pass as they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway import json_codec

_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)")
_BOM = b"\xef\xbb\xbf"


class EventTooLarge(Exception):
    """An event grew past the size limit: the stream is closed (fail closed)."""


class EventSplitter:
    """Feeds bytes, yields complete raw events (including their terminating blank line)."""

    def __init__(self, limit: int) -> None:
        self._started = False
        self._buffer = bytearray()
        self._lines: list[bytes] = []
        self._size = 0
        self._limit = limit

    def feed(self, chunk: bytes) -> list[list[bytes]]:
        self._buffer += chunk
        if not self._started:
            # PII: clients skip one leading BOM; so must we, or the first event is not seen as data.
            if len(self._buffer) < len(_BOM) and _BOM.startswith(bytes(self._buffer)):
                return []
            if self._buffer.startswith(_BOM):
                del self._buffer[: len(_BOM)]
            self._started = True
        events: list[list[bytes]] = []
        position = 0
        for match in _LINE.finditer(self._buffer):
            line = match.group()
            # A lone CR at the end of the buffer may be the first half of a CRLF: wait for more.
            if line.endswith(b"\r") and match.end() == len(self._buffer):
                break
            position = match.end()
            self._lines.append(line)
            self._size += len(line)
            if line in (b"\n", b"\r\n", b"\r"):
                events.append(self._lines)
                self._lines, self._size = [], 0
        del self._buffer[:position]
        if self._size + len(self._buffer) > self._limit:
            raise EventTooLarge
        return events

    def tail(self) -> bytes:
        """Whatever is left when the stream ends (an unterminated event is dispatched by no one)."""
        return b"".join(self._lines) + bytes(self._buffer)


def mask_event(
    lines: list[bytes], mask_json: Callable[[Any], Any], mask_text: Callable[[str], Any]
) -> bytes:
    """The event with its `data` masked: JSON data through the route's rules, other data as text."""
    values = {i: v for i, line in enumerate(lines) if (v := _field_value(line)) is not None}
    if not values:
        return b"".join(lines)
    data_lines = list(values)
    data = b"\n".join(values.values())
    ending = _ending(lines[data_lines[0]])
    try:
        document = json_codec.loads(data)
    except ValueError:
        text = data.decode("utf-8", errors="replace")
        masked = mask_text(text)
        new_lines = [b"data: " + part.encode() + ending for part in str(masked).split("\n")]
    else:
        new_lines = [
            b"data: " + json_codec.dumps(mask_document(document, mask_json, mask_text)) + ending
        ]
    first, last = data_lines[0], data_lines[-1]
    others = [line for i, line in enumerate(lines[first : last + 1], first) if i not in data_lines]
    return b"".join(lines[:first] + new_lines + others + lines[last + 1 :])


def mask_document(
    document: Any, mask_json: Callable[[Any], Any], mask_text: Callable[[str], Any]
) -> Any:
    """A JSON document through the route's rules; a bare JSON string or number is chat text."""
    if isinstance(document, str):
        return mask_text(document)
    if isinstance(document, int | float) and not isinstance(document, bool):
        masked = mask_text(str(document))
        return document if masked == str(document) else masked
    return mask_json(document)


def _field_value(line: bytes) -> bytes | None:
    stripped = line.rstrip(b"\r\n")
    name, colon, value = stripped.partition(b":")
    if name != b"data":
        return None
    if not colon:
        return b""
    return value[1:] if value.startswith(b" ") else value


def _ending(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return b"\r\n"
    return b"\r" if line.endswith(b"\r") else b"\n"
