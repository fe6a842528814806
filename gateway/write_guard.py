"""The write-back guard (SPEC 3.5): a masked value sent back must never overwrite the real one.

Pure functions over a request body. SECURITY: the guard reads a body the way a lenient upstream
would (Rails, Node, Json.NET): JSON with a BOM, `NaN`, comments or invalid UTF-8, JSON sent as
text, form fields (repeated ones too) and multipart text parts. A body that looks like JSON but
cannot be parsed is searched for string literals that are whole mask outputs; such a body can
only be refused, never stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlencode

from gateway import json_codec
from gateway.masks import is_mask_output

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.){1,200})"|\'((?:[^\'\\\n]|\\.){1,200})\'')
_NOT_JSON = object()


@dataclass(frozen=True)
class Finding:
    """Where a body holds mask outputs, and the body without them (None: cannot be stripped)."""

    paths: list[str]
    stripped: bytes | None


def inspect_body(data: bytes, content_type: str, full_content_type: str = "") -> Finding:
    """The mask outputs in a request body of `content_type` (its media type, lower case)."""
    if content_type == FORM:
        form = parse_qsl(data.decode("utf-8", errors="replace"), keep_blank_values=True)
        paths = [_child("$", k) for k, v in form if is_mask_output(v)]
        if not paths and _has_masked_literal(data):  # JSON sent with a form content type
            return Finding(["$ (a string in a body that is not a plain form)"], None)
        kept = urlencode([(k, v) for k, v in form if not is_mask_output(v)]).encode()
        return Finding(paths, kept)
    if content_type == MULTIPART:
        return Finding(_multipart_paths(data, full_content_type), None)
    document = _lenient_json(data)
    if document is not _NOT_JSON:
        return Finding(find_masked_values(document), None)
    if _has_masked_literal(data):
        return Finding(["$ (a string in a body that is not strict JSON)"], None)
    return Finding([], None)


def _has_masked_literal(data: bytes) -> bool:
    text = data.decode("utf-8", errors="replace")
    return any(_masked(m.group(1) or m.group(2)) for m in _LITERAL.finditer(text))


def strip_body(data: bytes) -> bytes | None:
    """A JSON body without the fields that hold whole mask outputs (None: it cannot be done)."""
    document = _lenient_json(data)
    if document is _NOT_JSON or isinstance(document, str):
        return None  # a body that is itself a masked value cannot be stripped, only refused
    try:
        return json_codec.dumps(strip_masked_values(document))
    except (RecursionError, ValueError):
        return None


def _masked(value: str) -> bool:
    return is_mask_output(value.replace('\\"', '"').replace("\\'", "'"))


def _lenient_json(data: bytes) -> Any:
    try:
        return json_codec.loads(data.removeprefix(b"\xef\xbb\xbf"), lenient=True)
    except ValueError:
        return _NOT_JSON


def _multipart_paths(data: bytes, full_content_type: str) -> list[str]:
    head = f"Content-Type: {full_content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.default).parsebytes(head + data)
    paths: list[str] = []
    for part in message.iter_parts():
        if part.get_filename() is not None:
            continue  # uploads are files, not fields a helpdesk writes back
        name = part.get_param("name", header="content-disposition") or "part"
        payload = part.get_payload(decode=True)
        value = payload if isinstance(payload, bytes) else b""
        found = inspect_body(value, "application/json").paths
        if is_mask_output(value.decode("utf-8", errors="replace").strip()) or found:
            paths.append(_child("$", str(name)))
    return paths


def find_masked_values(doc: Any) -> list[str]:
    """JSON paths (`$.payload.phone`, `$.items[2]`) of strings that are whole mask outputs."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:  # iterative: a deeply nested body must not crash the guard
        node, path = stack.pop()
        if isinstance(node, str):
            if is_mask_output(node):
                found.append(path)
        elif isinstance(node, dict):
            stack.extend((v, _child(path, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
    return found


def _child(path: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def strip_masked_values(doc: Any) -> Any:
    """`doc` without the fields (or array elements) that hold whole mask outputs."""
    if isinstance(doc, dict):
        return {
            k: strip_masked_values(v)
            for k, v in doc.items()
            if not (isinstance(v, str) and is_mask_output(v))
        }
    if isinstance(doc, list):
        return [
            strip_masked_values(v) for v in doc if not (isinstance(v, str) and is_mask_output(v))
        ]
    return doc
