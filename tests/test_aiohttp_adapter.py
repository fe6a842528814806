"""The aiohttp internals the gateway relies on (gateway/aiohttp_adapter.py) are still there.

If this module fails after an aiohttp upgrade, read the message: it names what changed. Update
the adapter for the new version rather than the tests.
"""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from aiohttp import http_writer, web
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from gateway.aiohttp_adapter import (
    AiohttpChanged,
    check_aiohttp,
    install_exact_header_writer,
    server_arguments,
)


def test_the_installed_aiohttp_has_every_internal_the_adapter_uses() -> None:
    check_aiohttp()  # raises AiohttpChanged("aiohttp X: ... changed; ...") otherwise


def test_a_changed_header_writer_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    async def write_headers(self: object, status_line: str, headers: object) -> None:
        return None  # a future aiohttp that serialises headers some other way

    monkeypatch.setattr(http_writer.StreamWriter, "write_headers", write_headers)
    with pytest.raises(
        AiohttpChanged, match=f"aiohttp {aiohttp.__version__}: .*_serialize_headers"
    ):
        check_aiohttp()


def test_a_changed_error_hook_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp.web_protocol import RequestHandler

    def handle_error(self: object, request: object, status: int = 500) -> None:
        return None

    monkeypatch.setattr(RequestHandler, "handle_error", handle_error)
    with pytest.raises(AiohttpChanged, match="handle_error"):
        check_aiohttp()


async def test_server_arguments_are_read_or_the_change_is_named() -> None:
    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response()

    server = web.Server(handler, max_field_size=1234)
    assert server_arguments(server)["max_field_size"] == 1234
    del server._kwargs
    with pytest.raises(AiohttpChanged, match="_kwargs"):
        server_arguments(server)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("plain", b"plain"),  # ASCII: aiohttp's own C writer, unchanged
        ("caf\udce9", b"caf\xe9"),  # obs-text as the parser decoded it: the original byte
        ("\udc80\udcff", b"\x80\xff"),  # bytes that are not UTF-8 at all
        ("caf\u00e9", b"caf\xc3\xa9"),  # real UTF-8 stays UTF-8
        ("a\ud800b", b"ab"),  # a lone surrogate made up in Python: dropped, as aiohttp does
    ],
)
def test_header_values_are_written_byte_for_byte(value: str, wire: bytes) -> None:
    install_exact_header_writer()
    head = http_writer._serialize_headers("HTTP/1.1 200 OK", CIMultiDict({"X-V": value}))
    assert head == b"HTTP/1.1 200 OK\r\nX-V: " + wire + b"\r\n\r\n"


@pytest.mark.parametrize("value", ["\udce9\r\nX-Injected: 1", "\udce9\nx", "\udce9\x00"])
def test_header_injection_is_still_refused(value: str) -> None:
    install_exact_header_writer()
    with pytest.raises(ValueError, match="Forbidden control character"):
        http_writer._serialize_headers("HTTP/1.1 200 OK", CIMultiDict({"X-V": value}))


def test_installing_twice_keeps_one_wrapper() -> None:
    install_exact_header_writer()
    first = http_writer._serialize_headers
    install_exact_header_writer()
    assert http_writer._serialize_headers is first


def test_a_changed_client_response_start_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    async def start(self: object, connection: object) -> None:
        return None  # a future aiohttp that reads interim responses some other way

    monkeypatch.setattr(aiohttp.ClientResponse, "start", start)
    with pytest.raises(AiohttpChanged, match=r"ClientResponse\.start"):
        check_aiohttp()


def test_serve_refuses_to_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    import signal

    from gateway import cli, web_server

    def changed() -> None:
        raise AiohttpChanged("StreamWriter.write_headers no longer calls _serialize_headers")

    monkeypatch.setattr(web_server, "check_aiohttp", changed)
    previous = signal.getsignal(signal.SIGHUP)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        code = cli.main(["serve", "--upstream", "http://127.0.0.1:1", "--rules", str(tmp_path)])
    finally:
        signal.signal(signal.SIGHUP, previous)
        root.handlers[:] = handlers  # serve configured the process's logging
        root.setLevel(level)
        logging.captureWarnings(False)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line, no traceback
    # in the log format (JSON by default): the settings were read before the check
    message = json.loads(err)["message"]
    assert message.startswith(f"omnigate serve: aiohttp {aiohttp.__version__}: StreamWriter")


# field-vchar / SP / HTAB / obs-text (RFC 9110 5.5), as a header value's bytes may arrive
_VALUE_BYTES = st.binary(min_size=1, max_size=64).map(
    lambda raw: bytes(b for b in raw if b in (0x09, 0x20) or 0x21 <= b <= 0x7E or b >= 0x80)
)


@given(_VALUE_BYTES)
def test_any_received_value_is_written_back_unchanged(raw: bytes) -> None:
    install_exact_header_writer()
    value = raw.decode("utf-8", "surrogateescape")  # what aiohttp's parsers hand over
    head = http_writer._serialize_headers("HTTP/1.1 200 OK", CIMultiDict({"X-V": value}))
    assert head == b"HTTP/1.1 200 OK\r\nX-V: " + raw + b"\r\n\r\n"


_TEXT = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12)


@given(
    st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=20),
    st.lists(st.tuples(_TEXT.filter(bool), _TEXT), max_size=5),
)
def test_text_heads_are_the_c_writers_bytes_or_its_refusal(
    status_line: str, fields: list[tuple[str, str]]
) -> None:
    # ASCII heads, control characters included: the same bytes as aiohttp's own C writer, or
    # the same refusal (a CR, LF, NUL... anywhere in the status line, a name or a value)
    install_exact_header_writer()
    from gateway import aiohttp_adapter

    original = aiohttp_adapter._original_serialize
    assert original is not None
    headers = CIMultiDict(fields)
    try:
        expected: bytes | str = original(status_line, headers)
    except ValueError as exc:
        expected = str(exc)
    try:
        written: bytes | str = http_writer._serialize_headers(status_line, headers)
    except ValueError as exc:
        written = str(exc)
    assert written == expected
