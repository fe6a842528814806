"""Seeded demo data: the same seed always gives the same contacts, conversations and messages.

Contact 1 is always Jane Doe (+1 415-555-0132, jane.doe@example.com) with conversation 1, so the
docs and the example rule tests can name her; everyone else is drawn from `people` with
`random.Random(seed)`. Timestamps count back from a fixed date, never from "now".
"""

from __future__ import annotations

import unicodedata
import uuid
from random import Random

import phonenumbers

from gateway.demo import people, phrases
from gateway.demo.store import INCOMING, OUTGOING, Conversation, DemoStore, Json, Message

BASE_TIME = 1_735_689_600  # 2025-01-01T00:00:00Z
DAY = 86_400
CONTACT_COUNT = 40

# Chatwoot channel types and the inbox each lives in.
INBOXES: dict[str, int] = {
    "Channel::Whatsapp": 1,
    "Channel::Email": 2,
    "Channel::Sms": 3,
    "Channel::TwilioSms": 4,
    "Channel::Telegram": 5,
    "Channel::FacebookPage": 6,
    "Channel::Instagram": 7,
}
PHONE_CHANNELS = ("Channel::Whatsapp", "Channel::Sms", "Channel::TwilioSms", "Channel::Telegram")
ANY_CHANNEL_WEIGHTS = (6, 3, 2, 1, 1, 1, 1)  # in INBOXES order: WhatsApp dominates

JANE: Json = {
    "id": 1,
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "phone_number": "+14155550132",
    "identifier": "cus_4f9c2a7d1e",
    "thumbnail": "",
    "availability_status": "online",
    "blocked": False,
    "additional_attributes": {
        "city": "San Francisco",
        "country": "United States",
        "country_code": "US",
        "company_name": "Globex",
        "description": "Lived in London, old number +44 20 7946 0958",
    },
    "custom_attributes": {
        "user_name": "Jane Doe",
        "user_number": "+1 415-555-0132",
        "user_email": "jane.doe@example.com",
        "plan": "pro",
    },
    "created_at": BASE_TIME - 400 * DAY,
    "last_activity_at": None,
}
JANE_CHAT: tuple[tuple[int, str], ...] = (
    (INCOMING, "Hi! My order #123456789 hasn't arrived yet."),
    (OUTGOING, "Hi Jane, thanks for reaching out! Order #123456789 shipped yesterday."),
    (INCOMING, "my number is (415) 555-0132, or mail me at jane.doe@example.com"),
    (INCOMING, "or call +44 20 7946 0958, I'm in London this week"),
    (OUTGOING, "Sure, we'll call you at (415) 555-0132 within the hour."),
)


def seed_store(seed: int) -> DemoStore:
    rng = Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    agents = {i: _agent(i, name, role) for i, (name, role) in enumerate(people.AGENTS, start=1)}
    profile: Json = {
        **agents[1],
        "display_name": agents[1]["name"].split()[0],
        "account_id": 1,
        "accounts": [{"id": 1, "name": "Acme Support", "role": agents[1]["role"]}],
        "pubsub_token": "".join(rng.choices("abcdefghijkmnpqrstuvwxyz23456789", k=24)),
    }
    store = DemoStore({1: _copy(JANE)}, {}, agents, profile, next_message_id=1)
    used = {JANE["phone_number"], JANE["email"]}
    for contact_id in range(2, CONTACT_COUNT + 1):
        store.contacts[contact_id] = _contact(contact_id, rng, used)
    for contact_id in sorted(store.contacts):
        for _ in range(1 if rng.random() < 0.75 else 2):
            _conversation(store, contact_id, rng)
    return store


def synthetic_message(store: DemoStore, rng: Random, now: int) -> Message:
    """A new message in a random open conversation, for the live feed."""
    open_ids = sorted(i for i, c in store.conversations.items() if c.status == "open")
    conv = store.conversations[rng.choice(open_ids or sorted(store.conversations))]
    direction = INCOMING if rng.random() < 0.7 else OUTGOING
    values = text_values(store.contacts[conv.contact_id], rng)
    templates = phrases.INCOMING if direction == INCOMING else phrases.OUTGOING
    return store.add_message(conv, phrases.fill(templates, values, rng), direction, now)


def text_values(contact: Json, rng: Random) -> dict[str, str]:
    """Placeholder values for a contact's chat templates; missing identities are left out."""
    first = str(contact.get("name") or "there").split(" ")[0]
    values = {
        "first": first,
        "order": str(rng.randrange(100_000_000, 999_999_999)),
        "ticket": str(rng.randrange(10_000, 99_999)),
        "plan": str(contact.get("custom_attributes", {}).get("plan") or "pro"),
        "alt_email": f"{_ascii(first).lower() or 'customer'}{rng.randrange(10, 99)}@"
        f"{rng.choice(people.EMAIL_DOMAINS)}",
        "travel_phone": phrases.phone_for_text(_phone(rng.choice(_TEMPLATES), rng), rng),
    }
    if contact.get("email"):
        values["email"] = str(contact["email"])
    phone = contact.get("phone_number")
    try:
        values["phone"] = phrases.phone_for_text(str(phone), rng) if phone else ""
    except phonenumbers.NumberParseException:
        values["phone"] = ""  # edited through the API into something that is not a number
    return {k: v for k, v in values.items() if v}


