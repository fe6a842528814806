"""A multipart body split into parts as leniently as any upstream would (write guard, SPEC 3.5).

Rack, PHP, Django, busboy and Go's mime/multipart disagree at the edges (LF-only line ends, a
missing close delimiter, transport padding, quoted-printable parts), so this splitter finds
*every* delimiter occurrence and treats every segment after the first as a part: it sees a
superset of what any of them reads. SECURITY: what it cannot split without guessing (no boundary,
two `boundary=` parameters, a boundary with characters RFC 2046 does not allow, a non-empty body
without the delimiter) raises `Unreadable`, and the guard refuses the body.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass

_PARAM = re.compile(r';\s*(?P<name>[^=;\s]+)\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"|[^;]*)', re.S)
_BCHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"^(?P<name>[^:\s]+)[ \t]*:(?P<value>.*(?:\r?\n[ \t].*)*)", re.M)


class Unreadable(ValueError):
    """A body the guard cannot read without guessing how the upstream reads it."""


@dataclass(frozen=True)
class Part:
    name: str | None  # the Content-Disposition `name`, as sent
    filename: str | None  # None: no filename parameter (`filename=""` is "")
    content_type: str | None
    data: tuple[bytes, ...]  # the content as sent, and decoded when a transfer encoding is named


def params(header_value: str) -> list[tuple[str, str]]:
    """The `; name=value` parameters of a header value, names lower-cased, values unquoted."""
    found = []
    for match in _PARAM.finditer(header_value):
        value = match.group("value").strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.append((match.group("name").lower(), value))
    return found


def boundary_of(content_type: str) -> bytes:
    """The one boundary of a multipart Content-Type; Unreadable when missing or ambiguous."""
    boundaries = [v for k, v in params(content_type) if k.rstrip("*") == "boundary"]
    if not boundaries:
        raise Unreadable("the multipart body has no boundary")
    if len(boundaries) > 1:
        raise Unreadable("the multipart Content-Type names more than one boundary")
    if not _BCHARS.fullmatch(boundaries[0]):
        raise Unreadable("the multipart boundary is not one RFC 2046 allows")
    return boundaries[0].encode()


def split_parts(data: bytes, boundary: bytes) -> list[Part]:
    """Every segment after the first delimiter, as a part (the epilogue too)."""
    segments = data.split(b"--" + boundary)
    if len(segments) == 1:
        if data.strip():
            raise Unreadable("the multipart body does not contain its boundary")
        return []
    return [_part(segment) for segment in segments[1:] if segment.strip(b"-\r\n \t")]


def _part(segment: bytes) -> Part:
    segment = segment.removeprefix(b"--")  # a close delimiter: read what follows anyway
    first_line_end = segment.find(b"\n")
    body_start = segment[first_line_end + 1 :] if first_line_end >= 0 else b""
    end = _HEADER_END.search(b"\n" + body_start)
    if end is None:
        return Part(None, None, None, (segment,))
    head, content = body_start[: max(end.start() - 1, 0)], body_start[end.end() - 1 :]
    content = content.removesuffix(b"\n").removesuffix(b"\r")
    headers = {
        m.group("name").decode("latin-1").lower(): m.group("value").decode("utf-8", "replace")
        for m in _HEADER_LINE.finditer(head)
    }
    disposition = dict(reversed(params(headers.get("content-disposition", ""))))
    name = disposition.get("name", disposition.get("name*"))
    filename = disposition.get("filename", disposition.get("filename*"))
    return Part(name, filename, headers.get("content-type"), _decoded(content, headers))


def _decoded(content: bytes, headers: dict[str, str]) -> tuple[bytes, ...]:
    encoding = headers.get("content-transfer-encoding", "").strip().lower()
    try:
        if encoding == "base64":
            return content, base64.b64decode(content, validate=False)
        if encoding == "quoted-printable":
            return content, quopri.decodestring(content)
    except (binascii.Error, ValueError):
        pass
    return (content,)
