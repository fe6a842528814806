"""The demo's in-memory helpdesk: contacts, conversations and messages, rendered Chatwoot-style.

Contacts are kept as JSON-ready dicts (a PUT merges into them); conversations and messages keep
references and are rendered on the way out, so a contact edited through the API shows the new values
everywhere it appears, as in Chatwoot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

ACCOUNT_ID = 1
CONTACTS_PER_PAGE = 15
CONVERSATIONS_PER_PAGE = 25
MESSAGES_KEPT = 200  # per conversation: the live feed keeps adding, memory must stay bounded
INCOMING, OUTGOING = 0, 1


@dataclass(slots=True)
class Message:
    id: int
    conversation_id: int
    inbox_id: int
    content: str
    message_type: int
    created_at: int
    sender_type: str  # "Contact" or "User", as Chatwoot spells it
    sender_id: int


@dataclass(slots=True)
class Conversation:
    id: int
    contact_id: int
    inbox_id: int
    channel: str
    assignee_id: int | None
    status: str
    uuid: str
    created_at: int
    labels: list[str]
    messages: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class DemoStore:
    contacts: dict[int, Json]
    conversations: dict[int, Conversation]
    agents: dict[int, Json]
    profile: Json
    next_message_id: int

    # -- contacts ---------------------------------------------------------------------------

    def contact_page(self, page: int) -> list[Json]:
        ordered = sorted(self.contacts.values(), key=lambda c: c["id"])
        start = (page - 1) * CONTACTS_PER_PAGE
        return ordered[start : start + CONTACTS_PER_PAGE]

    def search_contacts(self, query: str) -> list[Json]:
        needle = query.strip().casefold()
        if not needle:
            return []
        fields = ("name", "email", "phone_number", "identifier")
        return [
            c
            for c in sorted(self.contacts.values(), key=lambda c: c["id"])
            if any(needle in str(c.get(f) or "").casefold() for f in fields)
        ]

    def update_contact(self, contact_id: int, changes: Json) -> Json:
        contact = self.contacts[contact_id]
        for key, value in changes.items():
            if key in ("additional_attributes", "custom_attributes"):
                contact[key] = {**contact[key], **value}
            else:
                contact[key] = value
        return contact

    def create_contact(self, fields: Json, now: int) -> Json:
        contact_id = max(self.contacts, default=0) + 1
        contact: Json = {
            "id": contact_id,
            "name": fields.get("name") or "",
            "email": fields.get("email"),
            "phone_number": fields.get("phone_number"),
            "identifier": fields.get("identifier"),
            "thumbnail": "",
            "availability_status": "offline",
            "blocked": False,
            "additional_attributes": dict(fields.get("additional_attributes") or {}),
            "custom_attributes": dict(fields.get("custom_attributes") or {}),
            "created_at": now,
            "last_activity_at": None,
        }
        self.contacts[contact_id] = contact
        return contact

    # -- conversations and messages ---------------------------------------------------------

    def sender(self, message: Message) -> Json:
        """Chatwoot's `Contact#push_event_data` / `User#push_event_data` (a user has no phone or
        email there)."""
        if message.sender_type == "Contact":
            c = self.contacts[message.sender_id]
            return {
                "additional_attributes": c["additional_attributes"],
                "custom_attributes": c["custom_attributes"],
                "email": c["email"],
                "id": c["id"],
                "identifier": c["identifier"],
                "name": c["name"],
                "phone_number": c["phone_number"],
                "thumbnail": c["thumbnail"],
                "blocked": c.get("blocked", False),
                "type": "contact",
            }
        a = self.agents[message.sender_id]
        return {
            "id": a["id"],
            "name": a["name"],
            "available_name": a["available_name"],
            "avatar_url": a["thumbnail"],
            "type": "user",
            "availability_status": a["availability_status"],
            "thumbnail": a["thumbnail"],
        }

    def render_message(self, message: Message) -> Json:
        return {
            "id": message.id,
            "content": message.content,
            "account_id": ACCOUNT_ID,
            "inbox_id": message.inbox_id,
            "conversation_id": message.conversation_id,
            "message_type": message.message_type,
            "created_at": message.created_at,
            "private": False,
            "status": "sent",
            "source_id": None,
            "content_type": "text",
            "content_attributes": {},
            "sender_type": message.sender_type,
            "sender_id": message.sender_id,
            "sender": self.sender(message),
        }

    def render_conversation(self, conv: Conversation) -> Json:
        last = conv.messages[-1] if conv.messages else None
        assignee = self.agents.get(conv.assignee_id) if conv.assignee_id else None
        return {
            "meta": {
                "sender": self.contacts[conv.contact_id],
                "channel": conv.channel,
                "assignee": assignee,
                "assignee_type": "User" if assignee else None,
                "hmac_verified": False,
            },
            "id": conv.id,
            "messages": [self.render_message(last)] if last else [],
            "account_id": ACCOUNT_ID,
            "uuid": conv.uuid,
            "additional_attributes": {},
            "can_reply": True,
            "custom_attributes": {},
            "inbox_id": conv.inbox_id,
            "labels": conv.labels,
            "muted": False,
            "snoozed_until": None,
            "status": conv.status,
            "created_at": conv.created_at,
            "timestamp": last.created_at if last else conv.created_at,
            "unread_count": sum(1 for m in conv.messages[-3:] if m.message_type == INCOMING),
            "priority": None,
        }

    def conversation_meta(self, conv: Conversation) -> Json:
        return {
            "labels": conv.labels,
            "additional_attributes": {},
            "contact": self.contacts[conv.contact_id],
            "assignee": self.agents.get(conv.assignee_id) if conv.assignee_id else None,
        }

    def add_message(
        self, conv: Conversation, content: str, message_type: int, created_at: int
    ) -> Message:
        if message_type == INCOMING:
            sender_type, sender_id = "Contact", conv.contact_id
            self.contacts[conv.contact_id]["last_activity_at"] = created_at
        else:
            sender_type, sender_id = "User", int(self.profile["id"])
        message = Message(
            self.next_message_id,
            conv.id,
            conv.inbox_id,
            content,
            message_type,
            created_at,
            sender_type,
            sender_id,
        )
        self.next_message_id += 1
        conv.messages.append(message)
        del conv.messages[:-MESSAGES_KEPT]
        return message
