"""Chatwoot responses and ActionCable frames, built field for field from Chatwoot 4.10.0's views.

Each builder follows one server view or model method (named in its docstring; paths are relative
to the chatwoot/chatwoot repository at the commit named in rules/chatwoot/README.md), and renders
every field it renders, in its order. The customers live in five countries; their PII is listed in
`CUSTOMERS`, so a test can look for every clear value in what a masked role receives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = 1
T0 = 1733300000  # 2024-12-04, seconds


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    phone: str  # E.164, as Chatwoot stores it
    written_phone: str  # how the customer types it in a message
    whatsapp_id: str  # the WhatsApp contact inbox source_id: the number without "+"
    handles: tuple[str, ...]  # social handles
    attributes: dict[str, Any] = field(default_factory=dict)  # PII custom attributes
    additional: dict[str, Any] = field(default_factory=dict)


PRIYA = Customer(
    11,
    "Priya Sharma",
    "priya.sharma@gmail.com",
    "+919876543210",
    "+91 98765 43210",
    "919876543210",
    ("priya_codes", "priyasharma90", "priya.sharma.90"),
    {
        "alt_mobile": "+91 91234 56789",
        "home_address": "12 MG Road, Bengaluru 560001",
        "date_of_birth": "1990-04-12",
        "billing_email": "accounts@sharma-family.in",
    },
    {
        "city": "Bengaluru",
        "country": "India",
        "country_code": "IN",
        "description": "VIP. Prefers WhatsApp, alt email priya.s@outlook.in",
        "company_name": "Infosys",
        "social_profiles": {
            "twitter": "priya_codes",
            "linkedin": "priyasharma90",
            "facebook": "",
            "github": "",
            "instagram": "priya.sharma.90",
        },
    },
)
JOAO = Customer(
    12,
    "João Silva",
    "joao.silva@uol.com.br",
    "+5511987654321",
    "+55 11 98765-4321",
    "5511987654321",
    ("joaosilva_sp",),
    {"whatsapp_number": "+55 11 91234-5678", "contact_person": "Maria Silva"},
    {
        "city": "São Paulo",
        "country": "Brazil",
        "country_code": "BR",
        "description": "",
        "company_name": "Importadora Paulista",
        "social_profiles": {
            "twitter": "joaosilva_sp",
            "linkedin": "",
            "facebook": "",
            "github": "",
            "instagram": "",
        },
    },
)
HANNAH = Customer(
    13,
    "Hannah Müller",
    "hannah.mueller@web.de",
    "+4915123456789",
    "+49 1512 3456789",
    "4915123456789",
    ("hannah_m", "987654321"),
    {"Mobile": "+49 1512 3456789"},
    {
        "city": "Berlin",
        "country": "Germany",
        "country_code": "DE",
        "username": "hannah_m",
        "language_code": "de",
        "social_telegram_user_id": 987654321,
        "social_telegram_user_name": "hannah_m",
    },
)
OLIVER = Customer(
    14,
    "Oliver Brown",
    "oliver.brown@example.co.uk",
    "+447911123456",
    "+44 7911 123456",
    "447911123456",
    ("olibrown",),
    {"secondary_email": "oli.b@btinternet.com"},
    {
        "city": "Manchester",
        "country": "United Kingdom",
        "country_code": "GB",
        "social_instagram_user_name": "olibrown",
        "social_instagram_user_id": "17841400000000001",
    },
)
EMILY = Customer(
    15,
    "Emily Johnson",
    "emily.j@example.com",
    "+14155550132",
    "(415) 555-0132",
    "14155550132",
    (),
    {"loyalty_tier": "gold"},
    {"city": "San Francisco", "country": "United States", "country_code": "US"},
)
CUSTOMERS = (PRIYA, JOAO, HANNAH, OLIVER, EMILY)

# The agent and the bot: their names stay clear for every role.
AGENT = {"id": 3, "name": "Sam Carter", "email": "sam.carter@helpdesk.example"}
BOT = {"id": 1, "name": "Captain"}

WHATSAPP_INBOX = {
    "id": 2,
    "avatar_url": "",
    "channel_id": 5,
    "name": "WhatsApp Support",
    "channel_type": "Channel::Whatsapp",
    "provider": "whatsapp_cloud",
}
EMAIL_INBOX = {
    "id": 3,
    "avatar_url": "",
    "channel_id": 2,
    "name": "support@helpdesk.example",
    "channel_type": "Channel::Email",
    "provider": None,
}
WEB_INBOX = {
    "id": 1,
    "avatar_url": "",
    "channel_id": 1,
    "name": "Website",
    "channel_type": "Channel::WebWidget",
    "provider": None,
}
TELEGRAM_INBOX = {
    "id": 4,
    "avatar_url": "",
    "channel_id": 3,
    "name": "Telegram",
    "channel_type": "Channel::Telegram",
    "provider": None,
}


def contact_partial(c: Customer, *, with_inboxes: bool = False) -> dict[str, Any]:
    """app/views/api/v1/models/_contact.json.jbuilder"""
    out: dict[str, Any] = {
        "additional_attributes": c.additional,
        "availability_status": "offline",
        "email": c.email,
        "id": c.id,
        "name": c.name,
        "phone_number": c.phone,
        "blocked": False,
        "identifier": f"crm-{c.email}",
        "thumbnail": f"https://chat.helpdesk.example/rails/active_storage/blobs/{c.id}/avatar.png",
        "custom_attributes": c.attributes,
        "last_activity_at": T0 + c.id,
        "created_at": T0 - 86400,
    }
    if with_inboxes:  # _contact_inbox: source_id + inbox_slim
        out["contact_inboxes"] = [
            {"source_id": c.whatsapp_id, "inbox": WHATSAPP_INBOX},
            {"source_id": c.email, "inbox": EMAIL_INBOX},
            {"source_id": "3c1b5f2e-8a7d-4e0f-9b6a-2d4c8e1f0a7b", "inbox": WEB_INBOX},
        ]
    return out


def contact_push(c: Customer) -> dict[str, Any]:
    """app/models/contact.rb#push_event_data"""
    return {
        "additional_attributes": c.additional,
        "custom_attributes": c.attributes,
        "email": c.email,
        "id": c.id,
        "identifier": f"crm-{c.email}",
        "name": c.name,
        "phone_number": c.phone,
        "thumbnail": "",
        "blocked": False,
        "type": "contact",
    }


