"""The respond stage (`web_respond`) as plain functions: which responses are masked, passed or
refused (SPEC 3.4), and the headers a guarded response carries, on mocked requests.

The upstream response is a small stand-in for aiohttp's client response (status, headers and a
real StreamReader for the body); the respond stage itself runs as in the gateway.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import cast

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.helpers import parse_mimetype
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import UnmaskableResponse
from gateway.exchange import Exchange
from gateway.web_respond import private_cache_control, respond, response_headers
from tests.conftest import bearer
from tests.stage_kit import decided_exchange, mocked, plan_of, state_of, stream_of

CONTACT = "/api/contacts/7"
BODY = orjson.dumps({"id": 7, "phone": "+14155557890"})


class UpstreamReply:
    """The parts of `aiohttp.ClientResponse` the respond stage reads."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.reason = status, "OK"
        self.headers = CIMultiDictProxy(CIMultiDict(headers))
        mime = parse_mimetype(self.headers.get("Content-Type", "application/octet-stream"))
        self.content_type = f"{mime.type}/{mime.subtype}"
        self.charset = mime.parameters.get("charset")
        length = self.headers.get("Content-Length")
        self.content_length = int(length) if length is not None else None
        self.content = stream_of(body)

    async def read(self) -> bytes:
        return await self.content.read()


def reply(body: bytes = BODY, *headers: tuple[str, str], status: int = 200) -> UpstreamReply:
    given = list(headers)
    if not any(name == "Content-Type" for name, _ in given):
        given.insert(0, ("Content-Type", "application/json"))
    if not any(name == "Content-Length" for name, _ in given):
        given.append(("Content-Length", str(len(body))))
    return UpstreamReply(status, given, body)


async def exchange_for(
    tmp_path: Path, role: str, target: str = CONTACT, headers: dict[str, str] | None = None
) -> Exchange:
    stage = state_of(plan_of(tmp_path), tmp_path)
    all_headers = {**bearer(role), **(headers or {})}
    return await decided_exchange(mocked(stage.state, "GET", target, all_headers))


async def answer(exchange: Exchange, upstream: UpstreamReply, max_body: int = 4096) -> web.Response:
    response = await respond(exchange, cast(aiohttp.ClientResponse, upstream), max_body, 5.0)
    assert isinstance(response, web.Response)  # every case here is answered whole
    return response


async def test_a_masked_role_gets_the_masked_body_privately(tmp_path: Path) -> None:
    exchange = await exchange_for(tmp_path, "agent")
    response = await answer(exchange, reply(BODY, ("ETag", '"v1"'), ("Cache-Control", "public")))
    assert response.body is not None
    assert orjson.loads(cast(bytes, response.body)) == {"id": 7, "phone": "XXX-XXX-7890"}
    # the upstream's ETag and length describe the clear bytes, which the client never gets
    assert "ETag" not in response.headers and "Content-Length" not in response.headers
    # SECURITY: a shared cache must never serve one role's view to another
    assert response.headers["Cache-Control"] == "private"
    assert response.headers["Vary"] == "Authorization"
    assert response.headers["X-Request-Id"] == exchange.request_id
    assert exchange.tally.outcome.masked_total == 1


async def test_an_unmasked_role_gets_the_bytes_as_sent_and_is_counted(tmp_path: Path) -> None:
    exchange = await exchange_for(tmp_path, "admin")
    response = await answer(exchange, reply())
    assert response.body == BODY
    assert exchange.tally.revealed == 1  # audited: one clear value shown
    assert response.headers["Cache-Control"] == "private"  # still role-specific


async def test_an_unmatched_route_passes_untouched(tmp_path: Path) -> None:
    exchange = await exchange_for(tmp_path, "agent", "/elsewhere")
    response = await answer(exchange, reply(BODY, ("Cache-Control", "public, max-age=60")))
    assert response.body == BODY
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Vary" not in response.headers


async def test_a_compressed_body_is_masked_and_compressed_again(tmp_path: Path) -> None:
    exchange = await exchange_for(tmp_path, "agent", headers={"Accept-Encoding": "gzip"})
    upstream = reply(gzip.compress(BODY), ("Content-Encoding", "gzip"))
    response = await answer(exchange, upstream)
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"4155557890" not in gzip.decompress(cast(bytes, response.body))


JSON_TYPE = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        # PII: clients disagree on which of several Content-Types counts: none is trusted
        (BODY, [JSON_TYPE, ("Content-Type", "text/plain")], "content_type"),
        (b"<p>+14155557890</p>", [("Content-Type", "text/html")], "content_type"),  # not JSON
        (b"[" + b"1," * 5000 + b"1]", [], "too_large"),  # over --max-body: never partly sent
        (b"{not json", [], "invalid_json"),
        (BODY, [("Content-Encoding", "compress")], "encoding"),  # a coding it cannot undo
    ],
    ids=["several_types", "html", "too_large", "invalid_json", "encoding"],
)
async def test_a_masked_role_fails_closed(
    tmp_path: Path, body: bytes, headers: list[tuple[str, str]], reason: str
) -> None:
    exchange = await exchange_for(tmp_path, "agent")
    with pytest.raises(UnmaskableResponse) as refused:
        await answer(exchange, reply(body, *headers))
    assert refused.value.reason == reason


async def test_response_headers_drop_cdn_cache_headers_when_guarded(tmp_path: Path) -> None:
    exchange = await exchange_for(tmp_path, "agent")
    upstream = reply(BODY, ("Surrogate-Control", "max-age=60"), ("CDN-Cache-Control", "max-age=60"))
    sent = response_headers(exchange, cast(aiohttp.ClientResponse, upstream), guarded=True)
    assert "Surrogate-Control" not in sent and "CDN-Cache-Control" not in sent
    unguarded = response_headers(exchange, cast(aiohttp.ClientResponse, upstream), guarded=False)
    assert unguarded["Surrogate-Control"] == "max-age=60"


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, "private"),  # none: private
        ("public, max-age=60", "private, max-age=60"),  # public is replaced
        ("s-maxage=600, no-transform", "private, no-transform"),  # shared-cache lifetimes go
        ("private, no-store", "private, no-store"),  # already private: one private
        ("PUBLIC", "private"),  # directive names are case-insensitive
    ],
)
def test_private_cache_control(existing: str | None, expected: str) -> None:
    assert private_cache_control(existing) == expected
