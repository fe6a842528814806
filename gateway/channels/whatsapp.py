"""WhatsApp Cloud API webhooks (Meta), signed with X-Hub-Signature-256 (SPEC 5)."""

from __future__ import annotations

from gateway.channels.cloud_api import stamp_whatsapp
from gateway.channels.contract import ChannelSpec
from gateway.channels.json_body import JsonChannel
from gateway.channels.signature import META_HEADERS


def whatsapp(cfg: ChannelSpec) -> JsonChannel:
    return JsonChannel("whatsapp", cfg, stamp_whatsapp, META_HEADERS)