def user_push() -> dict[str, Any]:
    """app/models/user.rb#push_event_data"""
    return {
        "id": AGENT["id"],
        "name": AGENT["name"],
        "available_name": "Sam",
        "avatar_url": "",
        "type": "user",
        "availability_status": "online",
        "thumbnail": "",
    }


def agent_partial() -> dict[str, Any]:
    """app/views/api/v1/models/_agent.json.jbuilder"""
    return {
        "id": AGENT["id"],
        "account_id": ACCOUNT,
        "availability_status": "online",
        "auto_offline": True,
        "confirmed": True,
        "email": AGENT["email"],
        "provider": "email",
        "available_name": "Sam",
        "name": AGENT["name"],
        "role": "agent",
        "thumbnail": "",
    }


def message_push(
    mid: int,
    c: Customer,
    content: str | None,
    *,
    conversation: int,
    incoming: bool = True,
    inbox: dict[str, Any] = WHATSAPP_INBOX,
    content_type: str = "text",
    content_attributes: dict[str, Any] | None = None,
    source_id: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    private: bool = False,
    sender: str = "contact",
) -> dict[str, Any]:
    """app/models/message.rb#push_event_data: every column, then conversation and sender."""
    out: dict[str, Any] = {
        "id": mid,
        "content": content,
        "account_id": ACCOUNT,
        "inbox_id": inbox["id"],
        "conversation_id": conversation,
        "message_type": 0 if incoming else 1,
        "created_at": T0 + mid,
        "updated_at": f"2024-12-04T08:{mid % 60:02d}:00.000Z",
        "private": private,
        "status": "sent",
        "source_id": source_id,
        "content_type": content_type,
        "content_attributes": content_attributes or {},
        "sender_type": {"contact": "Contact", "user": "User", "bot": "AgentBot"}[sender],
        "sender_id": {"contact": c.id, "user": AGENT["id"], "bot": BOT["id"]}[sender],
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": content,
        "sentiment": {},
        "conversation": {
            "assignee_id": AGENT["id"],
            "unread_count": 1,
            "last_activity_at": T0 + mid,
            "contact_inbox": {"source_id": c.whatsapp_id},
        },
    }
    if attachments:
        out["attachments"] = attachments
    out["sender"] = {
        "contact": contact_push(c),
        "user": user_push(),
        "bot": {**BOT, "avatar_url": "", "type": "agent_bot"},
    }[sender]
    return out


