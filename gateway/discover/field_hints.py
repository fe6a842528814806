"""What field names and object shapes say about a value, for `omnigate discover`.

Field-name hints find PII the text detector cannot read (a name, a handle, an address). The staff
rules leave out what a support dashboard shows on purpose: its own agents, bots, inboxes, teams
and accounts, and what agents sent (their names are not customers' PII).
"""

from __future__ import annotations

import re
from typing import Any

Step = str | int

# Field-name hints (a word in the key -> the kind of its value), first match wins.
HINTS = (
    *(("email", "email"), ("phone", "phone"), ("mobile", "phone"), ("whatsapp", "phone")),
    *(("address", "address"), ("birth", "birthdate"), ("person", "name"), ("name", "name")),
    *((network, "handle") for network in ("twitter", "facebook", "instagram", "linkedin")),
    *((network, "handle") for network in ("github", "telegram", "handle")),
    ("source_id", "handle"),  # a contact's address on its channel (a number, an email, an id)
)
BARE_NUMBER = re.compile(r"\d{8,15}")  # a WhatsApp id: an international number without "+"
# `*name*` keys that name things, not people.
_THING_NAMES = re.compile(r"(?i).*(browser|device|platform|company|file|os|app|channel)_?name")
# Objects that describe the dashboard's own staff and workspace (agents, inboxes, teams),
# whose names and addresses agents are meant to see; and mail ids, which look like addresses.
_STAFF_KEYS = frozenset(
    {"assignee", "assigned_agent", "agent", "agents", "inbox", "team", "account"}
)
_STAFF_TYPES = frozenset({"user", "agent", "agent_bot", "agentbot", "bot"})
_STAFF_ROLES = frozenset({"agent", "administrator", "admin", "supervisor"})
_NOT_PII_KEYS = frozenset({"message_id", "in_reply_to", "references"})


def is_staff(node: dict[str, Any]) -> bool:
    """An agent or a bot (`"type": "user"`, `"role": "agent"`), not a customer."""
    return (
        str(node.get("type", "")).lower() in _STAFF_TYPES
        or str(node.get("role", "")).lower() in _STAFF_ROLES
    )


def skipped(node: dict[str, Any], key: str) -> bool:
    """Whether `node[key]` is left out: a staff or workspace object, a mail id, or the sender of
    what an agent sent (an outgoing message carries the agent's own name)."""
    if key.lower() in _STAFF_KEYS | _NOT_PII_KEYS:
        return True
    by_staff = str(node.get("sender_type", "")).lower() in _STAFF_TYPES
    by_staff = by_staff or node.get("message_type") in (1, "outgoing")
    return by_staff and key.startswith("sender")


def hint_of(steps: tuple[Step, ...]) -> str | None:
    """The kind the nearest key names (`phone_number` -> phone), or None."""
    key = next((s for s in reversed(steps) if isinstance(s, str)), None)
    if key is None:
        return None
    lowered = key.lower()
    if _THING_NAMES.fullmatch(lowered):
        return None
    return next((kind for word, kind in HINTS if word in lowered), None)
