"""The write-back guard as a pure function (SPEC 3.5): what it finds, strips and refuses."""

from __future__ import annotations

import pytest

from gateway.masked_values import masked
from gateway.write_guard import body_kind, check, check_frame, looks_like_json

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PHONE = "XXX-XXX-7890"


def part(name: str, value: bytes, extra: str = "") -> bytes:
    head = f'--b\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'
    return head.encode() + value + b"\r\n"


def nested_multipart(depth: int) -> bytes:
    body = b"x"
    for level in reversed(range(depth)):
        head = f"--b{level}x\r\nContent-Type: multipart/mixed; boundary=b{level + 1}x\r\n\r\n"
        body = head.encode() + body + f"\r\n--b{level}x--\r\n".encode()
    return body


# Each row: (body, Content-Type, query, the paths the guard must name). Every row is a blind spot
# of issue 10 class 4 or a shape SPEC 3.5 names.
FOUND = [
    (b'{"phone_number": "XXX-XXX-7890"}', JSON, "", ["$.phone_number"]),  # plain JSON
    # the name mask of `\u0130lker` (`\u0130***`) lower-cased: `i` and a combining dot
    ('{"name": "i\u0307***"}'.encode(), JSON, "", ["$.name"]),
    (b"", None, "phone_number=XXX-XXX-7890", ["query.phone_number"]),  # query, no body
    (b"{}", JSON, "contact[phone]=XXX-XXX-7890", ["query.contact[phone]"]),  # nested query key
    (b'{"p": "XXX-XXX-7890"}', "application/json, text/plain", "", ["$.p"]),  # a type list
    (b'{"p": "XXX-XXX-7890"}', "application/x-json", "", ["$.p"]),  # x-json
    (
        b'[{"op": "add", "value": "XXX-XXX-7890"}]',
        "application/json-patch+json",
        "",
        ["$[0].value"],
    ),
    (b'{"p": "XXX-XXX-7890"}', "application/json-patch", "", ["$.p"]),  # no +json suffix
    (b'{"p": "XXX-XXX-7890"}', None, "", ["$.p"]),  # no Content-Type at all
    (b'{"p": "XXX-XXX-7890"}', "application/octet-stream", "", ["$.p"]),  # bytes parse as JSON
    (b" " * 100 + b'{"p": "XXX-XXX-7890"}', "application/octet-stream", "", ["$.p"]),  # ... late
    (b'{"p": "XXX-XXX-7890"}', "text/html", "", ["$.p"]),  # any text type
    (b'{"p": "  XXX-XXX-7890\\t "}', JSON, "", ["$.p"]),  # padded with spaces
    (b'{"p": "\\u00a0XXX-XXX-7890\\u200b"}', JSON, "", ["$.p"]),  # padded with NBSP / ZWSP
    (b'{"p": "{\\"phone\\": \\"XXX-XXX-7890\\"}"}', JSON, "", ["$.p.phone"]),  # JSON in a string
    (b'{"p": "XXX-XXX-7890", "p": "+14155550000"}', JSON, "", ["$.p"]),  # first duplicate key
    (b'{"p": "\\u0058XX-XXX-7890",}', JSON, "", ["$.p"]),  # escaped, trailing comma
    (b'{"p": "\\u0058XX-XXX-7890", "x": "\xff"}', JSON, "", ["$.p"]),  # escaped, invalid byte
    (b'{"p": "XXX-XXX-78\xff90"}', JSON, "", ["$.p"]),  # an invalid byte a decoder may drop
    (b"[" * 3000 + b'"\\u0058XX-XXX-7890"' + b"]" * 3000, JSON, "", None),  # deeper than parsers
    (b"{p: 'XXX-XXX-7890'} // JSON5", JSON, "", ["$.p"]),  # unquoted key, single quotes
    (b'{"p": "\xef\xbc\xb8XX-XXX-7890"}', JSON, "", ["$.p"]),  # full-width X (NFKC)
    (b'{"p": "xxx-xxx-7890"}', JSON, "", ["$.p"]),  # lower case
    (b'{"e": "****@example.com", "n": "J*** D***"}', JSON, "", ["$.e", "$.n"]),  # other masks
    (b'"XXX-XXX-7890"', JSON, "", ["$"]),  # the body is a masked value
    (b"XXX-XXX-7890", "text/plain", "", ["$"]),  # ... as plain text
    ('{"p": "XXX-XXX-7890"}'.encode("utf-16"), JSON, "", ["$.p"]),  # UTF-16 (Jackson reads it)
    (b"contact%5Bphone_number%5D=XXX-XXX-7890", FORM, "", ["form.contact[phone_number]"]),
    (b"a=1;phone=XXX-XXX-7890", FORM, "", ["form.phone"]),  # `;` separator (older Rack, Go)
    (b"phone=%58XX-XXX-7890+", FORM, "", ["form.phone"]),  # percent-encoded, padded with +
    (b"doc=%7B%22p%22%3A%22XXX-XXX-7890%22%7D", FORM, "", ["form.doc.p"]),  # JSON in a field
    (part("phone", b"XXX-XXX-7890"), "multipart/form-data; boundary=b", "", ["form.phone"]),
    (part("phone", b"XXX-XXX-7890"), "multipart/mixed; boundary=b", "", ["form.phone"]),
    (part("phone", b"XXX-XXX-7890"), "multipart/related; boundary=b", "", ["form.phone"]),
    (part("phone", b"XXX-XXX-7890"), 'multipart/x-anything; boundary="b"', "", ["form.phone"]),
    (
        part("phone", b"XXX-XXX-7890", '; filename=""\r\nContent-Type: image/png'),
        "multipart/form-data; boundary=b",
        "",
        ["form.phone"],
    ),  # filename="" is a field to Rack, whatever its type
    (
        part("doc", b'{"phone": "XXX-XXX-7890"}', "\r\nContent-Type: application/json"),
        "multipart/form-data; boundary=b",
        "",
        ["form.doc.phone"],
    ),  # a JSON part
    (
        part("p", b"WFhYLVhYWC03ODkw", "\r\nContent-Transfer-Encoding: base64"),
        "multipart/form-data; boundary=b",
        "",
        ["form.p"],
    ),  # a transfer-encoded part
    (
        b"--b\nContent-Disposition: form-data; name=p\n\nXXX-XXX-7890\n",
        "multipart/form-data; boundary=b",
        "",
        ["form.p"],
    ),  # LF line ends, no close delimiter
]