def message_partial(push: dict[str, Any]) -> dict[str, Any]:
    """app/views/api/v1/models/_message.json.jbuilder (from the same message)."""
    keys = (
        "id",
        "content",
        "inbox_id",
        "conversation_id",
        "message_type",
        "content_type",
        "status",
        "content_attributes",
        "created_at",
        "private",
        "source_id",
        "sender",
    )
    out = {key: push[key] for key in keys}
    if "attachments" in push:
        out["attachments"] = push["attachments"]
    return out


def email_attributes(c: Customer) -> dict[str, Any]:
    """app/mailboxes/mailbox_helper.rb#create_message: MailPresenter#serialized_data + cc/bcc."""
    text = (
        f"Hi team,\n\nMy order #4411 never arrived. Please call me on {c.written_phone} "
        f"or reply to {c.email}.\n\nBest,\n{c.name}\n\n"
        f"On Tue, Dec 3, 2024 Support <support@helpdesk.example> wrote:\n> Thanks"
    )
    html = (
        f"<div>Hi team,<br>My order #4411 never arrived. Please call me on "
        f'<a href="tel:{c.phone}">{c.written_phone}</a> or reply to '
        f'<a href="mailto:{c.email}">{c.email}</a>.<br>Best,<br>{c.name}</div>'
    )
    return {
        "email": {
            "bcc": None,
            "cc": ["ana.costa@uol.com.br"],
            "content_type": "multipart/alternative",
            "date": "2024-12-04T09:15:00+00:00",
            "from": [c.email],
            "headers": {"x-original-from": f"{c.name} <{c.email}>"},
            "html_content": {"full": html, "reply": html, "quoted": html},
            "in_reply_to": None,
            "message_id": "CAF4411xyz@mail.uol.com.br",
            "multipart": True,
            "number_of_attachments": 0,
            "references": [],
            "subject": f"Order 4411 - please call {c.written_phone}",
            "text_content": {"full": text, "reply": text, "quoted": text},
            "to": ["support@helpdesk.example"],
            "auto_reply": False,
        },
        "cc_email": ["ana.costa@uol.com.br"],
        "bcc_email": None,
    }


def conversation_partial(
    cid: int,
    c: Customer,
    *,
    inbox: dict[str, Any],
    last: dict[str, Any],
    additional: dict[str, Any],
) -> dict[str, Any]:
    """app/views/api/v1/conversations/partials/_conversation.json.jbuilder"""
    return {
        "meta": {
            "sender": contact_partial(c),
            "channel": inbox["channel_type"],
            "assignee": agent_partial(),
            "assignee_type": "User",
            "hmac_verified": False,
        },
        "id": cid,
        "messages": [last],
        "account_id": ACCOUNT,
        "uuid": f"5b2b1c3e-0000-4000-8000-0000000000{cid:02d}",
        "additional_attributes": additional,
        "agent_last_seen_at": T0,
        "assignee_last_seen_at": T0,
        "can_reply": True,
        "contact_last_seen_at": T0,
        "custom_attributes": {"order_contact_phone": c.written_phone, "order_id": "4411"},
        "inbox_id": inbox["id"],
        "labels": ["delivery"],
        "muted": False,
        "snoozed_until": None,
        "status": "open",
        "created_at": T0 - 3600,
        "updated_at": T0 + 0.5,
        "timestamp": T0,
        "first_reply_created_at": T0 - 3000,
        "unread_count": 1,
        "last_non_activity_message": last,
        "last_activity_at": T0,
        "priority": None,
        "waiting_since": T0 - 60,
        "sla_policy_id": None,
    }


