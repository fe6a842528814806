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


def mask_event(
    lines: list[bytes], mask_json: Callable[[Any], Any], mask_text: Callable[[str], Any]
) -> bytes:
    """The event masked: JSON `data` through `mask_json` (the policy's `DocumentMasker.mask`,
    which gives a bare JSON string the text mask), other data as chat text.

    PII: `id` (a browser sends it back as Last-Event-ID), `event`, `retry` and comments get the
    text mask too; fields the standard does not define are dropped (browsers ignore them).
    """
    values = {i: v for i, line in enumerate(lines) if (v := _field_value(line)) is not None}
    out: list[bytes] = []
    for index, line in enumerate(lines):
        if index in values:
            if index == next(iter(values)):
                out += _masked_data(list(values.values()), _ending(line), mask_json, mask_text)
            continue
        out.append(_masked_line(line, mask_text))
    return b"".join(out)


_KEPT_FIELDS = (b"event", b"id", b"retry")


def _masked_line(line: bytes, mask_text: Callable[[str], Any]) -> bytes:
    body = line.rstrip(b"\r\n")
    if not body:
        return line  # the blank line that ends the event
    ending = line[len(body) :]
    name, colon, value = body.partition(b":")
    if name and name not in _KEPT_FIELDS:
        return b""
    space = b" " if value.startswith(b" ") else b""
    text = value[len(space) :].decode("utf-8", errors="replace")
    masked = str(mask_text(text)).replace("\r", " ").replace("\n", " ")
    return name + colon + space + masked.encode() + ending


def _masked_data(
    values: list[bytes],
    ending: bytes,
    mask_json: Callable[[Any], Any],
    mask_text: Callable[[str], Any],
) -> list[bytes]:
    data = b"\n".join(values)
    try:
        document = json_codec.loads(data)
    except ValueError:
        return _masked_text(data.decode("utf-8", errors="replace"), ending, mask_text)
    return [b"data: " + json_codec.dumps(mask_json(document)) + ending]


def _masked_text(text: str, ending: bytes, mask_text: Callable[[str], Any]) -> list[bytes]:
    """Multi-line data is one text (SPEC 3.6): PII split over two `data:` lines is masked too.

    The lines are kept when their breaks hide nothing (the text masked line-joined with spaces
    gives the same result); otherwise the event's data goes out as one masked line.
    """
    masked = str(mask_text(text))
    if "\n" in text:
        # PII: a phone written across two lines is only seen with the break gone.
        joined = str(mask_text(text.replace("\n", " ")))
        if joined != masked.replace("\n", " "):
            return [b"data: " + joined.encode() + ending]
    return [b"data: " + part.encode() + ending for part in masked.split("\n")]


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
