"""Content-Encoding for bodies the gateway must read: decode, then re-encode for the client.

PII: a compressed body on a masked route is decoded and masked like any other; an encoding we
cannot decode is a reason to fail closed, never to pass the bytes on.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import Any

import brotli

zstandard: Any
try:  # zstd is optional (SPEC 3.4: "zstd when available")
    import zstandard
except ImportError:  # pragma: no cover - depends on the platform's wheels
    zstandard = None


class UndecodableBody(Exception):
    """The body's encoding is unknown, corrupt, or it inflates past the size limit."""


def _gunzip(data: bytes, limit: int) -> bytes:
    """Every member of a (possibly multi-member, RFC 1952) gzip body."""
    out = b""
    while True:
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out += decoder.decompress(data, limit + 1 - len(out))
        if len(out) > limit:
            raise UndecodableBody("decoded body exceeds the size limit")
        if not decoder.eof:
            raise UndecodableBody("truncated compressed body")
        data = decoder.unused_data
        if not data.strip(b"\x00"):  # trailing zero padding is allowed
            return out


def _inflate(data: bytes, limit: int, wbits: int = zlib.MAX_WBITS) -> bytes:
    # SECURITY: bounded output, so a small compressed bomb cannot exhaust memory.
    decoder = zlib.decompressobj(wbits)
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit:
        raise UndecodableBody("decoded body exceeds the size limit")
    if not decoder.eof:
        raise UndecodableBody("truncated compressed body")
    return out


def _deflate(data: bytes, limit: int) -> bytes:
    try:
        return _inflate(data, limit)
    except zlib.error:  # some servers send raw deflate without the zlib header
        return _inflate(data, limit, -zlib.MAX_WBITS)


def _brotli(data: bytes, limit: int) -> bytes:
    decoder = brotli.Decompressor()
    out: bytes = decoder.process(data, output_buffer_limit=limit + 1)
    if len(out) > limit:
        raise UndecodableBody("decoded body exceeds the size limit")
    if not decoder.is_finished():
        raise UndecodableBody("truncated compressed body")
    return out


def _zstd(data: bytes, limit: int) -> bytes:
    assert zstandard is not None
    # SECURITY: read at most limit + 1 bytes, whatever the frame claims.
    with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
        out: bytes = reader.read(limit + 1)
    if len(out) > limit:
        raise UndecodableBody("decoded body exceeds the size limit")
    return out


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _deflate,
    "br": _brotli,
}
if zstandard is not None:
    _DECODERS["zstd"] = _zstd


def decodable_accept_encoding(accept_encoding: str) -> str:
    """The client's Accept-Encoding, keeping only codings the gateway can undo.

    The upstream then answers with something both the gateway and the client understand.
    """
    kept = [
        item.strip()
        for item in accept_encoding.split(",")
        if item.strip().partition(";")[0].strip().lower() in _DECODERS
        or item.strip().partition(";")[0].strip().lower() == "identity"
    ]
    return ", ".join(kept) or "identity"


def decode_body(data: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo every coding listed in `content_encoding` (applied in order, so undone in reverse)."""
    if not content_encoding:
        return data
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise UndecodableBody(f"unsupported Content-Encoding {coding!r}")
        try:
            data = decoder(data, limit)
        except (zlib.error, brotli.error) as exc:
            raise UndecodableBody(f"corrupt {coding} body") from exc
        except Exception as exc:
            if zstandard is not None and isinstance(exc, zstandard.ZstdError):
                raise UndecodableBody(f"corrupt {coding} body") from exc
            raise
    return data


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether the client's Accept-Encoding admits gzip (q=0 refuses it)."""
    if not accept_encoding:
        return False
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            quality = params.strip().lower()
            return not (quality.startswith("q=") and _q(quality[2:]) == 0.0)
    return False


def _q(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def encode_gzip(data: bytes) -> bytes:
    # Level 5: most of level 9's ratio at a fraction of the CPU, per request.
    return gzip.compress(data, compresslevel=5, mtime=0)
