"""Sample channel webhooks for the demo: files on disk plus the curl commands that post them.

Signatures are computed here with the demo's secrets, as the channel itself would sign them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from pathlib import Path

import orjson

from gateway.identity.omni_id import DEFAULT_SECRET_ENV, omni_id
from gateway.rules_plan import Plan

PHONE_WA_ID = "14155550132"
JANE_PHONE = "+" + PHONE_WA_ID  # contact 1


def _whatsapp_body() -> bytes:
    now = str(int(time.time()))
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": "106540352242922",
                                },
                                "contacts": [
                                    {"profile": {"name": "Jane Doe"}, "wa_id": PHONE_WA_ID}
                                ],
                                "messages": [
                                    {
                                        "from": PHONE_WA_ID,
                                        "id": "wamid.HBgLMTQxNTU1NTAxMzIVAgASGBQzQTdBRkQ3",
                                        "timestamp": now,
                                        "text": {"body": "Hi, is my order shipped?"},
                                        "type": "text",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )


def _crm_body() -> bytes:
    return orjson.dumps(
        {
            "event": "lead.created",
            "customer": {"mobile": "(415) 555-0132", "email": "Jane.Doe@example.com"},
        }
    )


def _email_body(boundary: str) -> bytes:
    parts = [
        ("from", "Jane Doe <jane.doe@example.com>"),
        ("to", "support@helpdesk.example"),
        ("subject", "Order question"),
        ("text", "Hello, where is my order?"),
    ]
    out = b""
    for name, value in parts:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    return out + f"--{boundary}--\r\n".encode()


def sample_commands(base: str, admin: str, admin_token: str, plan: Plan) -> list[str]:
    """The webhook commands, for the webhooks `plan` configures (the example pack's three)."""
    folder = Path(tempfile.mkdtemp(prefix="omnigate-demo-"))
    whatsapp = _whatsapp_body()
    (folder / "whatsapp.json").write_bytes(whatsapp)
    secret = os.environ.get("META_APP_SECRET", "").encode()
    signature = hmac.new(secret, whatsapp, hashlib.sha256).hexdigest()
    (folder / "crm.json").write_bytes(_crm_body())
    boundary = "omnigate-demo-boundary"
    (folder / "email.txt").write_bytes(_email_body(boundary))
    contact = f"{base}/api/v1/accounts/1/contacts/1"
    lines = [
        "One customer across WhatsApp and email (identity linking, docs/omnichannel.md).",
        "Contact 1 shows Jane's phone and email together: the gateway links them and stamps",
        "omni_customer_id (for every role, from the clear values):",
        f'  curl -s -H "Authorization: Bearer {admin_token}" {contact}',
        "A WhatsApp message from her phone (Meta's signature verified, X-Omni-Customer-Id stamped,",
        "body re-signed); the demo API answers with the ids it received:",
        f"  curl -s -X POST {base}/webhooks/whatsapp -H 'Content-Type: application/json' "
        f"-H 'X-Hub-Signature-256: sha256={signature}' --data-binary @{folder}/whatsapp.json",
        "An email from her address (SendGrid Inbound Parse): the same id",
        f"  curl -s -X POST {base}/webhooks/email "
        f"-H 'Content-Type: multipart/form-data; boundary={boundary}' "
        f"--data-binary @{folder}/email.txt",
        "A CRM webhook naming a phone and an email also links them:",
        f"  curl -s -X POST {base}/webhooks/crm -H 'Content-Type: application/json' "
        f"--data-binary @{folder}/crm.json",
    ]
    resolver = plan.resolver
    if resolver is not None and resolver.linking is not None:
        jane = omni_id(os.environ.get(resolver_secret_env(plan), "").encode(), "phone", JANE_PHONE)
        lines += [
            "Her cluster: one id, both channels' members:",
            f"  curl -s {admin}/identities/{jane}",
        ]
    lines += [
        "Customers as the demo API received them, grouped by X-Omni-Customer-Id:",
        f'  curl -s -H "Authorization: Bearer {admin_token}" {base}/api/v1/accounts/1/customers',
    ]
    return lines


def resolver_secret_env(plan: Plan) -> str:
    section = plan.source.data.get("omnichannel") or {}
    return str(section.get("id_secret_env", DEFAULT_SECRET_ENV))
