"""The WhatsApp message shapes shared by Meta's Cloud API, 360dialog and Gupshup (SPEC 5).

Cloud API: `entry[].changes[].value` holds `messages[]` (each with the sender's `from`) and
`contacts[]` (each with a `wa_id`). The legacy on-premise API puts `messages[]` and `contacts[]`
at the top level. `statuses[]` are receipts about our own messages and are never stamped.
"""

from __future__ import annotations

from typing import Any

from gateway.channels.json_body import child, objects
from gateway.channels.ledger import StampLedger
from gateway.identity.omni_id import Resolved


def stamp_whatsapp(doc: Any, ledger: StampLedger) -> None:
    """Stamp either shape; anything else is left alone."""
    if not isinstance(doc, dict):
        return
    if "entry" in doc:
        for entry in objects(doc.get("entry")):
            for change in objects(entry.get("changes")):
                # Only the `messages` field carries inbound messages (not e.g. message echoes).
                if change.get("field", "messages") == "messages":
                    value = child(change, "value")
                    if value is not None:
                        stamp_messages(value, ledger)
    else:
        stamp_messages(doc, ledger)


def stamp_messages(value: dict[str, Any], ledger: StampLedger) -> None:
    """Stamp each `messages[]` item by its sender and the `contacts[]` item of that sender."""
    stamped: dict[str, Resolved] = {}
    for message in objects(value.get("messages")):
        # PII: `from` is the customer's wa_id: full international digits without `+`.
        resolved = ledger.resolve(phone=message.get("from"), international=True)
        if resolved is not None:
            ledger.stamp(message, resolved)
            stamped[resolved.id] = resolved
    if not stamped:
        return
    # Contacts are matched by identity rather than by string so that a wa_id and a `from`
    # written differently (e.g. Brazil's 9th digit) still meet.
    for contact in objects(value.get("contacts")):
        resolved = ledger.resolve(phone=contact.get("wa_id"), international=True)
        if resolved is not None and resolved.id in stamped:
            ledger.stamp(contact, resolved)
