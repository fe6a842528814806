"""SendGrid Inbound Parse webhooks (SPEC 5).

The parsed email arrives as multipart/form-data; the sender is the `from` field (the From header,
`Display Name <addr>`), or, with "POST the raw, full MIME message", the From header inside the
`email` field. Inbound Parse is unsigned by default, so an `omni_customer_id` part is appended.
A parse webhook with a signature security policy is signed with SendGrid's private key (ECDSA),
which we cannot re-sign: its body goes on byte for byte and only the header is stamped.
"""

from __future__ import annotations

import re
from email.parser import HeaderParser

from gateway.channels.contract import (
    PASSTHROUGH,
    UNPARSABLE,
    ChannelSpec,
    WebhookRequest,
    WebhookResult,
    is_handshake,
    unchanged,
)
from gateway.channels.form import FormBody
from gateway.channels.ledger import StampLedger

ECDSA_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
_END_OF_HEADERS = re.compile(r"\r?\n\r?\n")


def sender_of(form: FormBody) -> str | None:
    """The From header of the parsed or raw email."""
    sender = form.get("from")
    if sender is None and (raw := form.get("email")) is not None:
        head = _END_OF_HEADERS.split(raw, maxsplit=1)[0]  # never parse the message body
        sender = HeaderParser().parsestr(head, headersonly=True).get("From")
    return None if sender is None else str(sender)


class SendGridChannel:
    name = "sendgrid"

    def __init__(self, cfg: ChannelSpec) -> None:
        self._resolver = cfg.resolver

    def process(self, req: WebhookRequest) -> WebhookResult:
        if is_handshake(req) or self._resolver is None:
            return unchanged(req, PASSTHROUGH)
        parsed = FormBody.parse(req.body, req.headers)
        if parsed is None:
            return unchanged(req, UNPARSABLE)
        field = self._resolver.field
        # SECURITY: a stamp field from outside is dropped, stamped or not; SendGrid never sends
        # one, so this can only break the signature of a forged body.
        form = parsed.without(field)
        ledger = StampLedger(self._resolver)
        resolved = ledger.resolve(email=sender_of(form))  # PII: the sender's own address
        if resolved is None:
            return ledger.result(req, form.body)
        ledger.record(resolved)
        if ECDSA_SIGNATURE_HEADER in req.headers:
            return ledger.result(req, form.body)
        return ledger.result(req, form.append(field, resolved.id))
