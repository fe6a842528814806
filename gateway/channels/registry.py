"""The channel adapters by name, and a `webhooks:` entry compiled into one (SPEC 5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.channels.contract import Channel, ChannelSpec, WebhookRequest, WebhookResult
from gateway.channels.dialog360 import dialog360
from gateway.channels.generic import GenericChannel
from gateway.channels.gupshup import gupshup
from gateway.channels.mailgun import MailgunChannel
from gateway.channels.meta_messaging import instagram, messenger
from gateway.channels.sendgrid import SendGridChannel
from gateway.channels.telegram import TelegramChannel
from gateway.channels.twilio import TwilioChannel
from gateway.channels.whatsapp import whatsapp
from gateway.errors import ConfigError
from gateway.identity.linker import Linker, settle
from gateway.identity.omni_id import IdentityResolver

_COMMON_KEYS = frozenset({"channel", "path"})


@dataclass(frozen=True)
class _Adapter:
    build: Callable[[ChannelSpec], Channel]
    signed: bool  # has an authenticity scheme, so `secret_env` means something
    keys: frozenset[str] = frozenset()  # channel-specific keys


CHANNELS: Mapping[str, _Adapter] = {
    "whatsapp": _Adapter(whatsapp, signed=True),
    "messenger": _Adapter(messenger, signed=True),
    "instagram": _Adapter(instagram, signed=True),
    "twilio": _Adapter(TwilioChannel, signed=True, keys=frozenset({"public_url"})),
    "sendgrid": _Adapter(SendGridChannel, signed=False),
    "mailgun": _Adapter(MailgunChannel, signed=True),
    "telegram": _Adapter(TelegramChannel, signed=True),
    "360dialog": _Adapter(dialog360, signed=True),
    "gupshup": _Adapter(gupshup, signed=False),
    "generic": _Adapter(GenericChannel, signed=False, keys=frozenset({"identity", "stamp_at"})),
}


@dataclass(frozen=True)
class CompiledWebhook:
    path: str
    channel: Channel  # bound to its secret and options
    public_url: str | None = None  # Twilio: the URL configured at Twilio, which it signs
    linker: Linker | None = None  # identity linking (SPEC 4.1), when it is on

    async def process(self, req: WebhookRequest) -> WebhookResult:
        """`channel.process`, with ids this process has not seen yet looked up in the link
        store first (one bounded round trip), so replicas stamp a linked id alike."""
        return await settle(self.linker, lambda: self.channel.process(req))


def compile_webhook(
    spec: Mapping[str, Any],
    index: int,
    resolver: IdentityResolver | None,
    environ: Mapping[str, str],
) -> CompiledWebhook:
    """Compile one `webhooks:` entry at load; problems are `ConfigError`s naming the key."""
    key = ("webhooks", index)
    name = spec.get("channel")
    adapter = CHANNELS.get(name) if isinstance(name, str) else None
    if adapter is None:
        raise ConfigError((*key, "channel"), f"unknown channel; known: {', '.join(CHANNELS)}")
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError((*key, "path"), "must be a path starting with '/'")
    allowed = _COMMON_KEYS | adapter.keys | ({"secret_env"} if adapter.signed else set())
    for extra in sorted(spec.keys() - allowed):
        raise ConfigError((*key, extra), f"{extra} is not used by the {name} channel")
    public_url = spec.get("public_url")
    if public_url is not None and not (
        isinstance(public_url, str) and public_url.startswith(("http://", "https://"))
    ):
        raise ConfigError((*key, "public_url"), "must be an http:// or https:// URL")
    channel = adapter.build(ChannelSpec(spec, key, resolver, _secret(spec, key, environ)))
    linking = resolver.linking if resolver is not None else None
    linker = linking.linker if linking is not None else None
    return CompiledWebhook(path=path, channel=channel, public_url=public_url, linker=linker)


def _secret(
    spec: Mapping[str, Any], key: tuple[str | int, ...], environ: Mapping[str, str]
) -> bytes | None:
    env_name = spec.get("secret_env")
    if env_name is None:
        return None
    if not isinstance(env_name, str) or not env_name:
        raise ConfigError((*key, "secret_env"), "must be an environment variable name")
    value = environ.get(env_name)
    if value is None:
        raise ConfigError((*key, "secret_env"), f"environment variable {env_name} is not set")
    if not value:
        # SECURITY: an empty key would make every signature forgeable.
        raise ConfigError((*key, "secret_env"), f"environment variable {env_name} is empty")
    return value.encode()
