"""Just enough multipart/form-data (RFC 7578) to read text fields and append one part.

The original bytes are never re-encoded: a new part is inserted in front of the closing
delimiter, so every provider part (attachments included) reaches the upstream byte for byte and
the boundary, hence the Content-Type header, stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

_CRLF = b"\r\n"
_MAX_BOUNDARY = 70  # RFC 2046


@dataclass(frozen=True)
class FormData:
    fields: tuple[tuple[str, str], ...]  # text parts in order; file parts are skipped
    boundary: bytes
    close_at: int  # offset of the CRLF that starts the closing delimiter


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
    """The text fields of a multipart body, or None when the body is not well formed."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    dash = b"--" + boundary
    if body.startswith(dash):
        pos = 0
    else:
        pos = body.find(_CRLF + dash)  # skip a preamble
        if pos < 0:
            return None
        pos += len(_CRLF)
    fields: list[tuple[str, str]] = []
    while True:
        pos += len(dash)
        if body.startswith(b"--", pos):  # closing delimiter
            return FormData(tuple(fields), boundary, pos - len(dash) - len(_CRLF))
        line_end = body.find(_CRLF, pos)  # transport padding after the delimiter
        if line_end < 0:
            return None
        start = line_end + len(_CRLF)
        end = body.find(_CRLF + dash, start)
        if end < 0:
            return None
        field = _text_field(body[start:end])
        if field is not None:
            fields.append(field)
        pos = end + len(_CRLF)


def append_part(form: FormData, body: bytes, name: str, value: str) -> bytes:
    """`body` with one more text part just before its closing delimiter."""
    part = (
        _CRLF
        + b"--"
        + form.boundary
        + _CRLF
        + f'Content-Disposition: form-data; name="{name}"'.encode()
        + _CRLF
        + _CRLF
        + value.encode()
    )
    return body[: form.close_at] + part + body[form.close_at :]


def _text_field(part: bytes) -> tuple[str, str] | None:
    if part.startswith(_CRLF):  # a part without headers
        return None
    head, sep, content = part.partition(_CRLF + _CRLF)
    if not sep:
        return None
    headers = HeaderParser().parsestr(head.decode("utf-8", "replace"))
    if headers.get_filename() is not None:  # an attachment: never read, never copied
        return None
    raw_name = headers.get_param("name", header="content-disposition")
    if raw_name is None:
        return None
    charset = headers.get_content_charset() or "utf-8"
    try:
        text = content.decode(charset, "replace")
    except LookupError:  # unknown charset name
        text = content.decode("utf-8", "replace")
    return collapse_rfc2231_value(raw_name), text
