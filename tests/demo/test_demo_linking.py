"""The demo's omnichannel story, replayed from the commands `omnigate demo` prints (SPEC 4.1):
contact 1 links Jane's phone and email, so her WhatsApp message and her email are stamped with one
id, which the admin listener shows as one cluster. And `--rules chatwoot` serves the demo with the
shipped Chatwoot pack."""

from __future__ import annotations

import asyncio
import io
import shlex
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from gateway.demo import make_demo_app
from gateway.demo.run import DEMO_SECRETS, banner, demo_rules
from gateway.event_log import EventLog
from gateway.identity.linker import close_linkers
from gateway.rule_packs import pack_path
from gateway.rules_plan import load_plan
from gateway.settings import Listen, Settings, SettingsError
from gateway.web_admin import build_admin_app
from gateway.web_app import build_app
from gateway.web_runner import GatewayRunner
from gateway.web_state import GatewayState

JANE_OMNI_ID = "omni_zvhuqtfdxkmtbzwukbloa5bh6h"  # phone:+14155550132 under demo-id-secret

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


class _GatewayServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return GatewayRunner(self.app, **kwargs)


class Demo:
    def __init__(self, text: str, base: str) -> None:
        self.text = text
        self.base = base


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    yield


async def start_demo(rules: Path) -> AsyncIterator[Demo]:
    upstream = TestServer(make_demo_app(live_interval=None))
    await upstream.start_server()
    settings = Settings(
        upstream=yarl.URL(str(upstream.make_url("/"))),
        listen=Listen("127.0.0.1", 0),
        admin_listen=Listen("127.0.0.1", 0),
        rules=rules,
        workers=1,
        upstream_timeout=5.0,
        max_body=16 * 1024 * 1024,
        log_format="json",
        audit_log="-",
    )
    plan = load_plan(rules)
    state = GatewayState(
        settings=settings,
        access_log=EventLog(io.StringIO(), "json"),
        audit_log=EventLog(io.StringIO(), "json"),
        plan=plan,
    )
    gateway = _GatewayServer(build_app(state, watch=False))
    admin = TestServer(build_admin_app(state))
    await gateway.start_server()
    await admin.start_server()
    base, admin_base = str(gateway.make_url("")), str(admin.make_url(""))
    try:
        yield Demo(banner(base, admin_base, str(upstream.make_url("")), plan), base)
    finally:
        await gateway.close()
        await admin.close()
        await upstream.close()
        await close_linkers()


@pytest.fixture
async def examples_demo(demo_env: None) -> AsyncIterator[Demo]:
    async for demo in start_demo(demo_rules(None)):
        yield demo


@pytest.fixture
async def chatwoot_demo(demo_env: None) -> AsyncIterator[Demo]:
    async for demo in start_demo(demo_rules("chatwoot")):
        yield demo


def tokens(text: str) -> dict[str, str]:
    """`export ADMIN_TOKEN=...` lines of the banner."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


def command(text: str, fragment: str) -> list[str]:
    """The words of the first printed curl command containing `fragment`, tokens filled in."""
    for line in text.splitlines():
        if line.strip().startswith("curl ") and fragment in line:
            for name, value in tokens(text).items():
                line = line.replace(f"${name}", value)
            return shlex.split(line)
    raise AssertionError(f"no printed command has {fragment!r}")


async def run_curl(words: list[str]) -> tuple[int, Any]:
    """A printed `curl -s [-X M] [-H 'K: V']... [--data-binary @file] URL` run with aiohttp."""
    method, headers, data, url = "GET", {}, None, ""
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "--data-binary":
            data = await asyncio.to_thread(Path(next(args).removeprefix("@")).read_bytes)
        elif word.startswith("http"):
            url = word
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers, data=data) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def test_printed_commands_show_one_customer_across_whatsapp_and_email(
    examples_demo: Demo,
) -> None:
    text = examples_demo.text
    assert "/api/v1/accounts/1/live" in text  # the example rules cover the SSE feed
    status, contact = await run_curl(command(text, "/contacts/1"))
    assert status == 200 and contact["payload"]["omni_customer_id"] == JANE_OMNI_ID
    identities = command(text, "/identities/")
    assert identities[-1].endswith(f"/identities/{JANE_OMNI_ID}")
    for _ in range(100):  # the link reaches the (in-memory) store in the background
        status, cluster = await run_curl(identities)
        if len(cluster["members"]) == 2:
            break
        await asyncio.sleep(0.05)
    assert status == 200 and cluster["id"] == JANE_OMNI_ID and len(cluster["members"]) == 2
    email_id = next(member for member in cluster["members"] if member != JANE_OMNI_ID)
    assert email_id.startswith("omni_")
    # her WhatsApp message and her email: the demo API received the one id
    status, whatsapp = await run_curl(command(text, "/webhooks/whatsapp"))
    assert (status, whatsapp) == (200, {"ok": True, "omni_customer_ids": [JANE_OMNI_ID]})
    status, email = await run_curl(command(text, "/webhooks/email"))
    assert (status, email) == (200, {"ok": True, "omni_customer_ids": [JANE_OMNI_ID]})
    status, customers = await run_curl(command(text, "/customers"))
    assert [(c["omni_customer_id"], c["channels"]) for c in customers["payload"]] == [
        (JANE_OMNI_ID, ["whatsapp", "email"])
    ]


async def test_chatwoot_pack_serves_the_demo(chatwoot_demo: Demo) -> None:
    text = chatwoot_demo.text
    assert set(tokens(text)) == {"ADMINISTRATOR_TOKEN", "SUPERVISOR_TOKEN", "AGENT_TOKEN"}
    assert "/webhooks/" not in text  # the pack configures no webhooks: none are printed
    assert "/live" not in text  # nor the demo's own SSE feed, which the pack does not cover
    views = {}
    for role in ("ADMINISTRATOR", "SUPERVISOR", "AGENT"):
        status, body = await run_curl(command(text, f'${role}_TOKEN" {chatwoot_demo.base}/api'))
        assert status == 200
        views[role] = body["payload"]
    assert views["ADMINISTRATOR"]["phone_number"] == "+14155550132"  # clear, audited
    for role in ("SUPERVISOR", "AGENT"):
        view = views[role]
        for clear in ("+14155550132", "jane.doe@example.com", "Jane Doe"):
            assert clear not in str(view)
        assert "+44 20 7946 0958" not in view["additional_attributes"]["description"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, pack_path("examples")),  # the default: the example pack
        ("chatwoot", pack_path("chatwoot")),  # a shipped pack by name
        ("rules/examples", Path("rules/examples")),  # a folder, as before
    ],
)
def test_demo_rules(given: str | None, expected: Path) -> None:
    assert demo_rules(given) == expected


def test_demo_rules_names_the_shipped_packs_when_unknown() -> None:
    with pytest.raises(SettingsError, match="chatwoot"):
        demo_rules("no-such-pack")
