"""360dialog WhatsApp webhooks (SPEC 5).

Payloads are the Cloud API shape, or the legacy on-premise flat shape `{contacts, messages}`.
Authenticity: 360dialog signs the raw body with the partner's platform secret, HMAC-SHA256, hex,
in `x-360dialog-signature` (public partner docs, "Signature Validation"). The bare hex is what
360dialog sends; a `sha256=` prefix is tolerated and kept when re-signing.
"""

from __future__ import annotations

from gateway.channels.cloud_api import stamp_whatsapp
from gateway.channels.contract import ChannelSpec
from gateway.channels.json_body import JsonChannel
from gateway.channels.signature import DIALOG360_HEADERS


def dialog360(cfg: ChannelSpec) -> JsonChannel:
    return JsonChannel("360dialog", cfg, stamp_whatsapp, DIALOG360_HEADERS)
