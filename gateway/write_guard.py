"""The write-back guard (SPEC 3.5): a masked value sent back must never overwrite the real one.

`check` is a pure function from (body, Content-Type, query string, mode) to a `Verdict`.
SECURITY: it reads a request the way the most forgiving upstream framework would, since Rails and
Laravel merge the query into params, Rack reads any `multipart/*`, Json.NET takes comments and
single quotes, Jackson reads UTF-16, and a CGI app may decode a JSON string twice:
- the query string, always; a body with no Content-Type, a `text/*` or garbage one, any type
  naming JSON or a form, every type of a comma-separated list, `application/octet-stream` whose
  bytes look like JSON, and every part of any `multipart/*` body (uploads with a non-empty
  filename and a binary type excepted);
- JSON as a token scan (`json_literals`), forms and queries split on `&` and `;`; every value,
  trimmed, NFKC-folded and upper-cased, is compared with the mask shapes, and a value holding
  JSON is read inside;
- what cannot be read without guessing (ambiguous multipart, strings nested too deep) is
  refused as unreadable, never passed.
Strip mode forwards the body and query without the masked fields, but only when the result
re-checks clean; otherwise it refuses as well.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any, Literal

from gateway import json_codec
from gateway.errors import MaskedValueWrite
from gateway.masked_values import MAX_NESTING, pair_paths, text_paths, texts
from gateway.multipart_parts import Unreadable, boundary_of, params, split_parts

Mode = Literal["reject", "strip", "off"]
BodyKind = Literal["scan", "sniff", "skip"]
FORM = "application/x-www-form-urlencoded"
SNIFF_BYTES = 64  # how much of an octet-stream body decides whether it may be JSON

_LIST_ITEM = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*"?)+')
# JSON after a BOM and white space (or UTF-16/32 NULs), also opening with a comment (Json.NET)
_JSON_START = re.compile(
    rb'\A(?:\xef\xbb\xbf|\xff\xfe|\xfe\xff)?[\s\x00]*(?:[{\["\']|/\x00{0,3}[*/])'
)


@dataclass(frozen=True)
class Verdict:
    """What the guard found, and what may go upstream."""

    paths: tuple[str, ...]  # where mask outputs were found ($.a, query.a, form.a[b], ...)
    body: bytes  # the body to forward (stripped in strip mode)
    query: str  # the query string to forward (stripped in strip mode)
    unreadable: str | None = None  # why the body could not be checked; None: it was
    refused: bool = False  # answer 422 and forward nothing

    def error(self) -> MaskedValueWrite:
        if self.unreadable is not None:
            return MaskedValueWrite(f"the request body could not be checked: {self.unreadable}")
        shown = ", ".join(self.paths[:20]) + (" ..." if len(self.paths) > 20 else "")
        return MaskedValueWrite(f"masked values must not be written back: {shown}")


def check(body: bytes, content_type: str | None, query: str, mode: Mode) -> Verdict:
    """The guard's verdict on one request; `content_type` is the raw header value(s) or None."""
    if mode == "off":
        return Verdict((), body, query)
    try:
        in_query = tuple(dict.fromkeys(pair_paths(query, "query")))
        in_body = tuple(_body_paths(body, content_type, 0))
    except Unreadable as why:
        return Verdict((), body, query, str(why), refused=True)
    paths = in_query + in_body
    if not paths:
        return Verdict((), body, query)
    if mode == "reject":
        return Verdict(paths, body, query, refused=True)
    stripped_query = _strip_pairs(query) if in_query else query
    stripped_body = _strip_body(body, content_type) if in_body else body
    if stripped_body is None or check(stripped_body, content_type, stripped_query, "reject").paths:
        return Verdict(paths, body, query, refused=True)  # cannot be stripped, only refused
    return Verdict(paths, stripped_body, stripped_query)


def check_frame(text: str) -> tuple[str, ...]:
    """Paths of mask outputs in a WebSocket text frame from client to upstream (SPEC 3.6)."""
    try:
        return tuple(text_paths(text, "$", 0))
    except Unreadable:
        return ("$",)  # SECURITY: a frame that cannot be read is treated as holding one


def body_kind(content_type: str | None) -> BodyKind:
    """Whether a body must be buffered and checked, sniffed first, or may stream through."""
    kinds = {_kind(media) for media, _ in _media_types(content_type)} or {"scan"}
    return "scan" if "scan" in kinds else "sniff" if "sniff" in kinds else "skip"