def conversation_push(
    cid: int, c: Customer, last: dict[str, Any], additional: dict[str, Any]
) -> dict[str, Any]:
    """app/presenters/conversations/event_data_presenter.rb#push_data"""
    return {
        "additional_attributes": additional,
        "can_reply": True,
        "channel": "Channel::Whatsapp",
        "contact_inbox": {
            "id": 90 + c.id,
            "contact_id": c.id,
            "inbox_id": 2,
            "source_id": c.whatsapp_id,
            "created_at": "2024-12-01T10:00:00.000Z",
            "updated_at": "2024-12-01T10:00:00.000Z",
            "hmac_verified": False,
            "pubsub_token": "Zp3bX9cQe7fY2kLm8nRt",
        },
        "id": cid,
        "inbox_id": 2,
        "messages": [last],
        "labels": ["delivery"],
        "meta": {
            "sender": contact_push(c),
            "assignee": user_push(),
            "assignee_type": "User",
            "team": None,
            "hmac_verified": False,
        },
        "status": "open",
        "custom_attributes": {"order_contact_phone": c.written_phone},
        "snoozed_until": None,
        "unread_count": 1,
        "first_reply_created_at": None,
        "priority": None,
        "waiting_since": T0,
        "agent_last_seen_at": T0,
        "contact_last_seen_at": T0,
        "last_activity_at": T0,
        "timestamp": T0,
        "created_at": T0 - 3600,
        "updated_at": T0 + 0.25,
    }


WEB_ADDITIONAL = {
    "browser": {
        "device_name": "Macintosh",
        "browser_name": "Chrome",
        "platform_name": "macOS",
        "browser_version": "131.0.0.0",
        "platform_version": "10.15.7",
    },
    "referer": f"https://shop.example.co.uk/account?email={OLIVER.email}&ref=chat",
    "initiated_at": {"timestamp": "Wed Dec 04 2024 09:00:00 GMT+0000"},
    "browser_language": "en",
}
EMAIL_ADDITIONAL = {
    "source": "email",
    "in_reply_to": None,
    "auto_reply": False,
    "mail_subject": f"Order 4411 - please call {JOAO.written_phone}",
    "initiated_at": {"timestamp": "2024-12-04 09:15:00 UTC"},
}


