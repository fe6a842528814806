"""Form bodies (urlencoded or multipart/form-data): read fields, append the stamp field."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote_plus, urlencode

from gateway.channels import multipart
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


def urlencoded_without(body: bytes, name: str) -> bytes:
    """`body` without its `name=...` pairs; the other pairs stay byte for byte."""
    pairs = body.split(b"&")
    kept = [
        pair
        for pair in pairs
        if unquote_plus(pair.split(b"=", 1)[0].decode("utf-8", "replace")) != name
    ]
    return body if len(kept) == len(pairs) else b"&".join(kept)


class FormBody:
    """The fields of a urlencoded or multipart body; ways to drop a field and append one."""

    def __init__(
        self, body: bytes, fields: list[tuple[str, str]], multipart: FormData | None
    ) -> None:
        self.body = body
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

    def without(self, name: str) -> FormBody:
        """The form without any field (or file) named `name`: itself when it has none."""
        form = self._multipart
        if form is None:
            body = urlencoded_without(self.body, name)
            return self if body is self.body else FormBody(body, parse_urlencoded(body), None)
        if not any(part.name == name for part in form.parts):
            return self
        body = multipart.without(form, self.body, name)
        parsed = parse_form_data(body, f'multipart/form-data; boundary="{form.boundary.decode()}"')
        assert parsed is not None  # removing whole parts leaves the body well formed
        return FormBody(body, list(parsed.fields), parsed)

    def get(self, name: str) -> str | None:
        """The first value of field `name`."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def append(self, name: str, value: str) -> bytes:
        if self._multipart is None:
            return append_urlencoded(self.body, name, value)
        return append_part(self._multipart, self.body, name, value)
