"""The seeded demo data: deterministic, varied, and every phone in it findable by the text mask."""

from __future__ import annotations

import re
from collections import Counter

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.demo.data import seed_store
from gateway.demo.store import DemoStore

# Digit runs long enough to be a phone number, with the separators people type.
PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
RESERVED_EMAIL = re.compile(r"[^@\s]+@(?:[a-z0-9-]+\.)*example\.(?:com|org|net)")


def snapshot(store: DemoStore) -> object:
    return (
        store.contacts,
        [store.render_conversation(c) for c in store.conversations.values()],
        [store.render_message(m) for c in store.conversations.values() for m in c.messages],
        store.profile,
    )


def free_texts(store: DemoStore) -> list[str]:
    texts = [c["additional_attributes"]["description"] for c in store.contacts.values()]
    texts += [m.content for c in store.conversations.values() for m in c.messages]
    return texts


def test_same_seed_same_data_and_other_seeds_differ() -> None:
    assert snapshot(seed_store(7)) == snapshot(seed_store(7))
    assert snapshot(seed_store(7)) != snapshot(seed_store(8))


def test_the_population_is_varied() -> None:
    store = seed_store(7)
    contacts = list(store.contacts.values())
    assert len(contacts) == 40
    assert len({c["additional_attributes"]["country"] for c in contacts}) >= 10
    assert any(c["email"] is None for c in contacts)  # WhatsApp-only customers
    assert any(c["phone_number"] is None for c in contacts)  # email-only customers
    assert len(Counter(c.channel for c in store.conversations.values())) >= 5
    texts = free_texts(store)
    assert sum(bool(PHONE_LIKE.search(t)) for t in texts) >= 30
    assert sum("@" in t for t in texts) >= 20


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_identities_are_valid_and_invented(seed: int) -> None:
    store = seed_store(seed)
    phones = [c["phone_number"] for c in store.contacts.values() if c["phone_number"]]
    emails = [c["email"] for c in store.contacts.values() if c["email"]]
    assert len(set(phones)) == len(phones) and len(set(emails)) == len(emails)
    for phone in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
    for email in emails + [a["email"] for a in store.agents.values()]:
        assert RESERVED_EMAIL.fullmatch(email), email  # RFC 2606 domains only


@pytest.mark.parametrize("seed", [7, 1, 2024])
def test_every_phone_in_free_text_is_found_by_the_matcher(seed: int) -> None:
    """With region US (the example rules' default_region), the `text` mask misses nothing, and
    order / ticket numbers (`#123456789`) are never taken for phones."""
    for text in free_texts(seed_store(seed)):
        rest = text
        for match in reversed(list(phonenumbers.PhoneNumberMatcher(text, "US"))):
            assert not text[: match.start].endswith("#"), text
            rest = rest[: match.start] + rest[match.end :]
        leftovers = [m for m in PHONE_LIKE.finditer(rest) if not rest[: m.start()].endswith("#")]
        assert not leftovers, text