def _messages() -> list[dict[str, Any]]:
    """A WhatsApp conversation (42) of Priya's with text, a contact card and a voice note, an
    agent's reply quoting her number, a bot message, a private note; an email (43) of João's."""
    return [
        message_push(
            101,
            PRIYA,
            f"Hi, I'm {PRIYA.name}. My new number is {PRIYA.written_phone}, "
            f"old one 0091 98111 22334. Mail me at {PRIYA.email}",
            conversation=42,
            source_id="wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMEFCRDRGNjYwQjEwRjE3ODAA",
        ),
        message_push(
            102,
            PRIYA,
            None,
            conversation=42,
            attachments=[
                {
                    "id": 7,
                    "message_id": 102,
                    "file_type": "contact",
                    "account_id": ACCOUNT,
                    "fallback_title": "+91 91234 56789",
                    "meta": {"first_name": "Rahul", "last_name": "Sharma"},
                },
                {
                    "id": 8,
                    "message_id": 102,
                    "file_type": "audio",
                    "account_id": ACCOUNT,
                    "extension": "ogg",
                    "data_url": "https://chat.helpdesk.example/rails/active_storage/blobs/x/"
                    "WhatsApp%20Audio%202024-12-04.ogg",
                    "thumb_url": "",
                    "file_size": 20480,
                    "width": None,
                    "height": None,
                    "transcribed_text": f"please call me back on {PRIYA.written_phone}",
                },
            ],
        ),
        message_push(
            103,
            PRIYA,
            f"Thanks {PRIYA.name.split()[0]}! We will call {PRIYA.written_phone} today.",
            conversation=42,
            incoming=False,
            sender="user",
        ),
        message_push(
            104,
            PRIYA,
            "Conversation was assigned to Sam Carter",
            conversation=42,
            incoming=False,
            sender="bot",
        ),
        message_push(
            105,
            PRIYA,
            f"Note: also reachable at {PRIYA.attributes['billing_email']}",
            conversation=42,
            incoming=False,
            private=True,
            sender="user",
        ),
        message_push(
            201,
            JOAO,
            f"Hi team, my order #4411 never arrived. Please call me on "
            f"{JOAO.written_phone} or reply to {JOAO.email}.",
            conversation=43,
            inbox=EMAIL_INBOX,
            content_type="incoming_email",
            content_attributes=email_attributes(JOAO),
            source_id="CAF4411xyz@mail.uol.com.br",
        ),
        message_push(
            202,
            JOAO,
            "We are on it.",
            conversation=43,
            incoming=False,
            inbox=EMAIL_INBOX,
            sender="user",
            content_attributes={
                "cc_emails": ["ana.costa@uol.com.br"],
                "bcc_emails": [],
                "to_emails": [JOAO.email],
            },
        ),
        message_push(
            301,
            OLIVER,
            "email",
            conversation=44,
            inbox=WEB_INBOX,
            content_type="input_email",
            content_attributes={"submitted_email": OLIVER.email},
        ),
        message_push(
            401,
            HANNAH,
            f"Hallo, bitte rufen Sie {HANNAH.written_phone} an",
            conversation=45,
            inbox=TELEGRAM_INBOX,
            content_attributes={
                "translations": {"en": f"Hello, please call {HANNAH.written_phone}"}
            },
        ),
    ]


