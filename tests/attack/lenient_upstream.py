"""A fake upstream that reads requests the way lenient frameworks do (issue 10's red team).

One loopback aiohttp app plays several frameworks at once, each behaviour a plain function so
tests can assert it directly:
- `cgi_environ`: CGI/WSGI/Rack header names (`HTTP_X_FORWARDED_FOR` from `X_Forwarded_For` too;
  headers folding to one name are joined), the class of Django's CVE-2015-0219;
- `merged_params`: Rails/Laravel params, the query merged with the body, which is read as JSON
  for any type naming JSON, a list of types, no type or bytes that parse as JSON (first duplicate
  key wins, trailing commas and invalid bytes tolerated), as a form (`;` separates too), or as
  any `multipart/*` (parts with `filename=""` are fields); values are stripped as Rails'
  `strip_attributes` does, and JSON held in a string is decoded (a double-decoding client);
- `routed_path`: Java and Rails routers dropping `;params` and `%3Bparams` from segments.
Every write stores its params in `stored`; a GET of a contact answers clear PII.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any
from urllib.parse import unquote, unquote_plus

from aiohttp import WSMsgType, web
from multidict import CIMultiDict

CONTACT = {
    "payload": {
        "name": "Jane Doe",
        "email": "jane.doe@example.com",
        "phone_number": "+1 415 555 7890",
    }
}
CONTACT_PATH = "/api/v1/accounts/1/contacts/2"
MESSAGES = {"payload": [{"content": "Jane Doe here, call me on +1 415 555 7890"}]}
MESSAGES_PATH = "/api/v1/accounts/1/conversations/3/messages"
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PARAMS = re.compile(r"(?:;|%3[Bb])[^/]*")


def cgi_environ(raw_headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as a CGI server (Puma, older gunicorn) puts them in the environment: names
    folded, headers that fold to one name joined with ", " in arrival order."""
    environ: dict[str, str] = {}
    for name, value in raw_headers:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        environ[key] = f"{environ[key]}, {text}" if key in environ else text
    return environ


def routed_path(raw_path: str) -> str:
    """The path a Rails or servlet router routes: `;params` (encoded too) and `.json` dropped."""
    path = raw_path.partition("?")[0]
    segments = [_PARAMS.sub("", segment) for segment in path.split("/")]
    path = "/".join(segments)
    return path.removesuffix(".json")


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def lenient_json(data: bytes) -> Any:
    """JSON read as Json.NET or a first-key-wins parser would: bad bytes dropped, commas forgiven."""
    text = data.decode("utf-8", "ignore").removeprefix("\ufeff")
    text = _TRAILING_COMMA.sub(r"\1", text)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # a parser without the gateway's nesting limit
    try:
        return json.loads(text, object_pairs_hook=_first_wins, strict=False)
    finally:
        sys.setrecursionlimit(limit)


def _form(text: str) -> dict[str, str]:
    pairs = [piece.partition("=") for piece in re.split("[&;]", text) if piece]
    return {unquote_plus(k): unquote_plus(v) for k, _, v in pairs}


def _multipart(data: bytes, content_type: str) -> dict[str, str]:
    boundary = content_type.split("boundary=", 1)[1].split(";")[0].strip('"')
    fields = {}
    for segment in data.split(b"--" + boundary.encode())[1:]:
        head, _, value = segment.partition(b"\r\n\r\n")
        match = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        if match and (filename is None or filename.group(1) == b""):  # Rack: "" is a field
            fields[match.group(1).decode()] = value.removesuffix(b"\r\n").decode("utf-8", "replace")
    return fields


def merged_params(query: str, content_type: str | None, body: bytes) -> dict[str, Any]:
    """Rails/Laravel params: the query, then the body on top."""
    params: dict[str, Any] = _form(unquote(query, errors="replace")) if query else {}
    media = (content_type or "").split(";")[0].strip().lower()
    if media.startswith("multipart/"):
        params.update(_multipart(body, content_type or ""))
    elif media == "application/x-www-form-urlencoded":
        params.update(_form(body.decode("utf-8", "replace")))
    elif body:
        try:
            document = lenient_json(body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            params.update(document)
    return {key: _read(value) for key, value in params.items()}


def _read(value: Any) -> Any:
    """A stripped value; JSON held in a string decoded, as a double-decoding client does."""
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("{"):
            try:
                return _read(json.loads(value))
            except ValueError:
                return value
    if isinstance(value, dict):
        return {key: _read(inner) for key, inner in value.items()}
    return value


class LenientUpstream:
    """The fake framework's state: what it stored and which identity and address it believed."""

    def __init__(self) -> None:
        self.stored: list[dict[str, Any]] = []
        self.environ: list[dict[str, str]] = []
        self.frames: list[str] = []  # WebSocket text frames received (an ActionCable channel)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        environ = cgi_environ(list(request.raw_headers))
        self.environ.append(environ)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            socket = web.WebSocketResponse()
            await socket.prepare(request)
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self.frames.append(message.data)
            return socket
        if request.method == "GET" and routed_path(request.raw_path) == CONTACT_PATH:
            return web.json_response(CONTACT)
        if request.method == "GET" and routed_path(request.raw_path) == MESSAGES_PATH:
            return web.json_response(MESSAGES)
        content_type = ", ".join(CIMultiDict(request.headers).getall("Content-Type", ())) or None
        body = await request.read()
        query = request.raw_path.partition("?")[2]
        params = merged_params(query, content_type, body)
        if params:
            self.stored.append(params)
        return web.json_response({"stored": params})


def holds(document: Any, value: str) -> bool:
    """Whether `value` is stored anywhere in `document` (the leak a fake upstream shows)."""
    if isinstance(document, dict):
        return any(holds(inner, value) for inner in document.values())
    if isinstance(document, list):
        return any(holds(inner, value) for inner in document)
    return isinstance(document, str) and document == value
