"""compile_webhook: the registry, secrets from the environment, per-channel keys."""

from __future__ import annotations

from typing import Any

import pytest
from channel_kit import ENV, resolver

from gateway.channels import CHANNELS, OUTCOMES, compile_webhook
from gateway.errors import ConfigError

SPEC_EXAMPLE: list[dict[str, Any]] = [
    {"channel": "whatsapp", "path": "/webhooks/whatsapp", "secret_env": "META_APP_SECRET"},
    {"channel": "messenger", "path": "/webhooks/messenger", "secret_env": "META_APP_SECRET"},
    {"channel": "instagram", "path": "/webhooks/instagram", "secret_env": "META_APP_SECRET"},
    {"channel": "twilio", "path": "/webhooks/twilio", "secret_env": "TWILIO_AUTH_TOKEN"},
    {"channel": "sendgrid", "path": "/webhooks/email"},
    {"channel": "mailgun", "path": "/webhooks/mailgun", "secret_env": "MAILGUN_SIGNING_KEY"},
    {"channel": "telegram", "path": "/webhooks/telegram", "secret_env": "TELEGRAM_SECRET_TOKEN"},
    {"channel": "360dialog", "path": "/webhooks/360dialog", "secret_env": "D360_PARTNER_SECRET"},
    {"channel": "gupshup", "path": "/webhooks/gupshup"},
    {
        "channel": "generic",
        "path": "/hooks/crm",
        "identity": {"phone": "$.customer.mobile", "email": "$.customer.email"},
        "stamp_at": "$.customer",
    },
]


@pytest.mark.parametrize("spec", SPEC_EXAMPLE, ids=lambda s: s["channel"])
def test_spec_example_compiles(spec: dict[str, Any]) -> None:
    compiled = compile_webhook(spec, 0, resolver(), ENV)
    assert compiled.path == spec["path"]
    assert compiled.channel.name == spec["channel"]
    assert compiled.public_url is None


def test_every_channel_is_registered() -> None:
    assert set(CHANNELS) == {s["channel"] for s in SPEC_EXAMPLE}
    assert "stamped" in OUTCOMES and "no_identity" in OUTCOMES and "passthrough" in OUTCOMES


def test_twilio_public_url() -> None:
    spec = {"channel": "twilio", "path": "/t", "public_url": "https://hooks.example.com/t"}
    assert compile_webhook(spec, 0, resolver(), ENV).public_url == "https://hooks.example.com/t"


@pytest.mark.parametrize(
    ("spec", "key", "message"),
    [
        (
            {"channel": "whatsapp", "path": "/w", "secret_env": "MISSING_VAR"},
            ("webhooks", 2, "secret_env"),
            "environment variable MISSING_VAR is not set",
        ),
        (
            {"channel": "twilio", "path": "/w", "secret_env": "EMPTY_VAR"},
            ("webhooks", 2, "secret_env"),
            "environment variable EMPTY_VAR is empty",
        ),
        ({"channel": "signal", "path": "/w"}, ("webhooks", 2, "channel"), None),
        ({"path": "/w"}, ("webhooks", 2, "channel"), None),
        ({"channel": "whatsapp"}, ("webhooks", 2, "path"), None),
        ({"channel": "whatsapp", "path": "w"}, ("webhooks", 2, "path"), None),
        (
            {"channel": "sendgrid", "path": "/w", "secret_env": "META_APP_SECRET"},
            ("webhooks", 2, "secret_env"),
            None,
        ),
        (
            {"channel": "gupshup", "path": "/w", "secret_env": "META_APP_SECRET"},
            ("webhooks", 2, "secret_env"),
            None,
        ),
        (
            {"channel": "whatsapp", "path": "/w", "public_url": "https://x/w"},
            ("webhooks", 2, "public_url"),
            None,
        ),
        ({"channel": "whatsapp", "path": "/w", "stamp_at": "$"}, ("webhooks", 2, "stamp_at"), None),
        (
            {"channel": "twilio", "path": "/w", "public_url": "ftp://x"},
            ("webhooks", 2, "public_url"),
            None,
        ),
    ],
)
def test_config_errors(spec: dict[str, Any], key: tuple[Any, ...], message: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_webhook(spec, 2, resolver(), {**ENV, "EMPTY_VAR": ""})
    assert caught.value.key_path == key
    if message is not None:
        assert caught.value.message == message


def test_messages_never_echo_secret_values() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_webhook({"channel": "twilio", "path": "/w", "secret_env": "NOPE"}, 0, None, ENV)
    assert all(secret not in caught.value.message for secret in ENV.values())
