"""Channel webhook adapters (SPEC 5): pure functions of the request, called by the HTTP glue."""

from gateway.channels.contract import (
    OUTCOMES,
    Channel,
    WebhookRequest,
    WebhookResult,
)
from gateway.channels.registry import CHANNELS, CompiledWebhook, compile_webhook

__all__ = [
    "CHANNELS",
    "OUTCOMES",
    "Channel",
    "CompiledWebhook",
    "WebhookRequest",
    "WebhookResult",
    "compile_webhook",
]