def looks_like_json(prefix: bytes) -> bool:
    """Whether a body starting with `prefix` may parse as JSON (for `sniff` bodies).

    SECURITY: a prefix of only white space cannot tell, and lenient parsers skip any amount of
    it, so it counts as JSON (the body is then read, not streamed past the guard)."""
    if not prefix.lstrip(b" \t\r\n\x00").removeprefix(codecs.BOM_UTF8).strip(b" \t\r\n\x00"):
        return True
    return _JSON_START.match(prefix) is not None


def _kind(media: str) -> BodyKind:
    if media.startswith("multipart/") or "json" in media or media == FORM:
        return "scan"
    if media.startswith("text/") or "/" not in media:
        return "scan"  # text and garbage types: lenient upstreams sniff them
    return "sniff" if media == "application/octet-stream" else "skip"


def _media_types(content_type: str | None) -> list[tuple[str, str]]:
    items = [m.group(0).strip() for m in _LIST_ITEM.finditer(content_type or "")]
    return [(i.partition(";")[0].strip().lower(), i) for i in items if i]


def _body_paths(data: bytes, content_type: str | None, depth: int) -> list[str]:
    if not data:
        return []
    types = _media_types(content_type)
    multipart = [item for media, item in types if media.startswith("multipart/")]
    if multipart:
        if len(types) > 1:
            raise Unreadable("a multipart body must name one Content-Type")
        return _multipart_paths(data, multipart[0], depth)
    kinds = {_kind(media) for media, _ in types} or {"scan"}
    if "scan" not in kinds and not ("sniff" in kinds and looks_like_json(data[:SNIFF_BYTES])):
        return []
    charsets = [v for _, item in types for k, v in params(item) if k == "charset"]
    json_only = bool(types) and all("json" in media for media, _ in types)
    found: list[str] = []
    for text in texts(data, charsets):
        found += text_paths(text, "$", depth)
        if "=" in text and not json_only:  # a JSON body is not read as a form
            found += pair_paths(text, "form", depth)
    return list(dict.fromkeys(found))


def _multipart_paths(data: bytes, content_type: str, depth: int) -> list[str]:
    if depth > MAX_NESTING:
        raise Unreadable("multipart parts are nested too deeply")
    found: list[str] = []
    for part in split_parts(data, boundary_of(content_type)):
        part_type = part.content_type
        if body_kind(part_type) == "skip":
            if part.filename:
                continue  # an upload of a binary type
            # SECURITY: Rack reads a part without a filename (or with `filename=""`) as a
            # field, whatever its Content-Type says.
            part_type = None
        label = f"form.{part.name}" if part.name is not None else "form.(unnamed part)"
        for content in part.data:
            inner = _body_paths(content, part_type, depth + 1)
            found += [label + path[1:] if path.startswith("$") else path for path in inner]
    return list(dict.fromkeys(found))


def _strip_pairs(text: str) -> str:
    kept = [piece for piece in text.split("&") if not any(pair_paths(piece, "", 0))]
    return "&".join(kept)


def _strip_body(data: bytes, content_type: str | None) -> bytes | None:
    """The body without its masked fields, or None when it cannot be done safely."""
    kinds = {media for media, _ in _media_types(content_type)}
    if kinds == {FORM}:
        return _strip_pairs(data.decode("utf-8", "replace")).encode()
    if any(media.startswith("multipart/") for media in kinds):
        return None
    try:
        document = json_codec.loads(data.removeprefix(codecs.BOM_UTF8), lenient=True)
    except ValueError:
        return None  # not strict JSON: only a refusal is safe
    if isinstance(document, str):
        return None  # the body is itself a masked value
    try:
        return json_codec.dumps(_without_masked(document))
    except (RecursionError, ValueError):
        return None


def _without_masked(doc: Any) -> Any:
    # Recursion is bounded: json_codec.loads refuses what the stdlib cannot nest.
    if isinstance(doc, dict):
        return {k: _without_masked(v) for k, v in doc.items() if not _dirty(v)}
    if isinstance(doc, list):
        return [_without_masked(v) for v in doc if not _dirty(v)]
    return doc


def _dirty(value: Any) -> bool:
    return isinstance(value, str) and any(text_paths(value, "$", 1))