@pytest.mark.parametrize(("body", "content_type", "query", "paths"), FOUND)
def test_masked_values_are_found(
    body: bytes, content_type: str | None, query: str, paths: list[str] | None
) -> None:
    verdict = check(body, content_type, query, "reject")
    assert verdict.refused and verdict.unreadable is None
    if paths is not None:
        assert list(verdict.paths) == paths
    assert verdict.error().code == "masked_value_write"


# Each row: a body the guard cannot read without guessing: refused as unreadable (SPEC 3.5).
UNREADABLE = [
    (part("p", b"x"), "multipart/form-data; boundary=b; boundary=c"),  # two boundaries
    (part("p", b"x"), "multipart/form-data; boundary=b; BOUNDARY*=c"),  # ... spelled otherwise
    (part("p", b"x"), "multipart/form-data"),  # no boundary
    (b"no delimiter here", "multipart/form-data; boundary=b"),  # the boundary never occurs
    (part("p", b"x"), "multipart/form-data; boundary=b, application/json"),  # which one?
    (part("p", b"x"), "multipart/form-data; boundary=a\tb"),  # not an RFC 2046 boundary
    (nested_multipart(30), "multipart/mixed; boundary=b0x"),  # parts nested too deeply
]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
def test_unreadable_bodies_are_refused(body: bytes, content_type: str) -> None:
    verdict = check(body, content_type, "", "strip")
    assert verdict.refused and verdict.unreadable
    assert "could not be checked" in str(verdict.error())


# Each row: a clean request the guard must let through untouched.
CLEAN = [
    (b'{"phone": "+1 415 555 7890", "note": "call XXX-XXX-7890 later"}', JSON, ""),  # not whole
    (b'{"a": "*", "b": "a*b", "c": "2 * 3"}', JSON, "q=%2A"),  # stars that are not masks
    (b"\x89PNG\r\n\x1a\nXXX-XXX-7890", "image/png", ""),  # a binary upload is not read
    (b"\x00\x01XXX-XXX-7890", "application/octet-stream", ""),  # bytes that are not JSON
    (
        part("f", b"XXX-XXX-7890", '; filename="a.bin"\r\nContent-Type: application/pdf'),
        "multipart/form-data; boundary=b",
        "",
    ),  # a named binary upload
    (b"", "multipart/form-data", ""),  # an empty body has nothing to read
]


@pytest.mark.parametrize(("body", "content_type", "query"), CLEAN)
def test_clean_requests_pass_untouched(body: bytes, content_type: str, query: str) -> None:
    verdict = check(body, content_type, query, "reject")
    assert not verdict.refused and verdict.paths == ()
    assert verdict.body is body and verdict.query == query


