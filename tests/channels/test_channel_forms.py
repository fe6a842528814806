"""Form bodies: urlencoded and multipart parsing, appending without touching the rest."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from multipart_kit import field_values, multipart, part

from gateway.channels.form import FormBody, append_urlencoded
from gateway.channels.multipart import boundary_of, parse_form_data


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", b"k=v"),
        (b"a=1", b"a=1&k=v"),
        (b"a=1&", b"a=1&k=v"),  # no empty pair
    ],
)
def test_append_urlencoded(body: bytes, expected: bytes) -> None:
    assert append_urlencoded(body, "k", "v") == expected


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/form-data; boundary=abc", b"abc"),
        ('multipart/form-data; boundary="a b:c"', b"a b:c"),  # quoted, with specials
        (
            "multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxk",
            b"----WebKitFormBoundary7MA4YWxk",
        ),
        ("multipart/form-data", None),
        ("multipart/form-data; boundary=" + "x" * 71, None),  # longer than RFC 2046 allows
        ("multipart/form-data; boundary=\u00e9", None),  # not ASCII
    ],
)
def test_boundary(content_type: str, boundary: bytes | None) -> None:
    assert boundary_of(content_type) == boundary


def test_multipart_fields_skip_files_and_keep_order() -> None:
    body = multipart(
        [
            part("a", "1"),
            part("file", b"\x00\x01", filename="x.bin", ctype="application/octet-stream"),
            part("b", "caf\u00e9"),
            b"\r\nno headers at all",
        ]
    )
    form = parse_form_data(body, "multipart/form-data; boundary=xYzZY")
    assert form is not None and form.fields == (("a", "1"), ("b", "caf\u00e9"))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"--xYzZY\r\n",  # no closing delimiter
        b"--xYzZY\r\nContent-Disposition: form-data; name=a\r\n\r\n1",  # part never closed
        b"garbage without any delimiter",
    ],
)
def test_malformed_multipart(body: bytes) -> None:
    assert parse_form_data(body, "multipart/form-data; boundary=xYzZY") is None


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)  # type: ignore[arg-type]
names = st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=10)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(names, text), max_size=6), text)
def test_multipart_append_round_trip(fields: list[tuple[str, str]], value: str) -> None:
    ct = "multipart/form-data; boundary=xYzZY"
    body = multipart([part(n, v) for n, v in fields] or [part("only", "")])
    form = FormBody.parse(body, CIMultiDict({"Content-Type": ct}))
    assert form is not None
    stamped = form.append("omni_customer_id", value)
    again = parse_form_data(stamped, ct)
    assert again is not None
    assert again.fields == (*form.fields, ("omni_customer_id", value))
    assert field_values(stamped, ct)["omni_customer_id"] == value.encode()


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(names, text), max_size=6), text)
def test_urlencoded_append_round_trip(fields: list[tuple[str, str]], value: str) -> None:
    body = urlencode(fields).encode()
    form = FormBody.parse(
        body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    )
    assert form is not None and form.fields == fields
    stamped = form.append("omni_customer_id", value)
    assert parse_qsl(stamped.decode(), keep_blank_values=True) == [
        *fields,
        ("omni_customer_id", value),
    ]
