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

PHONE_WA_ID = "14155550132"


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


def sample_commands(base: str) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="omnigate-demo-"))
    whatsapp = _whatsapp_body()
    (folder / "whatsapp.json").write_bytes(whatsapp)
    secret = os.environ.get("META_APP_SECRET", "").encode()
    signature = hmac.new(secret, whatsapp, hashlib.sha256).hexdigest()
    (folder / "crm.json").write_bytes(_crm_body())
    boundary = "omnigate-demo-boundary"
    (folder / "email.txt").write_bytes(_email_body(boundary))
    return [
        "Omnichannel: the same person on WhatsApp and in the CRM gets one customer id",
        "(the gateway verifies Meta's signature, stamps X-Omni-Customer-Id and re-signs):",
        f"  curl -s -X POST {base}/webhooks/whatsapp -H 'Content-Type: application/json' "
        f"-H 'X-Hub-Signature-256: sha256={signature}' --data-binary @{folder}/whatsapp.json",
        f"  curl -s -X POST {base}/webhooks/crm -H 'Content-Type: application/json' "
        f"--data-binary @{folder}/crm.json",
        "An inbound email (SendGrid Inbound Parse) is identified by its sender's address:",
        f"  curl -s -X POST {base}/webhooks/email "
        f"-H 'Content-Type: multipart/form-data; boundary={boundary}' "
        f"--data-binary @{folder}/email.txt",
        "Customers as the demo API received them, grouped by X-Omni-Customer-Id:",
        f'  curl -s -H "Authorization: Bearer $ADMIN_TOKEN" {base}/api/v1/accounts/1/customers',
    ]
