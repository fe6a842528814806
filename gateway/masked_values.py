"""Where mask outputs are in a text, a form or a query, read as leniently as any upstream reads it.

The reading half of the write-back guard (SPEC 3.5; `write_guard` decides what to read and what
to do about it). SECURITY: a value counts when, trimmed of white space, zero-width and control
characters, as sent or NFKC-folded, in any case, it is a whole mask output; JSON is read by a
token scan (`json_literals`), forms and queries are split on `&` and `;`, and a value that may
hold JSON is read inside, down to `MAX_NESTING` levels (deeper raises `Unreadable`).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from contextlib import suppress
from urllib.parse import unquote_to_bytes

from gateway.json_literals import string_literals
from gateway.masks import is_mask_output
from gateway.multipart_parts import Unreadable

MAX_NESTING = 24  # strings holding JSON holding strings...: deeper is refused as unreadable

# Trimmed before comparing: what `strip`, `trim` and `TrimSpace` of any framework may remove.
_TRIM = "".join(chr(c) for c in range(33)) + "\x7f\x85\xa0\u1680\u180e\u200b\u200c\u200d"
_TRIM += "\u2060\ufeff\u2028\u2029\u202f\u205f\u3000"
_TRIM += "".join(chr(c) for c in range(0x2000, 0x200B))
_PAIR_SPLIT = re.compile(r"[&;]")
_OPENERS = ("{", "[", '"', "'", "/")  # a string starting so may hold JSON (comments too)
_ESCAPE = re.compile(r'\\[^ntr"\\/bf]')
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def masked(value: str) -> bool:
    """Whether `value`, trimmed and folded as an upstream may store it, is a whole mask output."""
    if value.isascii():
        return _masked_as(value)
    # as sent (a name mask keeps its first letter, `ŉ***`), and as NFKC folds it (full-width
    # asterisks and letters); upper-cased before folding too: `İ***` lower-cased is `i` and a
    # combining dot, which only composes again as `İ`
    return (
        _masked_as(value)
        or _masked_as(unicodedata.normalize("NFKC", value))
        or _masked_as(unicodedata.normalize("NFKC", value.upper()))
    )


def _masked_as(value: str) -> bool:
    upper = value.upper()
    if "*" not in value and "XXX-XXX-" not in upper:
        return False  # every mask output has one of these: the common case costs two scans
    return is_mask_output(value.strip(_TRIM)) or is_mask_output(upper.strip(_TRIM))


def suspect(text: str) -> bool:
    """Whether `text` may hold a mask output once decoded: a `*`, an `XX-XXX` run, or an escape,
    percent-encoding or non-ASCII character that may become one. Most clean bodies are passed
    over with a few C-level searches."""
    if "*" in text or not text.isascii():
        return True
    if "\\" in text and _ESCAPE.search(text):
        return True
    if "%" in text and _PERCENT.search(text):
        return True
    return "-" in text and "XX-XXX" in text.upper()


def text_paths(text: str, base: str, depth: int) -> Iterator[str]:
    if depth > MAX_NESTING:
        raise Unreadable("strings holding JSON are nested too deeply")
    if masked(text):
        yield base
    if not suspect(text):
        return
    for path, value in string_literals(text, base):
        if masked(value):
            yield path
        elif value.lstrip(_TRIM)[:1] in _OPENERS:
            yield from text_paths(value, path, depth + 1)  # a string holding JSON


def pair_paths(text: str, prefix: str, depth: int = 0) -> Iterator[str]:
    if not text or not suspect(text):
        return
    for piece in _PAIR_SPLIT.split(text):
        key, _, value = piece.partition("=")
        for decoded_key, decoded in zip(_unquoted(key), _unquoted(value), strict=True):
            path = f"{prefix}.{decoded_key}"
            if masked(decoded):
                yield path
            elif decoded.lstrip(_TRIM)[:1] in _OPENERS:
                yield from text_paths(decoded, path, depth + 1)


def _unquoted(text: str) -> tuple[str, str]:
    """A form value decoded as most frameworks do, and with undecodable bytes dropped."""
    raw = unquote_to_bytes(text.replace("+", " "))
    return raw.decode("utf-8", "replace"), raw.decode("utf-8", "ignore")


def texts(data: bytes, charsets: list[str]) -> list[str]:
    """The body as text every way an upstream may decode it (BOMs, UTF-16/32, its charset)."""
    texts: list[str] = []
    for charset in [*charsets, *_sniffed_encodings(data[:4])]:
        # unknown, or not a text encoding: the UTF-8 readings below still apply
        with suppress(LookupError, ValueError):
            texts.append(data.decode(charset, "replace"))
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        texts.append(body.decode("utf-8"))
    except UnicodeDecodeError:
        texts += [body.decode("utf-8", "replace"), body.decode("utf-8", "ignore")]
    return list(dict.fromkeys(texts))


def _sniffed_encodings(head: bytes) -> list[str]:
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head[1:3] == b"\0\0":
        return (
            ["utf-32"]
            if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE))
            else ["utf-32-le" if head[0] else "utf-32-be"]
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ["utf-16"]
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return ["utf-16-be" if head[0] == 0 else "utf-16-le"]
    return []
