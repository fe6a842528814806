"""Content-Encoding decoding for masked bodies; bounded against decompression bombs."""

import gzip
import zlib
from typing import Any

import brotli
import pytest

from gateway.body_codec import (
    UndecodableBody,
    accepts_gzip,
    decodable_accept_encoding,
    decode_body,
    encode_gzip,
)

BODY = b'{"phone_number": "+14155557890"}' * 10


@pytest.mark.parametrize(
    ("encoded", "coding"),
    [
        (gzip.compress(BODY), "gzip"),  # gzip
        (gzip.compress(BODY), "x-gzip"),  # legacy alias
        (zlib.compress(BODY), "deflate"),  # zlib-wrapped deflate
        (zlib.compress(BODY)[2:-4], "deflate"),  # raw deflate, as some servers send
        (brotli.compress(BODY), "br"),  # brotli
        (BODY, "identity"),  # explicit identity
        (BODY, None),  # no encoding
        (gzip.compress(brotli.compress(BODY)), "br, gzip"),  # stacked codings undone in reverse
        (gzip.compress(BODY[:50]) + gzip.compress(BODY[50:]), "gzip"),  # multi-member gzip
    ],
)
def test_decode(encoded: Any, coding: str | None) -> None:
    assert decode_body(encoded, coding, 1 << 20) == BODY


def test_zstd_when_available() -> None:
    zstandard = pytest.importorskip("zstandard")
    assert decode_body(zstandard.ZstdCompressor().compress(BODY), "zstd", 1 << 20) == BODY
    bomb = zstandard.ZstdCompressor().compress(b"0" * 10_000_000)
    with pytest.raises(UndecodableBody):  # bounded, whatever the frame header says
        decode_body(bomb, "zstd", 10_000)


@pytest.mark.parametrize(
    ("client", "sent"),
    [
        ("gzip, br", "gzip, br"),  # all decodable
        ("gzip, compress;q=0.5", "gzip"),  # an undecodable coding is not asked for
        ("compress", "identity"),  # nothing decodable: identity
    ],
)
def test_decodable_accept_encoding(client: str, sent: str) -> None:
    assert decodable_accept_encoding(client) == sent


@pytest.mark.parametrize(
    ("encoded", "coding"),
    [
        (BODY, "compress"),  # unknown coding
        (b"not gzip", "gzip"),  # corrupt
        (gzip.compress(BODY)[:-10], "gzip"),  # truncated
        (gzip.compress(b"0" * 100_000), "gzip"),  # inflates past the limit (bomb)
        (brotli.compress(b"0" * 100_000), "br"),  # brotli bomb
    ],
)
def test_undecodable(encoded: Any, coding: str) -> None:
    with pytest.raises(UndecodableBody):
        decode_body(encoded, coding, 10_000)


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("gzip;q=0", False),  # explicitly refused
        ("*", True),
        ("br", False),
        (None, False),
    ],
)
def test_accepts_gzip(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_encode_gzip_round_trips() -> None:
    assert gzip.decompress(encode_gzip(BODY)) == BODY
