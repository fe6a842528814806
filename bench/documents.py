"""The payloads the bench serves and masks, built deterministically (no randomness between runs).

Chat documents hold 500 Chatwoot-shaped messages (~200 KB). Every phone number written into a
message text carries the marker `QZX` in place of its exchange digits; `with_variant` swaps in a
different exchange per response, so a gateway that remembers texts it has masked before (the
`text` mask keeps a bounded cache) cannot answer a benchmark from memory: each response holds
texts it has not seen. Texts within one document are unique as well (the line number is the
message index).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

MARKER: Final = b"QZX"
MESSAGES: Final = 500
VARIANTS: Final = 800  # exchanges 200..999: every one gives a valid NANP number

_PLAIN = (
    "Hi, I still have not received my parcel, can you check please?",
    "Thanks for reaching out! Let me look into that for you right away.",
    "The app crashes when I open the settings page on my phone.",
    "Could you tell me when the store opens tomorrow morning?",
    "I would like to change the delivery address on my last order.",
    "Sure, I have updated it. Anything else I can help you with today?",
    "Great, that worked. Have a nice day!",
    "My card was charged twice for the same subscription this month.",
)
_NAMES = ("Jane Doe", "Rahul Sharma", "Ana Maria Souza", "Li Wei", "Olivia Brown", "Ahmed Khan")
_DOMAINS = ("example.com", "mail.example.org", "corp.example.net")


def _phone_in_text(index: int) -> str:
    return f"+1 (415) QZX-{index:04d}"


def _email_in_text(index: int) -> str:
    return f"customer.{index}@{_DOMAINS[index % len(_DOMAINS)]}"


def _ordinary_digits(index: int) -> str:
    """What every chat text holds: an order number (7 digits, fresh per variant) and a date."""
    return f"Order #QZX{index % 10_000:04d} of 2024-{index % 12 + 1:02d}-{index % 28 + 1:02d}"


def realistic_text(index: int) -> str:
    """One message in ten carries a phone (index 3, 13, ...) or an email (8, 18, ...); every one
    ordinary digits: an order number long enough to reach the phone matcher, and a date."""
    base = _PLAIN[index % len(_PLAIN)]
    digits = _ordinary_digits(index)
    if index % 10 == 3:
        return f"{base} You can call me on {_phone_in_text(index)} after 5pm. ({digits})"
    if index % 10 == 8:
        return f"{base} Or just write to {_email_in_text(index)} instead. ({digits})"
    if index % 10 == 5:
        return f"{base} It was $49.99, paid at 10:30. ({digits})"
    return f"{base} ({digits})"


def digits_text(index: int) -> str:
    """PII-free, but with a long digit run (an order id) that the phone matcher must parse."""
    return f"{_PLAIN[index % len(_PLAIN)]} Order #QZX{index:05d} was shipped."


def adversarial_text(index: int) -> str:
    """Every text holds a phone and an email."""
    base = _PLAIN[index % len(_PLAIN)]
    return f"{base} Call {_phone_in_text(index)} or mail {_email_in_text(index)} (#{index})."


def _message(index: int, text: str) -> dict[str, Any]:
    name = _NAMES[index % len(_NAMES)]
    incoming = index % 2 == 0
    return {
        "id": 900_000 + index,
        "content": text,
        "content_type": "text",
        "message_type": 0 if incoming else 1,
        "created_at": 1_700_000_000 + index * 37,
        "private": False,
        "status": "delivered",
        "conversation_id": 42,
        "inbox_id": 3,
        "sender_type": "Contact" if incoming else "User",
        "sender": {
            "id": 7_000 + index % 40,
            "name": name,
            "email": f"{name.split()[0].lower()}.{index % 40}@{_DOMAINS[index % 3]}",
            "phone_number": f"+1415823{index % 10_000:04d}",
            "type": "contact" if incoming else "user",
            "thumbnail": f"https://cdn.example.com/avatars/{7_000 + index % 40}.png",
        },
    }


def messages_document(kind: str) -> dict[str, Any]:
    """A message list with marker exchanges still in place (see `with_variant`)."""
    text = realistic_text if kind == "realistic" else adversarial_text
    return {
        "meta": {"labels": ["bench"], "assignee": {"id": 1, "name": "Support Bot"}},
        "payload": [_message(i, text(i)) for i in range(MESSAGES)],
    }


def messages_bytes(kind: str) -> bytes:
    return orjson.dumps(messages_document(kind))


def with_variant(template: bytes, variant: int) -> bytes:
    """`template` with every marker replaced by exchange `200 + variant % VARIANTS`."""
    return template.replace(MARKER, b"%03d" % (200 + variant % VARIANTS))


def small_bytes() -> bytes:
    """A ~300 B JSON object (a contact summary)."""
    body = {
        "id": 12345,
        "name": "Bench Contact",
        "email": "bench.contact@example.com",
        "phone_number": "+14155550100",
        "availability_status": "online",
        "created_at": 1_700_000_000,
        "last_activity_at": 1_700_003_600,
        "custom_attributes": {"plan": "enterprise", "seats": 25, "region": "eu-west"},
        "additional_attributes": {"city": "Lisbon", "country": "Portugal"},
        "labels": ["vip", "beta"],
    }
    return orjson.dumps(body)


def post_bytes() -> bytes:
    """A ~1 KB JSON message body (what an agent's reply looks like)."""
    body = {
        "content": " ".join(_PLAIN) + " " + " ".join(_PLAIN[:5]),
        "message_type": "outgoing",
        "private": False,
        "content_attributes": {"in_reply_to": 900_123, "items": [{"title": "Refund", "id": 1}]},
        "echo_id": "3f1c2a9e-bench-0000-0000-000000000001",
    }
    return orjson.dumps(body)


def ws_frame(index: int) -> bytes:
    """One message event as a WebSocket text frame, with the marker still in place."""
    message = _message(index, realistic_text(index))
    return orjson.dumps({"event": "message.created", "data": message})
