"""Shared fixtures: a real gateway in front of a real loopback upstream, real HS256 tokens."""

from __future__ import annotations

import io
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner
from hypothesis import settings as hypothesis_settings

from gateway.event_log import EventLog
from gateway.rules_plan import load_plan
from gateway.settings import Listen, Settings
from gateway.web_app import build_app
from gateway.web_runner import GatewayRunner
from gateway.web_state import GatewayState

hypothesis_settings.register_profile("ci", deadline=None, max_examples=60)
hypothesis_settings.load_profile("ci")

JWT_SECRET = "test-jwt-secret-0123456789abcdef"

MINIMAL_RULES = """
version: 1
auth:
  jwt: { algorithms: [HS256], secret_env: OMNIGATE_JWT_SECRET, role_claim: role }
roles:
  admin: { masking: false }
  team_manager: { masking: true }
  agent: { masking: true }
default_role: agent
"""
# With customer ids: phones read in the US, the id secret from the environment.
OMNICHANNEL_RULES = (
    MINIMAL_RULES
    + """
omnichannel:
  identify_by: [phone, email]
  default_region: US
  id_secret_env: OMNIGATE_ID_SECRET
"""
)


def token(role: str | list[str] = "agent", secret: str = JWT_SECRET, **claims: object) -> str:
    now = int(time.time())
    body = {"sub": f"user-{role}", "role": role, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, secret, algorithm="HS256")


def bearer(role: str = "agent") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role)}"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIGATE_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("OMNIGATE_HASH_KEY", "test-hash-key")
    monkeypatch.setenv("OMNIGATE_ID_SECRET", "test-id-secret")
    monkeypatch.setenv("META_APP_SECRET", "test-meta-secret")


def loopback_settings(
    upstream: yarl.URL, rules: Path, *, max_body: int, upstream_timeout: float = 5.0
) -> Settings:
    """`serve` settings for an in-process gateway: loopback listeners, JSON logs."""
    return Settings(
        upstream=upstream,
        listen=Listen("127.0.0.1", 0),
        admin_listen=Listen("127.0.0.1", 0),
        rules=rules,
        workers=1,
        upstream_timeout=upstream_timeout,
        max_body=max_body,
        log_format="json",
        audit_log="-",
    )


class GatewayTestServer(TestServer):
    """A loopback test server that runs the app on the gateway's own runner."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return GatewayRunner(self.app, **kwargs)


class Gateway:
    """A gateway under test: its client, its state, and what it logged."""

    def __init__(
        self,
        client: TestClient[Any, Any],
        state: GatewayState,
        access: io.StringIO,
        audit: io.StringIO,
    ) -> None:
        self.client = client
        self.state = state
        self.access = access
        self.audit = audit


GatewayFactory = Callable[..., Awaitable[Gateway]]
UpstreamApp = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def make_gateway(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]
) -> GatewayFactory:
    async def factory(
        upstream: TestServer | str,
        rules: str = MINIMAL_RULES,
        *,
        max_body: int = 16 * 1024 * 1024,
        upstream_timeout: float = 5.0,
    ) -> Gateway:
        rules_dir = tmp_path / "rules"
        rules_dir.mkdir(exist_ok=True)
        (rules_dir / "rules.yaml").write_text(textwrap.dedent(rules))
        url = upstream if isinstance(upstream, str) else str(upstream.make_url("/"))
        settings = loopback_settings(
            yarl.URL(url), rules_dir, max_body=max_body, upstream_timeout=upstream_timeout
        )
        access, audit = io.StringIO(), io.StringIO()
        state = GatewayState(
            settings=settings,
            access_log=EventLog(access, "json"),
            audit_log=EventLog(audit, "json"),
            plan=load_plan(rules_dir),
        )
        server = GatewayTestServer(build_app(state, watch=False))
        client = await aiohttp_client(server, auto_decompress=False)
        return Gateway(client, state, access, audit)

    return factory


@pytest.fixture
def gateway_for(
    make_gateway: GatewayFactory,
    upstream_app: Callable[[web.Application], Awaitable[TestServer]],
) -> Callable[..., Awaitable[Gateway]]:
    """A gateway in front of a one-handler upstream: `await gateway_for(handler, "/path")`."""

    async def start(
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        path: str,
        *args: Any,
        **kwargs: Any,
    ) -> Gateway:
        app = web.Application()
        app.router.add_get(path, handler)
        return await make_gateway(await upstream_app(app), *args, **kwargs)

    return start


@pytest.fixture
async def upstream_app(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> Callable[[web.Application], Awaitable[TestServer]]:
    async def start(app: web.Application) -> TestServer:
        return await aiohttp_server(app)

    return start


async def raw_http(port: int | None, request: bytes, *, read_timeout: float = 5.0) -> bytes:
    """Send bytes exactly as given (no client-side path normalisation); return the raw answer."""
    import asyncio

    assert port is not None  # a started test server has its port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    chunks = []
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), read_timeout)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        pass
    writer.close()
    return b"".join(chunks)


def get_request(path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: gateway.test", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