def documents() -> list[tuple[str, Any]]:
    """(request, body) for every dashboard endpoint and event the pack covers."""
    msgs = {m["id"]: m for m in _messages()}
    priya_conv = conversation_partial(
        42, PRIYA, inbox=WHATSAPP_INBOX, last=msgs[101], additional={}
    )
    joao_conv = conversation_partial(
        43, JOAO, inbox=EMAIL_INBOX, last=msgs[201], additional=EMAIL_ADDITIONAL
    )
    oliver_conv = conversation_partial(
        44, OLIVER, inbox=WEB_INBOX, last=msgs[301], additional=WEB_ADDITIONAL
    )
    contacts_page = {
        "meta": {"count": 5, "current_page": 1},
        "payload": [contact_partial(c, with_inboxes=True) for c in CUSTOMERS],
    }
    base = f"/api/v1/accounts/{ACCOUNT}"
    search_contact = [
        {
            "email": c.email,
            "id": c.id,
            "name": c.name,
            "phone_number": c.phone,
            "identifier": None,
            "additional_attributes": c.additional,
            "last_activity_at": T0,
        }
        for c in CUSTOMERS
    ]
    search_conversation = {
        "id": 43,
        "account_id": ACCOUNT,
        "created_at": T0,
        "message": message_partial(msgs[201]),
        "contact": search_contact[1],
        "inbox": {"id": 3, "name": "support@helpdesk.example", "channel_type": "Channel::Email"},
        "agent": {"id": AGENT["id"], "name": AGENT["name"], "email": AGENT["email"]},
    }
    # The dashboard's JSON.stringify: compact
    cable_identifier = json.dumps(
        {
            "channel": "RoomChannel",
            "pubsub_token": "agentTok3n",
            "account_id": ACCOUNT,
            "user_id": AGENT["id"],
        },
        separators=(",", ":"),
    )

    def cable(event: str, data: dict[str, Any]) -> dict[str, Any]:
        """app/jobs/action_cable_broadcast_job.rb, as ActionCable frames it"""
        return {
            "identifier": cable_identifier,
            "message": {
                "event": event,
                "data": {**data, "account_id": ACCOUNT, "performer": user_push()},
            },
        }

    notification = {
        "id": 9,
        "notification_type": "assigned_conversation_new_message",
        "push_message_title": "New message in conversation #42",
        "push_message_body": f"{PRIYA.name}: {msgs[101]['content']}",
        "primary_actor_type": "Conversation",
        "primary_actor_id": 42,
        "primary_actor": conversation_push(42, PRIYA, msgs[101], {}),
        "read_at": None,
        "secondary_actor": msgs[101],
        "user": user_push(),
        "created_at": T0,
        "last_activity_at": T0,
        "snoozed_until": None,
        "meta": {},
        "account_id": ACCOUNT,
    }
    return [
        (f"GET {base}/contacts?include_contact_inboxes=true", contacts_page),
        (f"GET {base}/contacts/search?q=sharma", contacts_page),
        (f"POST {base}/contacts/filter", contacts_page),
        (f"GET {base}/contacts/active", contacts_page),
        (f"GET {base}/contacts/{PRIYA.id}", {"payload": contact_partial(PRIYA, with_inboxes=True)}),
        (
            f"POST {base}/contacts",
            {
                "payload": {
                    "contact": contact_partial(HANNAH, with_inboxes=True),
                    "contact_inbox": {"inbox": TELEGRAM_INBOX, "source_id": "987654321"},
                }
            },
        ),
        (f"GET {base}/contacts/{PRIYA.id}/conversations", {"payload": [priya_conv]}),
        (
            f"GET {base}/contacts/{PRIYA.id}/notes",
            [
                {
                    "id": 1,
                    "content": f"Called {PRIYA.name} on {PRIYA.written_phone}; "
                    f"she asked us to use {PRIYA.email}",
                    "account_id": None,
                    "contact_id": None,
                    "user": agent_partial(),
                    "created_at": T0,
                    "updated_at": T0,
                }
            ],
        ),
        (
            f"GET {base}/contacts/{PRIYA.id}/contactable_inboxes",
            {
                "payload": [
                    {"inbox": WHATSAPP_INBOX, "source_id": PRIYA.whatsapp_id},
                    {"inbox": EMAIL_INBOX, "source_id": PRIYA.email},
                ]
            },
        ),
        (
            f"POST {base}/contacts/{PRIYA.id}/contact_inboxes",
            {"source_id": PRIYA.whatsapp_id, "inbox": WHATSAPP_INBOX},
        ),
        (
            f"GET {base}/conversations?status=open",
            {
                "data": {
                    "meta": {
                        "mine_count": 1,
                        "assigned_count": 3,
                        "unassigned_count": 0,
                        "all_count": 3,
                    },
                    "payload": [priya_conv, joao_conv, oliver_conv],
                }
            },
        ),
        (
            f"POST {base}/conversations/filter",
            {
                "meta": {"mine_count": 1, "unassigned_count": 0, "all_count": 1},
                "payload": [joao_conv],
            },
        ),
        (f"GET {base}/conversations/43", joao_conv),
        (
            f"GET {base}/conversations/42/messages",
            {
                "meta": {
                    "labels": ["delivery"],
                    "additional_attributes": {},
                    "contact": contact_push(PRIYA),
                    "assignee": user_push(),
                    "agent_last_seen_at": "2024-12-04T08:00:00.000Z",
                    "assignee_last_seen_at": "2024-12-04T08:00:00.000Z",
                },
                "payload": [message_partial(msgs[i]) for i in (101, 102, 103, 104, 105)],
            },
        ),
        (
            f"GET {base}/conversations/43/messages",
            {
                "meta": {
                    "labels": [],
                    "additional_attributes": EMAIL_ADDITIONAL,
                    "contact": contact_push(JOAO),
                    "assignee": user_push(),
                    "agent_last_seen_at": None,
                    "assignee_last_seen_at": None,
                },
                "payload": [message_partial(msgs[201]), message_partial(msgs[202])],
            },
        ),
        (
            f"GET {base}/conversations/search?q=4411",
            {
                "meta": {"mine_count": 1, "unassigned_count": 0, "all_count": 1},
                "payload": [
                    {  # app/views/api/v1/models/_conversation.json.jbuilder
                        "id": 43,
                        "uuid": "5b2b1c3e-0000-4000-8000-000000000043",
                        "created_at": T0,
                        "contact": {"id": JOAO.id, "name": JOAO.name},
                        "inbox": {
                            "id": 3,
                            "name": "support@helpdesk.example",
                            "channel_type": "Channel::Email",
                        },
                        "messages": [
                            {
                                "content": msgs[201]["content"],
                                "id": 201,
                                "sender_name": JOAO.name,
                                "message_type": 0,
                                "created_at": T0,
                            },
                            {
                                "content": "We are on it.",
                                "id": 202,
                                "sender_name": AGENT["name"],
                                "message_type": 1,
                                "created_at": T0,
                            },
                        ],
                        "account_id": ACCOUNT,
                    }
                ],
            },
        ),
        (
            f"GET {base}/conversations/42/attachments",
            {
                "meta": {"total_count": 1},
                "payload": [
                    {
                        **{
                            k: msgs[102]["attachments"][1].get(k)
                            for k in (
                                "message_id",
                                "thumb_url",
                                "data_url",
                                "file_size",
                                "file_type",
                                "extension",
                                "width",
                                "height",
                            )
                        },
                        "created_at": T0,
                        "sender": contact_push(PRIYA),
                    }
                ],
            },
        ),
        (
            f"GET {base}/search?q=silva",
            {
                "payload": {
                    "conversations": [search_conversation],
                    "contacts": search_contact,
                    "messages": [message_partial(msgs[201])],
                    "articles": [],
                }
            },
        ),
        (f"GET {base}/search/contacts?q=sharma", {"payload": {"contacts": search_contact}}),
        (
            f"GET {base}/search/messages?q=call",
            {"payload": {"messages": [message_partial(msgs[i]) for i in (101, 201, 401)]}},
        ),
        (
            f"GET {base}/search/conversations?q=4411",
            {
                "payload": {
                    "conversations": [
                        {**search_conversation, "additional_attributes": EMAIL_ADDITIONAL}
                    ]
                }
            },
        ),
        (
            f"GET {base}/notifications",
            {
                "data": {
                    "meta": {"unread_count": 1, "count": 1, "current_page": 1},
                    "payload": [{k: v for k, v in notification.items() if k != "account_id"}],
                }
            },
        ),
        (
            f"GET {base}/csat_survey_responses",
            [
                {
                    "id": 1,
                    "rating": 2,
                    "feedback_message": f"Nobody called me back on {EMILY.written_phone}",
                    "account_id": ACCOUNT,
                    "message_id": 501,
                    "csat_survey_response": None,
                    "contact": {
                        "id": EMILY.id,
                        "name": EMILY.name,
                        "email": EMILY.email,
                        "phone_number": EMILY.phone,
                        "thumbnail": "",
                    },
                    "conversation_id": 46,
                    "assigned_agent": agent_partial(),
                    "created_at": T0,
                }
            ],
        ),
        ("GET /cable", cable("message.created", msgs[101])),
        ("GET /cable", cable("message.created", msgs[201])),
        (
            "GET /cable",
            cable(
                "message.updated",
                {
                    **msgs[401],
                    "previous_changes": {
                        "content": [f"call {HANNAH.written_phone}", msgs[401]["content"]],
                        "updated_at": ["2024-12-04T08:00:00Z", "2024-12-04T08:01:00Z"],
                    },
                },
            ),
        ),
        (
            "GET /cable",
            cable("conversation.created", conversation_push(44, OLIVER, msgs[301], WEB_ADDITIONAL)),
        ),
        (
            "GET /cable",
            cable(
                "conversation.typing_on",
                {
                    "conversation": conversation_push(42, PRIYA, msgs[101], {}),
                    "user": contact_push(PRIYA),
                    "is_private": False,
                },
            ),
        ),
        ("GET /cable", cable("contact.updated", contact_push(HANNAH))),
        ("GET /cable", cable("contact.deleted", contact_push(OLIVER))),
        (
            "GET /cable",
            cable(
                "notification.created",
                {"notification": notification, "unread_count": 1, "count": 1},
            ),
        ),
        (
            "GET /cable",
            {
                "identifier": cable_identifier,
                "message": {
                    "event": "presence.update",
                    "data": {
                        "account_id": ACCOUNT,
                        "users": {"3": "online"},
                        "contacts": {"11": "online"},
                    },
                },
            },
        ),
        # public client API: app/views/public/api/v1/
        (
            "GET /public/api/v1/inboxes/w1dg3t/contacts/3c1b5f2e",
            {
                "source_id": "3c1b5f2e-8a7d-4e0f-9b6a-2d4c8e1f0a7b",
                "pubsub_token": "Qm9vTm90QVNlY3JldA",
                "id": OLIVER.id,
                "name": OLIVER.name,
                "email": OLIVER.email,
                "phone_number": OLIVER.phone,
            },
        ),
        (
            "GET /public/api/v1/inboxes/w1dg3t/contacts/3c1b5f2e/conversations",
            [
                {
                    "id": 44,
                    "uuid": "5b2b1c3e-0000-4000-8000-000000000044",
                    "inbox_id": 1,
                    "contact_last_seen_at": T0,
                    "status": "open",
                    "agent_last_seen_at": T0,
                    "messages": [
                        {
                            k: msgs[301][k]
                            for k in (
                                "id",
                                "content",
                                "message_type",
                                "content_type",
                                "content_attributes",
                                "created_at",
                                "conversation_id",
                                "sender",
                            )
                        }
                    ],
                    "contact": {  # Contact#as_json: every column
                        "id": OLIVER.id,
                        "name": OLIVER.name,
                        "email": OLIVER.email,
                        "phone_number": OLIVER.phone,
                        "account_id": ACCOUNT,
                        "created_at": "2024-12-01T10:00:00.000Z",
                        "updated_at": "2024-12-04T09:00:00.000Z",
                        "additional_attributes": OLIVER.additional,
                        "identifier": None,
                        "custom_attributes": OLIVER.attributes,
                        "last_activity_at": "2024-12-04T09:00:00.000Z",
                        "contact_type": "lead",
                        "middle_name": "James",
                        "last_name": "Brown",
                        "location": "Manchester, UK",
                        "country_code": "GB",
                        "blocked": False,
                        "company_id": None,
                    },
                }
            ],
        ),
        (
            "GET /public/api/v1/inboxes/w1dg3t/contacts/3c1b5f2e/conversations/44/messages",
            [
                {
                    k: msgs[301][k]
                    for k in (
                        "id",
                        "content",
                        "message_type",
                        "content_type",
                        "content_attributes",
                        "created_at",
                        "conversation_id",
                        "sender",
                    )
                }
            ],
        ),
    ]


NOT_PII = ("gold",)  # custom attribute values that are no PII


def pii_values() -> list[str]:
    """Every clear phone, email, handle and PII attribute of the customers (names: `names`)."""
    values: list[str] = []
    for c in CUSTOMERS:
        values += [c.email, c.phone, c.written_phone, c.whatsapp_id, *c.handles]
        values += [str(v) for v in c.attributes.values() if v not in NOT_PII]
    return [
        *values,
        "+91 91234 56789",
        "priya.s@outlook.in",
        "ana.costa@uol.com.br",
        "0091 98111 22334",
        "12 MG Road",
        "1990-04-12",
    ]


def names() -> list[str]:
    """Customer names (full, and each word of 3 letters or more) and names they shared."""
    out: list[str] = []
    for c in CUSTOMERS:
        out += [c.name, *[word for word in c.name.split() if len(word) >= 3]]
    return [*out, "Rahul", "Maria Silva", "James"]
