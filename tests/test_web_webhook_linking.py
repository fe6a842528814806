"""Identity linking wired through a live gateway (SPEC 4.1, 5): the first webhook or response a
fresh process sees already carries the cluster id; links learned from responses stamp webhooks;
a stamp field from outside never reaches the upstream in a GET webhook's query string."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import textwrap
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.identity.link_store import MemoryStore
from gateway.identity.linker import close_linkers
from gateway.web_webhook import query_without
from tests.conftest import MINIMAL_RULES, Gateway, GatewayFactory, bearer

PHONE, EMAIL = "+1 415 555 0100", "jane.doe@example.com"


def ref_id(kind: str, value: str) -> str:
    digest = hmac.new(b"test-id-secret", f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


P, E = ref_id("phone", "+14155550100"), ref_id("email", EMAIL)


def rules(store: str, identify_by: str = "[phone, email]") -> str:
    return MINIMAL_RULES + textwrap.dedent(f"""
        omnichannel:
          identify_by: {identify_by}
          linking: {{ store: "{store}" }}
        routes:
          - name: contact
            match: {{ method: [GET], path: "/api/contacts/{{id}}" }}
            response:
              - {{ path: "$.payload.phone_number", mask: phone }}
              - {{ path: "$.payload.email", mask: email }}
            stamp:
              - {{ at: "$.payload", phone: "$.phone_number", email: "$.email" }}
        webhooks:
          - {{ channel: sendgrid, path: /webhooks/email }}
          - {{ channel: twilio, path: /webhooks/twilio }}
        """)


class Upstream:
    def __init__(self) -> None:
        self.hooks: list[tuple[dict[str, str], str, bytes]] = []
        self.contact: dict[str, object] = {}

    def app(self) -> web.Application:
        async def contact(request: web.Request) -> web.Response:
            return web.json_response({"payload": self.contact})

        async def hook(request: web.Request) -> web.Response:
            self.hooks.append(
                (dict(request.headers), request.raw_path.partition("?")[2], await request.read())
            )
            return web.Response(status=202)

        app = web.Application()
        app.router.add_get("/api/contacts/{id}", contact)
        app.router.add_route("*", "/webhooks/{tail:.*}", hook)
        return app


Start = Callable[..., Awaitable[tuple[Gateway, Upstream]]]


@pytest.fixture
async def gateway(
    make_gateway: GatewayFactory, upstream_app: Callable[[web.Application], Awaitable[TestServer]]
) -> AsyncIterator[Start]:
    async def start(store: str, identify_by: str = "[phone, email]") -> tuple[Gateway, Upstream]:
        upstream = Upstream()
        gw = await make_gateway(await upstream_app(upstream.app()), rules(store, identify_by))
        return gw, upstream

    yield start
    await close_linkers()


def fresh_store() -> str:
    """A store no linker of this process has seen: its cache starts cold, as after a restart."""
    return f"memory://fresh-{uuid.uuid4().hex}"


def email_form(sender: str) -> tuple[bytes, dict[str, str]]:
    body = (
        '--b\r\nContent-Disposition: form-data; name="from"\r\n\r\n' + sender + "\r\n"
        '--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n--b--\r\n'
    ).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


async def test_first_webhook_on_a_fresh_process_gets_the_cluster_id(gateway: Start) -> None:
    store = fresh_store()
    await MemoryStore(store).link([P, E])  # linked earlier, by another replica or an operator
    gw, upstream = await gateway(store)
    body, headers = email_form(f"Jane Doe <{EMAIL}>")
    resp = await gw.client.post("/webhooks/email", data=body, headers=headers)
    assert resp.status == 202
    forwarded_headers, _, forwarded = upstream.hooks[-1]
    assert forwarded_headers["X-Omni-Customer-Id"] == P  # not the email's own id E
    assert b'name="omni_customer_id"\r\n\r\n' + P.encode() in forwarded


@pytest.mark.parametrize(
    "padding",
    [
        0,  # a small body, masked on the event loop
        100_000,  # a large one, masked beside it: the ids are settled on the loop first
    ],
)
async def test_first_response_on_a_fresh_process_gets_the_cluster_id(
    gateway: Start, padding: int
) -> None:
    store = fresh_store()
    await MemoryStore(store).link([P, E])
    gw, upstream = await gateway(store)
    upstream.contact = {"email": EMAIL, "notes": "x" * padding}  # the email only
    resp = await gw.client.get("/api/contacts/1", headers=bearer("agent"))
    assert resp.status == 200
    payload = (await resp.json())["payload"]
    assert payload["omni_customer_id"] == P
    assert payload["email"] != EMAIL  # masked as usual
    # rewritten twice (before and after the lookup), counted once: one email masked
    access = [orjson.loads(line) for line in gw.access.getvalue().splitlines()]
    assert [line["masked"] for line in access if line.get("path") == "/api/contacts/{id}"] == [1]


async def test_a_contact_learned_from_a_response_stamps_a_twilio_get_webhook(
    gateway: Start,
) -> None:
    # email first: a WhatsApp message from the phone then carries the email's id
    gw, upstream = await gateway(fresh_store(), "[email, phone]")
    upstream.contact = {"phone_number": PHONE, "email": EMAIL}
    resp = await gw.client.get("/api/contacts/1", headers=bearer("admin"))
    assert (await resp.json())["payload"]["omni_customer_id"] == E
    query = "From=whatsapp:%2B14155550100&WaId=14155550100&Body=hi"
    for _ in range(200):  # the link reaches the store in the background (within a second)
        resp = await gw.client.get(f"/webhooks/twilio?{query}")
        assert resp.status == 202
        if upstream.hooks[-1][0]["X-Omni-Customer-Id"] == E:
            break
        await asyncio.sleep(0.05)
    assert upstream.hooks[-1][0]["X-Omni-Customer-Id"] == E
    assert upstream.hooks[-1][1] == query  # forwarded byte for byte


async def test_a_stamp_field_from_outside_is_dropped_from_the_query(gateway: Start) -> None:
    gw, upstream = await gateway(fresh_store())
    query = "WaId=14155550100&omni_customer_id=omni_forged&Body=a%20b"
    resp = await gw.client.get(f"/webhooks/twilio?{query}")
    assert resp.status == 202
    headers, forwarded_query, _ = upstream.hooks[-1]
    assert forwarded_query == "WaId=14155550100&Body=a%20b"
    assert headers["X-Omni-Customer-Id"] == P


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),  # nothing to drop
        ("a=1&b=2", "a=1&b=2"),  # no stamp field: byte for byte
        ("omni_customer_id=x", ""),  # only the stamp field
        ("a=%41&omni_customer_id=x&omni_customer_id=y&b", "a=%41&b"),  # every copy, rest as is
        ("omni%5Fcustomer%5Fid=x&a=1", "a=1"),  # a percent-encoded spelling
        ("omni_customer_id_2=x", "omni_customer_id_2=x"),  # another name that starts alike
    ],
)
def test_query_without(query: str, expected: str) -> None:
    assert query_without(query, "omni_customer_id") == expected
