"""Just enough multipart/form-data (RFC 7578) to read text fields and append one part.

The original bytes are never re-encoded: a new part is inserted in front of the closing
delimiter, so every provider part (attachments included) reaches the upstream byte for byte and
the boundary, hence the Content-Type header, stays the same. Lines may end in CRLF (RFC 2046) or
in a bare LF, as some senders write them (SendGrid's own sample sender does); an appended part
uses the line ending the body uses (SPEC 5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

_MAX_BOUNDARY = 70  # RFC 2046
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Part:
    name: str | None  # the form field name; None for a part without one
    text: str | None  # the value of a text field; None for files and nameless parts
    start: int  # offset of its delimiter line
    end: int  # offset of the next delimiter line


@dataclass(frozen=True)
class FormData:
    parts: tuple[Part, ...]
    boundary: bytes
    close_at: int  # offset of the line break that ends the last part (before `--boundary--`)
    eol: bytes  # b"\r\n", or b"\n" for a body written with bare LF line endings

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """The text fields in order (file parts are skipped)."""
        return tuple(
            (p.name, p.text) for p in self.parts if p.name is not None and p.text is not None
        )


def boundary_of(content_type: str) -> bytes | None:
    message = Message()
    message["content-type"] = content_type
    value = message.get_param("boundary")
    if value is None:
        return None
    text = collapse_rfc2231_value(value)
    if not text or len(text) > _MAX_BOUNDARY:
        return None
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return None


def parse_form_data(body: bytes, content_type: str) -> FormData | None:
    """The parts of a multipart body, or None when the body is not well formed."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    dash = b"--" + boundary
    if body.startswith(dash):
        pos = 0
    else:
        pos = body.find(b"\n" + dash)  # skip a preamble
        if pos < 0:
            return None
        pos += 1
    parts: list[Part] = []
    eol = b""
    while True:
        after = pos + len(dash)
        if body.startswith(b"--", after):  # closing delimiter
            close_at = pos - 2 if body[pos - 2 : pos] == b"\r\n" else pos - 1
            return FormData(tuple(parts), boundary, max(close_at, 0), eol or b"\r\n")
        line_end = body.find(b"\n", after)  # transport padding after the delimiter
        if line_end < 0:
            return None
        if not eol:
            eol = b"\r\n" if body[line_end - 1 : line_end] == b"\r" else b"\n"
        start = line_end + 1
        found = body.find(b"\n" + dash, start - 1)
        if found < 0:
            return None
        end = found - 1 if body[found - 1 : found] == b"\r" and found > start else found
        parts.append(_part(body[start:end], pos, found + 1))
        pos = found + 1


def without(form: FormData, body: bytes, name: str) -> bytes:
    """`body` without its parts named `name` (files included); the rest byte for byte."""
    kept = bytearray()
    cursor = 0
    for part in form.parts:
        if part.name == name:
            kept += body[cursor : part.start]
            cursor = part.end
    return bytes(kept + body[cursor:])


def append_part(form: FormData, body: bytes, name: str, value: str) -> bytes:
    """`body` with one more text part just before its closing delimiter."""
    eol = form.eol
    part = (
        eol
        + b"--"
        + form.boundary
        + eol
        + f'Content-Disposition: form-data; name="{name}"'.encode()
        + eol
        + eol
        + value.encode()
    )
    return body[: form.close_at] + part + body[form.close_at :]


def _part(raw: bytes, start: int, end: int) -> Part:
    if raw.startswith((b"\r\n", b"\n")):  # a part without headers
        return Part(None, None, start, end)
    found = _END_OF_HEADERS.search(raw)
    if found is None:
        return Part(None, None, start, end)
    head, content = raw[: found.start()], raw[found.end() :]
    headers = HeaderParser().parsestr(head.decode("utf-8", "replace"))
    raw_name = headers.get_param("name", header="content-disposition")
    name = None if raw_name is None else collapse_rfc2231_value(raw_name)
    if name is None or headers.get_filename() is not None:
        return Part(name, None, start, end)  # an attachment: never read, never copied
    charset = headers.get_content_charset() or "utf-8"
    try:
        text = content.decode(charset, "replace")
    except LookupError:  # unknown charset name
        text = content.decode("utf-8", "replace")
    return Part(name, text, start, end)
