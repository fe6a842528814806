"""360dialog WhatsApp webhooks (SPEC 5).

Payloads are the Cloud API shape, or the legacy on-premise flat shape `{contacts, messages}`.
Authenticity: 360dialog signs the raw body with the partner's platform secret, HMAC-SHA256, hex,
in `x-360dialog-signature` (public partner docs, "Signature Validation"). The bare hex is what
360dialog sends; a `sha256=` prefix is tolerated and kept when re-signing.
"""

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
from gateway.channels.signature import DIALOG360_HEADERS, BodySignature


class Dialog360Channel:
    name = "360dialog"

    def __init__(self, cfg: ChannelSpec) -> None:
        self._resolver = cfg.resolver
        self._signature = BodySignature(cfg.secret, DIALOG360_HEADERS)

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req):
            return unchanged(req, PASSTHROUGH)
        self._signature.verify(req)
        return json_delivery(req, self._resolver, self._signature, stamp_whatsapp)