_TEMPLATES = tuple(t for c in people.COUNTRIES for t in c.phone_templates)


def _phone(template: str, rng: Random) -> str:
    return "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in template if ch != " ")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum() or ch == ".").lower()


def _copy(contact: Json) -> Json:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in contact.items()}


def _agent(agent_id: int, name: str, role: str) -> Json:
    email = f"{_ascii(name.replace(' ', '.'))}@{people.AGENT_EMAIL_DOMAIN}"
    return {
        "id": agent_id,
        "name": name,
        "available_name": name,
        "email": email,
        "role": role,
        "availability_status": "online",
        "thumbnail": "",
        "confirmed": True,
    }


def _contact(contact_id: int, rng: Random, used: set[str]) -> Json:
    country = rng.choices(people.COUNTRIES, weights=people.COUNTRY_WEIGHTS)[0]
    first, last = rng.choice(country.first_names), rng.choice(country.last_names)
    new_phone = _phone(rng.choice(country.phone_templates), rng)
    while new_phone in used:
        new_phone = _phone(rng.choice(country.phone_templates), rng)
    domain = rng.choice(people.EMAIL_DOMAINS)
    new_email = f"{_ascii(first)}.{_ascii(last)}@{domain}"
    while new_email in used:
        new_email = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(2, 99)}@{domain}"
    used.update((new_phone, new_email))
    phone: str | None = new_phone
    email: str | None = new_email
    roll = rng.random()
    if roll < 0.15:
        email = None  # a WhatsApp-only customer
    elif roll < 0.27:
        phone = None  # an email-only customer
    created = BASE_TIME - rng.randrange(90, 700) * DAY
    contact: Json = {
        "id": contact_id,
        "name": f"{first} {last}",
        "email": email,
        "phone_number": phone,
        "identifier": f"cus_{rng.getrandbits(40):010x}" if rng.random() < 0.6 else None,
        "thumbnail": "",
        "availability_status": rng.choice(("online", "offline", "offline")),
        "blocked": False,
        "additional_attributes": {
            "city": rng.choice(country.cities),
            "country": country.name,
            "country_code": country.code,
            "company_name": rng.choice(people.COMPANIES),
        },
        "custom_attributes": {
            "user_name": f"{first} {last}",
            "user_number": None,
            "user_email": email,
            "plan": rng.choice(people.PLANS),
        },
        "created_at": created,
        "last_activity_at": None,
    }
    values = text_values(contact, rng)
    contact["additional_attributes"]["description"] = phrases.fill(phrases.NOTES, values, rng)
    contact["custom_attributes"]["user_number"] = values.get("phone")
    return contact


def _conversation(store: DemoStore, contact_id: int, rng: Random) -> None:
    contact = store.contacts[contact_id]
    if contact_id == 1:
        channel = "Channel::Whatsapp"
    elif not contact["phone_number"]:
        channel = "Channel::Email"
    elif not contact["email"]:
        channel = rng.choice(PHONE_CHANNELS)
    else:
        channel = rng.choices(tuple(INBOXES), weights=ANY_CHANNEL_WEIGHTS)[0]
    conv_id = len(store.conversations) + 1
    created = BASE_TIME - rng.randrange(0, 90 * DAY)
    conv = Conversation(
        id=conv_id,
        contact_id=contact_id,
        inbox_id=INBOXES[channel],
        channel=channel,
        assignee_id=rng.choice((None, 1, 2, 3, 4)),
        uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        status="open"
        if contact_id == 1
        else rng.choices(("open", "pending", "resolved", "snoozed"), weights=(5, 2, 3, 1))[0],
        created_at=created,
        labels=sorted(rng.sample(("billing", "shipping", "vip", "refund"), k=rng.randrange(0, 3))),
    )
    store.conversations[conv_id] = conv
    if contact_id == 1 and conv_id == 1:
        script = JANE_CHAT
    else:
        values = text_values(contact, rng)
        turns = [INCOMING] + [rng.choice((INCOMING, OUTGOING)) for _ in range(rng.randrange(2, 7))]
        script = tuple(
            (t, phrases.fill(phrases.INCOMING if t == INCOMING else phrases.OUTGOING, values, rng))
            for t in turns
        )
    at = created
    for direction, content in script:
        at += rng.randrange(30, 3600)
        store.add_message(conv, content, direction, at)
