"""Identity linking through the gateway: learned from responses and webhooks, stamped on both,
shown and edited on the admin listener and by `omnigate identities` (SPEC 4.1)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY
from pytest_aiohttp import AiohttpClient

from gateway.web_admin import build_admin_app
from tests.conftest import MINIMAL_RULES, Gateway, GatewayFactory, UpstreamApp, bearer
from tests.identity.redis_kit import RedisServer

PHONE, EMAIL = "+1 (415) 555-0100", "Jane.Doe@Example.com"


def ref_id(kind: str, value: str) -> str:
    digest = hmac.new(b"test-id-secret", f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


P, E = ref_id("phone", "+14155550100"), ref_id("email", "jane.doe@example.com")


def rules(store: str) -> str:
    return MINIMAL_RULES + textwrap.dedent(f"""
        omnichannel:
          identify_by: [phone, email]
          id_secret_env: OMNIGATE_ID_SECRET
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
          - {{ channel: generic, path: /hooks/crm, identity: {{ phone: "$.c.mobile", email: "$.c.mail" }}, stamp_at: "$.c" }}
        """)


class Upstream:
    def __init__(self) -> None:
        self.hooks: list[tuple[dict[str, str], bytes]] = []

    def app(self) -> web.Application:
        async def contact(request: web.Request) -> web.Response:
            number = request.match_info["id"]
            phone = PHONE if number == "1" else f"+1 415 555 01{number.zfill(2)}"
            email = EMAIL if number == "1" else f"user{number}@example.com"
            return web.json_response({"payload": {"phone_number": phone, "email": email}})

        async def hook(request: web.Request) -> web.Response:
            self.hooks.append((dict(request.headers), await request.read()))
            return web.Response(status=202)

        app = web.Application()
        app.router.add_get("/api/contacts/{id}", contact)
        app.router.add_post("/{tail:.*}", hook)
        return app


def email_form(sender: str) -> tuple[bytes, dict[str, str]]:
    body = (
        '--b\nContent-Disposition: form-data; name="from"\n\n' + sender + "\n"
        '--b\nContent-Disposition: form-data; name="text"\n\nhello\n--b--\n'
    ).encode()  # bare LF line endings, as SendGrid's sample sender writes them
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
async def linked(
    make_gateway: GatewayFactory,
    upstream_app: UpstreamApp,
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
) -> Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]]:
    async def start(store: str) -> tuple[Gateway, TestClient[Any, Any], Upstream]:
        upstream = Upstream()
        gw = await make_gateway(await upstream_app(upstream.app()), rules(store))
        admin = await aiohttp_client(build_admin_app(gw.state))
        return gw, admin, upstream

    return start


async def cluster_of(admin: TestClient[Any, Any], omni_id: str) -> Any:
    resp = await admin.get(f"/identities/{omni_id}")
    assert resp.status == 200
    return await resp.json()


async def test_contact_links_phone_and_email_for_responses_and_webhooks(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
    tmp_path: Path,
) -> None:
    db = tmp_path / "ids.db"
    gw, admin, upstream = await linked(f"sqlite:///{db}")
    resp = await gw.client.get("/api/contacts/1", headers=bearer("agent"))
    payload = (await resp.json())["payload"]
    assert payload["omni_customer_id"] == P  # both new: the phone comes first in identify_by
    assert payload["phone_number"] != PHONE  # masked as usual

    async def learned() -> bool:
        return (await cluster_of(admin, E))["id"] == P  # type: ignore[no-any-return]

    await eventually(learned)
    assert await cluster_of(admin, E) == {"id": P, "members": [P, E], "aliases": []}

    # the same customer writing by email is stamped with the one id
    body, headers = email_form("Jane Doe <jane.doe@example.com>")
    resp = await gw.client.post("/webhooks/email", data=body, headers=headers)
    assert resp.status == 202
    forwarded_headers, forwarded = upstream.hooks[-1]
    assert forwarded_headers["X-Omni-Customer-Id"] == P
    assert b'name="omni_customer_id"\n\n' + P.encode() in forwarded

    # PII: the SQLite file (and its WAL) holds ids only, never the phone or the address
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("ids.db"))
    assert P.encode() in files
    for clear in (b"4155550100", b"415) 555", b"jane.doe", b"Jane.Doe", b"example.com"):
        assert clear not in files


async def test_generic_webhook_teaches_a_link_and_joins_keep_the_older_id(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
) -> None:
    gw, admin, upstream = await linked("memory://web-generic")
    # an older customer: contact 7 links its phone and email first
    await gw.client.get("/api/contacts/7", headers=bearer("admin"))
    p7, e7 = ref_id("phone", "+14155550107"), ref_id("email", "user7@example.com")

    async def first_learned() -> bool:
        return (await cluster_of(admin, e7))["id"] == p7  # type: ignore[no-any-return]

    await eventually(first_learned)
    # a CRM webhook names a second phone with contact 7's email: it joins the older cluster
    other = ref_id("phone", "+14155550188")
    body = orjson.dumps({"c": {"mobile": "415-555-0188", "mail": "user7@example.com"}})
    resp = await gw.client.post(
        "/hooks/crm", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 202

    async def joined() -> bool:
        return other in (await cluster_of(admin, p7))["members"]

    await eventually(joined)
    assert (await cluster_of(admin, other))["id"] == p7
    body = orjson.dumps({"c": {"mobile": "415-555-0188"}})
    await gw.client.post("/hooks/crm", data=body, headers={"Content-Type": "application/json"})
    assert upstream.hooks[-1][0]["X-Omni-Customer-Id"] == p7


async def test_admin_link_unlink_and_aliases(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
) -> None:
    gw, admin, _ = await linked("memory://web-admin")
    a, b, c, d = (ref_id("phone", f"+1415555020{n}") for n in range(4))
    resp = await admin.post("/identities/link", json={"ids": [a, b]})
    assert resp.status == 200 and await resp.json() == {"id": a, "members": [a, b], "aliases": []}
    await admin.post("/identities/link", json={"ids": [c, d]})
    resp = await admin.post("/identities/link", json={"ids": [d, b]})
    assert await resp.json() == {"id": a, "members": [a, b, c, d], "aliases": [c]}
    assert (await cluster_of(admin, c))["id"] == a  # an alias names the current id
    resp = await admin.post("/identities/unlink", json={"id": a})
    assert await resp.json() == {"id": a, "members": [a], "aliases": []}
    assert await cluster_of(admin, d) == {"id": b, "members": [b, c, d], "aliases": [c]}
    # the stamping cache follows an admin change at once
    assert gw.state.plan.resolver.linking.linker.resolve(c) == b  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/identities/not-an-id", None, 400),  # not an omnichannel id
        ("GET", "/identities/+14155550100", None, 400),  # PII is never looked up (nor echoed)
        ("POST", "/identities/link", b"{", 400),  # not JSON
        ("POST", "/identities/link", b"[]", 400),  # not an object
        (
            "POST",
            "/identities/link",
            b'{"ids": ["omni_aaaaaaaaaaaaaaaaaaaaaaaaaa"]}',
            400,
        ),  # one id
        ("POST", "/identities/link", b'{"ids": "x"}', 400),
        ("POST", "/identities/unlink", b'{"id": 5}', 400),
    ],
)
async def test_admin_errors_are_spec_shaped(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
    method: str,
    path: str,
    body: bytes | None,
    status: int,
) -> None:
    _, admin, _ = await linked("memory://web-errors")
    resp = await admin.request(method, path, data=body)
    assert resp.status == status
    error = (await resp.json())["error"]
    assert error["code"] == "bad_request" and error["request_id"] and error["message"]
    assert "14155550100" not in error["message"]


async def test_admin_without_linking_says_so(
    make_gateway: GatewayFactory, upstream_app: UpstreamApp, aiohttp_client: AiohttpClient
) -> None:
    gw = await make_gateway(await upstream_app(Upstream().app()))
    admin = await aiohttp_client(build_admin_app(gw.state))
    resp = await admin.get("/identities/omni_aaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert resp.status == 400
    assert "linking is off" in (await resp.json())["error"]["message"]


async def test_two_gateways_sharing_redis_agree(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
    shared_redis: RedisServer,
) -> None:
    first, first_admin, _ = await linked(shared_redis.url + "?client_name=gw1")
    second, _, second_upstream = await linked(shared_redis.url + "?client_name=gw2")
    n = "42"
    p42, e42 = ref_id("phone", "+14155550142"), ref_id("email", "user42@example.com")
    resp = await first.client.get(f"/api/contacts/{n}", headers=bearer("admin"))
    assert (await resp.json())["payload"]["omni_customer_id"] == p42

    async def learned() -> bool:
        return (await cluster_of(first_admin, e42))["id"] == p42  # type: ignore[no-any-return]

    await eventually(learned)

    async def second_agrees() -> bool:
        body, headers = email_form("user42@example.com")
        await second.client.post("/webhooks/email", data=body, headers=headers)
        return second_upstream.hooks[-1][0]["X-Omni-Customer-Id"] == p42

    await eventually(second_agrees)


async def test_redis_stopped_mid_test_fails_no_request(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
    redis_server: RedisServer,
    aiohttp_client: AiohttpClient,
) -> None:
    gw, admin, upstream = await linked(redis_server.url)
    await gw.client.get("/api/contacts/1", headers=bearer("admin"))
    redis_server.stop()
    before = (
        REGISTRY.get_sample_value(
            "omnigate_identity_unlinked_stamps_total", {"reason": "store_down"}
        )
        or 0
    )
    for number in ("3", "4", "5"):
        resp = await gw.client.get(f"/api/contacts/{number}", headers=bearer("admin"))
        assert resp.status == 200
        stamped = (await resp.json())["payload"]["omni_customer_id"]
        assert stamped == ref_id("phone", f"+141555501{number.zfill(2)}")  # the unlinked id
    body, headers = email_form("someone.new@example.com")
    resp = await gw.client.post("/webhooks/email", data=body, headers=headers)
    assert resp.status == 202
    assert upstream.hooks[-1][0]["X-Omni-Customer-Id"] == ref_id("email", "someone.new@example.com")
    assert (await admin.get("/readyz")).status == 200
    resp = await admin.get(f"/identities/{P}")
    assert resp.status == 502 and (await resp.json())["error"]["code"] == "upstream_unavailable"
    after = (
        REGISTRY.get_sample_value(
            "omnigate_identity_unlinked_stamps_total", {"reason": "store_down"}
        )
        or 0
    )
    assert after > before


def test_cli_reads_and_edits_the_store_from_the_rules(tmp_path: Path) -> None:
    db = tmp_path / "ids.db"
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "rules.yaml").write_text(textwrap.dedent(rules(f"sqlite:///{db}")))
    env = {**os.environ, "OMNIGATE_JWT_SECRET": "x" * 32, "OMNIGATE_ID_SECRET": "s"}

    def omnigate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "identities", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    a, b = ref_id("phone", "+14155550300"), ref_id("email", "x@example.com")
    done = omnigate("link", a, b, "--rules", str(rules_dir))
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout) == {"id": a, "members": [a, b], "aliases": []}
    done = omnigate("show", b, "--store", f"sqlite:///{db}")
    assert orjson.loads(done.stdout)["id"] == a
    done = omnigate("unlink", b, "--rules", str(rules_dir))
    assert orjson.loads(done.stdout) == {"id": b, "members": [b], "aliases": []}
    done = omnigate("show", "+14155550300", "--store", "memory://")
    assert done.returncode == 2 and "14155550300" not in done.stderr
    done = omnigate("show", a, "--store", "redis://127.0.0.1:1/0")
    assert done.returncode == 1 and "did not answer" in done.stderr
    done = omnigate("show", a, "--rules", str(tmp_path / "missing"))
    assert done.returncode == 2


def test_cli_and_a_gateway_process_agree_through_redis(
    shared_redis: RedisServer, tmp_path: Path
) -> None:
    a, b = ref_id("phone", "+14155550400"), ref_id("email", "y@example.com")
    env = {**os.environ}

    def omnigate(*args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "identities", *args, "--store", shared_redis.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return orjson.loads(done.stdout)

    assert omnigate("link", a, b)["id"] == a
    assert omnigate("show", b)["id"] == a  # another process reads what the first wrote


async def test_an_id_unlinked_by_hand_is_not_relearned_from_the_same_contact(
    linked: Callable[[str], Awaitable[tuple[Gateway, TestClient[Any, Any], Upstream]]],
) -> None:
    gw, admin, _ = await linked("memory://web-pinned")
    await gw.client.get("/api/contacts/1", headers=bearer("admin"))

    async def learned() -> bool:
        return (await cluster_of(admin, E))["id"] == P  # type: ignore[no-any-return]

    await eventually(learned)
    resp = await admin.post("/identities/unlink", json={"id": E})
    assert await resp.json() == {"id": E, "members": [E], "aliases": []}
    linker = gw.state.plan.resolver.linking.linker  # type: ignore[union-attr]
    for _ in range(3):  # the contact still carries both: the operator's split holds
        resp = await gw.client.get("/api/contacts/1", headers=bearer("admin"))
        assert (await resp.json())["payload"]["omni_customer_id"] == P

        async def settled() -> bool:
            return not linker._links

        await eventually(settled)
    assert await cluster_of(admin, E) == {"id": E, "members": [E], "aliases": []}
    assert linker.resolve(E) == E
