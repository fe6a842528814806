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
from gateway.settings import Settings, SettingsError, parse_listen

# Fixed demo secrets, used only when the environment does not set them.
DEMO_SECRETS = {
    "OMNIGATE_JWT_SECRET": "demo-jwt-secret-change-me-in-production",
    "OMNIGATE_HASH_KEY": "demo-hash-key",
    "OMNIGATE_ID_SECRET": "demo-id-secret",
    "META_APP_SECRET": "demo-meta-secret",
    "TWILIO_AUTH_TOKEN": "demo-twilio-token",
    # The shipped Chatwoot pack's JWT secret (`omnigate demo --rules chatwoot`).
    "CHATWOOT_GATEWAY_JWT_SECRET": "demo-jwt-secret-change-me-in-production",
}


def find_example_rules() -> Path:
    # The shipped pack (package data in a wheel, rules/examples in a checkout): any folder works.
    return pack_path("examples")


def demo_rules(given: str | None) -> Path:
    """`--rules`: a folder, or the name of a shipped pack (`chatwoot`), default `examples`."""
    if not given:
        return find_example_rules()
    folder = Path(given)
    if folder.exists() or "/" in given or given.startswith("."):
        return folder
    return pack_path(given)


def run_demo(args: argparse.Namespace) -> int:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    try:
        rules = demo_rules(args.rules)
    except SettingsError as exc:
        print(f"omnigate demo: {exc}", file=sys.stderr)
        return 2
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
    print(banner(base, admin, f"http://{host}:{port}", plan), flush=True)
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


def mint(role: str, secret_env: str = "OMNIGATE_JWT_SECRET") -> str:  # noqa: S107 - a name
    now = int(time.time())
    claims = {"sub": f"demo-{role}", "role": role, "iat": now, "exp": now + 12 * 3600}
    return jwt.encode(claims, os.environ[secret_env], algorithm="HS256")


def _token_env(role: str) -> str:
    return f"{role.upper()}_TOKEN"


def banner(base: str, admin: str, upstream: str, plan: Plan) -> str:
    contact = f"{base}/api/v1/accounts/1/contacts/1"
    messages = f"{base}/api/v1/accounts/1/conversations/1/messages"
    export = f"{base}/api/v1/accounts/1/contacts/export.csv"
    roles = list(plan.roles)  # most privileged first: clear, then masked
    clear = next((r for r in roles if not plan.roles[r]), roles[0])
    masked = [r for r in roles if plan.roles[r]]
    agent = f"${_token_env(masked[-1] if masked else clear)}"
    lines = [
        "",
        f"omnigate demo: gateway {base} -> demo chat API {upstream} (admin {admin})",
        f"rules: {Path(plan.source.files[0]).parent if plan.source.files else '-'}",
        "",
        "Tokens (HS256, 12 h):",
    ]
    secret_env = _jwt_secret_env(plan)
    for role in roles:
        lines.append(f"  export {_token_env(role)}={mint(role, secret_env)}")
    lines += [
        "",
        f"The same contact as {' and '.join(roles[:1])} (clear), {', '.join(masked)} (masked):",
        *(f'  curl -s -H "Authorization: Bearer ${_token_env(r)}" {contact}' for r in roles),
        "",
        "Chat messages, phones and emails masked inside the text:",
        f'  curl -s -H "Authorization: Bearer {agent}" {messages}',
        "",
        *_live_feed(base, agent, plan),
        "Fail closed: CSV cannot be masked, so a masked role gets 502 unmaskable_response:",
        f'  curl -s -H "Authorization: Bearer {agent}" {export}',
        "",
        "Write-back guard: sending a masked value back is refused with 422:",
        f'  curl -s -X PATCH -H "Authorization: Bearer {agent}" '
        f'-H "Content-Type: application/json" -d \'{{"phone_number": "XXX-XXX-0132"}}\' {contact}',
        "",
    ]
    if plan.webhooks:
        lines += [*sample_commands(base, admin, f"${_token_env(clear)}", plan), ""]
    lines += [
        f"Admin: curl -s {admin}/rules ; curl -s {admin}/metrics | grep omnigate_",
        "Ctrl-C stops both.",
    ]
    return "\n".join(lines)


def _live_feed(base: str, agent: str, plan: Plan) -> list[str]:
    """The demo's own SSE feed, when the rules cover it (the Chatwoot pack masks /cable only)."""
    if not any(route.template.matches("GET", _LIVE) for route in plan.routes if route.rules):
        return []
    return [
        "Live feed (Server-Sent Events), masked as it arrives:",
        f'  curl -sN -H "Authorization: Bearer {agent}" {base}{_LIVE}',
        "",
    ]


_LIVE = "/api/v1/accounts/1/live"


def _jwt_secret_env(plan: Plan) -> str:
    jwt_section = plan.source.data.get("auth", {}).get("jwt", {})
    name = jwt_section.get("secret_env") if isinstance(jwt_section, dict) else None
    return name if isinstance(name, str) and name in os.environ else "OMNIGATE_JWT_SECRET"
