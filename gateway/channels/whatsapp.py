"""WhatsApp Cloud API webhooks (Meta), signed with X-Hub-Signature-256 (SPEC 5)."""

from __future__ import annotations

from gateway.channels.cloud_api import stamp_whatsapp
from gateway.channels.contract import (
    PASSTHROUGH,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    is_handshake,
    unchanged,
)
from gateway.channels.json_body import json_delivery
from gateway.channels.signature import META_HEADERS, BodySignature


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, cfg: ChannelSpec) -> None:
        self._resolver = cfg.resolver
        self._signature = BodySignature(cfg.secret, META_HEADERS)

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req):  # GET hub.challenge: the upstream answers it
            return unchanged(req, PASSTHROUGH)
        self._signature.verify(req)
        return json_delivery(req, self._resolver, self._signature, stamp_whatsapp)
