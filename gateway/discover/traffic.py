"""Recorded traffic for `omnigate discover` (SPEC 1): HAR files and JSON lines, as `Recorded`.

A HAR (a browser's developer tools export) holds `log.entries[]` with the request's method and
URL and the response's status and content (text, or base64 with `encoding: base64`). JSON lines
hold `{"method", "path", "status", "body"}`, `body` a JSON value or a string holding JSON. Only
bodies that parse as JSON are kept: discover looks at documents, as the masks do.

Errors name the file and the line (`file:line: message`); they never quote a body (PII).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import GatewayError
from gateway.http_path import normalise_path


class TrafficError(Exception):
    """An input that is not a HAR file or JSON lines; the message is `file:line: what`."""


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the query string
    status: int
    body: Any  # the parsed JSON document


def read_traffic(path: str) -> list[Recorded]:
    """Every JSON response recorded in `path` (a HAR file or JSON lines)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrafficError(
            f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if _looks_like_har(text):
        return list(_har(path, text))
    return list(_json_lines(path, text))


def _looks_like_har(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith("{") and '"log"' in head


def _har(path: str, text: str) -> Iterator[Recorded]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrafficError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise TrafficError(f"{path}:1: a HAR file needs log.entries (a list)")
    for index, entry in enumerate(entries):
        where = f"{path}:{_line_of_entry(text, index)}: log.entries[{index}]"
        try:
            request, response = entry["request"], entry["response"]
            method, url, status = request["method"], request["url"], response["status"]
            content = response.get("content") or {}
        except (KeyError, TypeError, AttributeError):
            raise TrafficError(
                f"{where}: needs request.method, request.url and response.status"
            ) from None
        if not isinstance(status, int) or not isinstance(method, str) or not isinstance(url, str):
            raise TrafficError(
                f"{where}: request.method, request.url or response.status is mistyped"
            )
        body = _har_body(content, where)
        if body is not _NO_BODY:
            yield Recorded(method.upper(), _path_of(url), status, body)


_NO_BODY = object()


def _har_body(content: Any, where: str) -> Any:
    text = content.get("text") if isinstance(content, dict) else None
    if not isinstance(text, str) or not text:
        return _NO_BODY
    if content.get("encoding") == "base64":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TrafficError(f"{where}: response.content.text is not base64 of UTF-8") from None
    mime = str(content.get("mimeType") or "")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if "json" in mime:
            raise TrafficError(f"{where}: response.content is {mime} but not valid JSON") from None
        return _NO_BODY  # HTML, scripts, images: not documents


def _line_of_entry(text: str, index: int) -> int:
    """The line where entry `index` starts, as near as a scan for request objects finds it."""
    pos = -1
    for _ in range(index + 1):
        found = text.find('"request"', pos + 1)
        if found < 0:
            return 1
        pos = found
    return text.count("\n", 0, pos) + 1


def _json_lines(path: str, text: str) -> Iterator[Recorded]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrafficError(f"{where}: not valid JSON (column {exc.colno}): {exc.msg}") from None
        if not isinstance(record, dict) or not {"method", "path", "body"} <= record.keys():
            raise TrafficError(
                f'{where}: expected {{"method", "path", "status", "body"}} (a HAR file needs '
                '"log" at the top)'
            )
        method, target, status = record["method"], record["path"], record.get("status", 200)
        if (
            not isinstance(method, str)
            or not isinstance(target, str)
            or not isinstance(status, int)
        ):
            raise TrafficError(f"{where}: method and path must be strings, status a number")
        body = record["body"]
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except json.JSONDecodeError:
                raise TrafficError(f"{where}: body is a string that does not hold JSON") from None
        yield Recorded(method.upper(), _path_of(target), status, body)


def _path_of(target: str) -> str:
    """The path as the gateway matches it (percent-decoded, dot segments resolved)."""
    path = urlsplit(target).path or "/"
    try:
        return normalise_path(path)
    except GatewayError:
        return path
