"""Building and independently re-reading multipart/form-data bodies in tests."""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import cast

BOUNDARY = "xYzZY"


def part(
    name: str, value: str | bytes, filename: str | None = None, ctype: str | None = None
) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"Content-Disposition: {disposition}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    data = value.encode() if isinstance(value, str) else value
    return head.encode() + b"\r\n" + data


def multipart(parts: list[bytes], boundary: str = BOUNDARY, preamble: bytes = b"") -> bytes:
    dash = b"--" + boundary.encode()
    body = preamble
    for item in parts:
        body += dash + b"\r\n" + item + b"\r\n"
    return body + dash + b"--\r\n"


def read_parts(body: bytes, content_type: str) -> list[Message]:
    """The parts as the standard library's MIME parser sees them."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    assert message.is_multipart()
    return list(message.iter_parts())


def field_values(body: bytes, content_type: str) -> dict[str, bytes]:
    return {
        str(p.get_param("name", header="content-disposition")): cast(
            bytes, p.get_payload(decode=True)
        )
        for p in read_parts(body, content_type)
    }
