"""`omnigate demo`: the demo chat API, the gateway in front of it with `rules/examples/`, and
ready-to-paste commands. Ctrl-C stops both."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import jwt
import yarl
from aiohttp import web

from gateway.demo.api import make_demo_app
from gateway.demo.samples import sample_commands
from gateway.rule_packs import pack_path
from gateway.rules_plan import Plan, load_plan
from gateway.rules_source import RuleLoadError
from gateway.settings import Settings, parse_listen

# Fixed demo secrets, used only when the environment does not set them.
DEMO_SECRETS = {
    "OMNIGATE_JWT_SECRET": "demo-jwt-secret-change-me-in-production",
    "OMNIGATE_HASH_KEY": "demo-hash-key",
    "OMNIGATE_ID_SECRET": "demo-id-secret",
    "META_APP_SECRET": "demo-meta-secret",
    "TWILIO_AUTH_TOKEN": "demo-twilio-token",
}


def find_example_rules() -> Path:
    # The shipped pack (package data in a wheel, rules/examples in a checkout): any folder works.
    return pack_path("examples")


def run_demo(args: argparse.Namespace) -> int:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    rules = Path(args.rules) if args.rules else find_example_rules()
    listen = parse_listen("--listen", args.listen)
    upstream = parse_listen("--upstream-listen", args.upstream_listen)
    settings = Settings(
        upstream=yarl.URL(f"http://{upstream.host}:{upstream.port}"),
        listen=listen,
        admin_listen=parse_listen("--admin-listen", args.admin_listen),
        rules=rules,
        workers=1,
        upstream_timeout=30.0,
        max_body=16 * 1024 * 1024,
        log_format="text",
        audit_log="-",
    )
    try:
        plan = load_plan(rules)
    except RuleLoadError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 1
    try:
        asyncio.run(_serve(settings, plan, upstream.host, upstream.port))
    except OSError as exc:
        print(f"omnigate demo: cannot listen: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: Settings, plan: Plan, host: str, port: int) -> None:
    from gateway.web_server import start_gateway

    demo_runner = web.AppRunner(make_demo_app(), access_log=None)
    await demo_runner.setup()
    await web.TCPSite(demo_runner, host, port).start()
    gateway = await start_gateway(settings, plan)
    base = f"http://{_host(settings.listen.host)}:{settings.listen.port}"
    admin = f"http://{_host(settings.admin_listen.host)}:{settings.admin_listen.port}"
    print(banner(base, admin, f"http://{host}:{port}"), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("\nomnigate demo: stopping", file=sys.stderr)
    await gateway.stop()
    await demo_runner.cleanup()


def _host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a bind-all address is shown as loopback


def mint(role: str) -> str:
    now = int(time.time())
    claims = {"sub": f"demo-{role}", "role": role, "iat": now, "exp": now + 12 * 3600}
    return jwt.encode(claims, os.environ["OMNIGATE_JWT_SECRET"], algorithm="HS256")


def banner(base: str, admin: str, upstream: str) -> str:
    contact = f"{base}/api/v1/accounts/1/contacts/1"
    messages = f"{base}/api/v1/accounts/1/conversations/1/messages"
    export = f"{base}/api/v1/accounts/1/contacts/export.csv"
    lines = [
        "",
        f"omnigate demo: gateway {base} -> demo chat API {upstream} (admin {admin})",
        "",
        "Tokens (HS256, 12 h):",
    ]
    for role in ("admin", "team_manager", "agent"):
        lines.append(f"  export {role.upper()}_TOKEN={mint(role)}")
    lines += [
        "",
        "The same contact as admin (clear), team_manager and agent (masked):",
        f'  curl -s -H "Authorization: Bearer $ADMIN_TOKEN" {contact}',
        f'  curl -s -H "Authorization: Bearer $TEAM_MANAGER_TOKEN" {contact}',
        f'  curl -s -H "Authorization: Bearer $AGENT_TOKEN" {contact}',
        "",
        "Chat messages, phones and emails masked inside the text:",
        f'  curl -s -H "Authorization: Bearer $AGENT_TOKEN" {messages}',
        "",
        "Live feed (Server-Sent Events), masked as it arrives:",
        f'  curl -sN -H "Authorization: Bearer $AGENT_TOKEN" {base}/api/v1/accounts/1/live',
        "",
        "Fail closed: a CSV export cannot be masked, so an agent gets 502 unmaskable_response:",
        f'  curl -s -H "Authorization: Bearer $AGENT_TOKEN" {export}',
        "",
        "Write-back guard: sending a masked value back is refused with 422:",
        f'  curl -s -X PATCH -H "Authorization: Bearer $AGENT_TOKEN" '
        f'-H "Content-Type: application/json" -d \'{{"phone_number": "XXX-XXX-7890"}}\' {contact}',
        "",
        *sample_commands(base),
        "",
        f"Admin: curl -s {admin}/rules ; curl -s {admin}/metrics | grep omnigate_",
        "Ctrl-C stops both.",
    ]
    return "\n".join(lines)
