"""What people write in the demo's chats: message templates and the ways phone numbers get typed.

# PII: the templates deliberately put phone numbers and email addresses into free text, in the forms
# customers really use, so the `text` mask has something to find. Decoys (order and ticket numbers)
# are digit runs that must *not* be taken for phones.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from random import Random

import phonenumbers

INCOMING: tuple[str, ...] = (
    "Hi! My order #{order} hasn't arrived yet.",
    "my number is {phone}, or mail me at {email}",
    "call {phone}",
    "Can someone call me back on {phone}? I'm free after 5pm",
    "I changed my email to {alt_email} please update my account",
    "Order #{order} shipped but tracking still says label created",
    "You can also reach me on WhatsApp: {phone}",
    "Please send the invoice to {alt_email} and copy {email}",
    "Thanks, that worked!",
    "Is the {plan} plan billed monthly or yearly?",
    "The app keeps logging me out on my phone",
    "I'm travelling, my local number this week is {travel_phone}",
    "Hello, I was charged twice for order #{order}",
)

OUTGOING: tuple[str, ...] = (
    "Hi {first}, thanks for reaching out! How can I help?",
    "Order #{order} shipped yesterday, the tracking link will follow by email.",
    "Sure, we'll call you at {phone} within the hour.",
    "I've updated the email on your account to {alt_email}",
    "Could you confirm the email address on the account?",
    "Happy to help! Anything else?",
    "I've escalated this to our billing team, ticket #{ticket}",
)

NOTES: tuple[str, ...] = (
    "Prefers WhatsApp. Backup number {phone}",
    "Send invoices to {alt_email}",
    "VIP since 2021",
    "Spoke on the phone, call back at {phone} after 5pm",
    "Reseller, orders in bulk every quarter",
    "",
    "Assistant can be reached at {alt_email} or {travel_phone}",
)

# Work done once: which placeholders each template needs.
_FIELDS: dict[str, frozenset[str]] = {
    template: frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f)
    for template in INCOMING + OUTGOING + NOTES
}


def phone_for_text(e164: str, rng: Random) -> str:
    """One of the ways a person would type this number in a chat."""
    number = phonenumbers.parse(e164)
    styles: tuple[str, ...]
    if number.country_code == 1:
        digits = str(number.national_number)
        area, exchange, line = digits[:3], digits[3:6], digits[6:]
        styles = (
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"+1 {area}-{exchange}-{line}",
            f"1-{area}-{exchange}-{line}",
            f"{area} {exchange} {line}",
        )
    else:
        # Written in international form: national forms of other countries are not numbers at all
        # for a reader (or a matcher) whose default region is the US.
        styles = (
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            e164,
        )
    return rng.choice(styles)


def fill(templates: tuple[str, ...], values: Mapping[str, str], rng: Random) -> str:
    """A random template whose placeholders are all available, filled in."""
    usable = [t for t in templates if _FIELDS[t] <= values.keys()]
    return rng.choice(usable).format_map(values)