def test_off_reads_nothing() -> None:
    verdict = check(b'{"p": "XXX-XXX-7890"}', JSON, "a=****", "off")
    assert not verdict.refused and verdict.paths == ()


# Each row: (body, Content-Type, query, body forwarded, query forwarded) in strip mode.
STRIPPED = [
    (b'{"p": "XXX-XXX-7890", "n": 1}', JSON, "", b'{"n":1}', ""),
    (b'{"n": 1}', JSON, "a=1&p=XXX-XXX-7890&b=2", b'{"n": 1}', "a=1&b=2"),  # body kept as sent
    (b"a=1&p=XXX-XXX-7890", FORM, "", b"a=1", ""),
    (b'{"p": "XXX-XXX-7890", "p": "real"}', JSON, "", b'{"p":"real"}', ""),  # rewritten unique
    (b'{"l": ["****", "ok"], "s": "{\\"p\\": \\"****\\"}"}', JSON, "", b'{"l":["ok"]}', ""),
]


@pytest.mark.parametrize(("body", "content_type", "query", "sent", "sent_query"), STRIPPED)
def test_strip_drops_masked_fields(
    body: bytes, content_type: str, query: str, sent: bytes, sent_query: str
) -> None:
    verdict = check(body, content_type, query, "strip")
    assert not verdict.refused and verdict.paths
    assert verdict.body == sent and verdict.query == sent_query


# Each row: a body strip mode cannot rewrite safely, so it is refused.
UNSTRIPPABLE = [
    (b'"XXX-XXX-7890"', JSON),  # the whole body is the masked value
    (b'{"p": "XXX-XXX-7890",}', JSON),  # not strict JSON: cannot be re-written faithfully
    (part("p", b"XXX-XXX-7890"), "multipart/form-data; boundary=b"),  # multipart is not rebuilt
]


@pytest.mark.parametrize(("body", "content_type"), UNSTRIPPABLE)
def test_strip_refuses_what_it_cannot_rewrite(body: bytes, content_type: str) -> None:
    verdict = check(body, content_type, "", "strip")
    assert verdict.refused and verdict.paths


@pytest.mark.parametrize(
    ("frame", "paths"),
    [
        ('{"phone": "XXX-XXX-7890"}', ("$.phone",)),  # a JSON frame
        (
            '{"command": "message", "data": "{\\"phone\\": \\" XXX-XXX-7890\\"}"}',
            ("$.data.phone",),
        ),  # ActionCable: JSON inside a string, padded
        ('42["update", {"email": "****@example.com"}]', ("$[1].email",)),  # Socket.IO
        ("J*** D***", ("$",)),  # a bare text frame
        ('{"text": "hello"}', ()),  # clean
    ],
)
def test_check_frame(frame: str, paths: tuple[str, ...]) -> None:
    assert check_frame(frame) == paths


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        (None, "scan"),  # no type: may be anything
        ("application/json; charset=utf-8", "scan"),
        ("text/plain", "scan"),
        ("multipart/related; boundary=x", "scan"),
        ("application/octet-stream", "sniff"),  # read only when it looks like JSON
        ("image/png", "skip"),  # streamed through
        ("image/png, application/json", "scan"),  # a list: the most readable wins
        ("garbage", "scan"),  # not a media type: lenient servers sniff it
    ],
)
def test_body_kind(content_type: str | None, kind: str) -> None:
    assert body_kind(content_type) == kind


@pytest.mark.parametrize(
    ("prefix", "json"),
    [
        (b'  {"a"', True),
        (b"\xef\xbb\xbf[", True),  # BOM
        (b"\xff\xfe{\x00", True),  # UTF-16
        (b"/* c */", True),  # a comment first (Json.NET)
        (b" " * 64, True),  # only white space: cannot tell, so it is read
        (b"\x89PNG", False),
        (b"  x", False),
    ],
)
def test_looks_like_json(prefix: bytes, json: bool) -> None:
    assert looks_like_json(prefix) is json


@pytest.mark.parametrize(
    ("value", "is_masked"),
    [
        ("XXX-XXX-7890", True),
        (" XXX-XXX-XXXX\n", True),
        ("****", True),
        ("J*** D***", True),
        ("****@example.com", True),
        ("XXX-XXX-789", False),  # three digits: not a phone mask
        ("call XXX-XXX-7890", False),  # not whole
        ("Jane", False),
    ],
)
def test_masked(value: str, is_masked: bool) -> None:
    assert masked(value) is is_masked
