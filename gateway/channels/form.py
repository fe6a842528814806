"""Form bodies (urlencoded or multipart/form-data): read fields, append the stamp field."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from gateway.channels.multipart import FormData, append_part, parse_form_data

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def media_type(headers: Mapping[str, str]) -> str:
    """The lower-cased media type of Content-Type, without parameters ("" when absent)."""
    return headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def parse_urlencoded(body: bytes) -> list[tuple[str, str]]:
    # Providers send UTF-8; a stray byte must not make the body unreadable (signatures then
    # simply fail to match, which is the right answer for a body that was tampered with).
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def append_urlencoded(body: bytes, name: str, value: str) -> bytes:
    """`body` with `name=value` appended; the original bytes stay as they were."""
    pair = urlencode([(name, value)]).encode("ascii")
    if not body:
        return pair
    return body + (pair if body.endswith(b"&") else b"&" + pair)


class FormBody:
    """The fields of a urlencoded or multipart body, and a way to append one more."""

    def __init__(
        self, body: bytes, fields: list[tuple[str, str]], multipart: FormData | None
    ) -> None:
        self._body = body
        self.fields = fields
        self._multipart = multipart

    @classmethod
    def parse(cls, body: bytes, headers: Mapping[str, str]) -> FormBody | None:
        kind = media_type(headers)
        if kind == URLENCODED:
            return cls(body, parse_urlencoded(body), None)
        if kind == MULTIPART:
            form = parse_form_data(body, headers.get("Content-Type", ""))
            return None if form is None else cls(body, list(form.fields), form)
        return None

    def get(self, name: str) -> str | None:
        """The first value of field `name`."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def append(self, name: str, value: str) -> bytes:
        if self._multipart is None:
            return append_urlencoded(self._body, name, value)
        return append_part(self._multipart, self._body, name, value)
