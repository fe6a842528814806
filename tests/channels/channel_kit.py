"""Shared helpers for the channel adapter tests: compiled hooks, requests, reference ids."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from gateway.channels import Channel, WebhookRequest, compile_webhook
from gateway.identity import IdentityResolver

ID_SECRET = "omni-test-secret"
META_SECRET = "meta-app-secret"
TWILIO_TOKEN = "twilio-auth-token"
MAILGUN_KEY = "key-mailgun-signing"
TELEGRAM_TOKEN = "telegram-secret-token"
D360_SECRET = "d360-platform-secret"

ENV = {
    "OMNIGATE_ID_SECRET": ID_SECRET,
    "META_APP_SECRET": META_SECRET,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "MAILGUN_SIGNING_KEY": MAILGUN_KEY,
    "TELEGRAM_SECRET_TOKEN": TELEGRAM_TOKEN,
    "D360_PARTNER_SECRET": D360_SECRET,
}
HEADER = "X-Omni-Customer-Id"
FIELD = "omni_customer_id"


def ref_id(kind: str, value: str) -> str:
    """SPEC 4's id, computed independently of gateway.identity."""
    digest = hmac.new(ID_SECRET.encode(), f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return "omni_" + base64.b32encode(digest).decode().lower().rstrip("=")[:26]


def resolver(**section: Any) -> IdentityResolver:
    compiled = IdentityResolver.compile(section, ENV)
    assert compiled is not None
    return compiled


def hook(
    channel: str,
    secret_env: str | None = None,
    omni: IdentityResolver | None = None,
    **extra: Any,
) -> Channel:
    spec: dict[str, Any] = {"channel": channel, "path": f"/webhooks/{channel}", **extra}
    if secret_env is not None:
        spec["secret_env"] = secret_env
    return compile_webhook(spec, 0, omni or resolver(), ENV).channel


def request(
    body: bytes, headers: dict[str, str] | None = None, method: str = "POST", url: str = ""
) -> WebhookRequest:
    return WebhookRequest(
        method=method,
        url=url or "https://hooks.example.com/webhooks",
        headers=CIMultiDictProxy(CIMultiDict(headers or {})),
        body=body,
    )


def meta_sha256(body: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def meta_sha1(body: bytes, secret: str = META_SECRET) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
