"""The rules/chatwoot pack on Chatwoot-faithful documents: no clear customer PII for an agent.

The PII values are collected from the fixtures' customers and looked for in every string of what
the agent receives, free text included, not only in the fields the rules name.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout, suppress
from pathlib import Path
from typing import Any

import pytest

from gateway.auth import Caller
from gateway.cli import main
from gateway.rules_plan import Plan, load_plan
from tests.chatwoot import fixtures
from tests.conftest import JWT_SECRET

PACK = Path(__file__).resolve().parents[2] / "rules" / "chatwoot"
# Free text: where a customer's name can only be found by the known-values defence (SPEC 3.9),
# which masks a name that a rule masked wherever it recurs in the document. A name the document
# renders only in free text (a contact's notes, which carry no contact) is known to no rule: the
# known limit of the defence, documented in the pack's README.
FREE_TEXT_KEYS = {
    "content",
    "processed_message_content",
    "push_message_body",
    "full",
    "reply",
    "quoted",
    "transcribed_text",
    "feedback_message",
    "en",
}


def checked_pii() -> list[str]:
    """The PII values a masked role must never receive (numbers written with an international
    prefix, `0091 ...`, included: the detector reads `00` / `011` as `+`, SPEC 3.3)."""
    return list(fixtures.pii_values())


@pytest.fixture(autouse=True)
def _pack_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWOOT_GATEWAY_JWT_SECRET", JWT_SECRET)


@pytest.fixture
def plan() -> Plan:
    return load_plan(PACK)


def view_as(plan: Plan, request: str, role: str, masking: bool) -> Any:
    method, target = request.split(" ", 1)
    return plan.policy(method, target.split("?")[0], Caller(role, masking, "test", True))


def strings(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string of a document (keys included) with the path of keys above it."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*path, key), str(key)
            yield from strings(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from strings(value, (*path, index))
    elif isinstance(doc, str):
        yield path, doc
        if doc[:1] in "{[":  # JSON held as text (ActionCable identifiers)
            with suppress(ValueError):
                yield from strings(json.loads(doc), path)


DOCUMENTS = fixtures.documents()


@pytest.mark.parametrize(("request_line", "body"), DOCUMENTS, ids=[r for r, _ in DOCUMENTS])
def test_agent_sees_no_clear_customer_pii(plan: Plan, request_line: str, body: Any) -> None:
    view = view_as(plan, request_line, "agent", True)
    assert view.masking, f"no route of the pack masks {request_line}"
    masked = view.masker.mask(copy.deepcopy(body)).document
    checked = checked_pii()
    rendered = {
        text
        for path, text in strings(body)
        if not any(key in FREE_TEXT_KEYS for key in path if isinstance(key, str))
    }
    leaks = []
    for path, text in strings(masked):
        free = any(key in FREE_TEXT_KEYS for key in path if isinstance(key, str))
        for value in checked:
            if value in text:
                leaks.append((path, value))
        for name in fixtures.names():
            known = any(name in field for field in rendered)  # a rule masked it somewhere
            if (not free or known) and name in text:
                leaks.append((path, name))
    assert not leaks  # PII: the path and the value that survived


def test_every_fixture_holds_pii_in_the_clear(plan: Plan) -> None:
    """The leak test above cannot pass vacuously: each document starts with customer PII."""
    for request_line, body in DOCUMENTS:
        if "presence.update" in json.dumps(body):
            continue  # presence events carry ids only
        text = json.dumps(body, ensure_ascii=False)
        assert any(value in text for value in fixtures.pii_values()), request_line


@pytest.mark.parametrize(("request_line", "body"), DOCUMENTS, ids=[r for r, _ in DOCUMENTS])
def test_administrator_sees_everything_in_the_clear(
    plan: Plan, request_line: str, body: Any
) -> None:
    view = view_as(plan, request_line, "administrator", False)
    assert view.masker.mask(copy.deepcopy(body)).document == body


@pytest.mark.parametrize(
    ("request_line", "path"),
    [
        # The assignee of a conversation (models/_agent).
        ("GET /api/v1/accounts/1/conversations/43", ("meta", "assignee", "name")),
        # An agent's reply (sender_type User), and a bot's message.
        ("GET /api/v1/accounts/1/conversations/42/messages", ("payload", 2, "sender", "name")),
        ("GET /api/v1/accounts/1/conversations/42/messages", ("payload", 3, "sender", "name")),
        # The performer of an ActionCable event (User#push_event_data).
        ("GET /cable", ("message", "data", "performer", "name")),
        # The author of a contact note.
        ("GET /api/v1/accounts/1/contacts/11/notes", (0, "user", "name")),
        # An outgoing message's sender in conversation search results.
        (
            "GET /api/v1/accounts/1/conversations/search",
            ("payload", 0, "messages", 1, "sender_name"),
        ),
    ],
)
def test_agents_and_bots_keep_their_names(
    plan: Plan, request_line: str, path: tuple[Any, ...]
) -> None:
    (body,) = [b for r, b in DOCUMENTS if r.split("?")[0] == request_line][:1]
    masked = view_as(plan, request_line, "agent", True).masker.mask(copy.deepcopy(body)).document
    value = masked
    for key in path:
        value = value[key]
    assert value in (fixtures.AGENT["name"], fixtures.BOT["name"])


def test_masked_values_keep_their_shape(plan: Plan) -> None:
    request_line = "GET /api/v1/accounts/1/contacts/11"
    (body,) = [b for r, b in DOCUMENTS if r == request_line]
    contact = (
        view_as(plan, request_line, "agent", True)
        .masker.mask(copy.deepcopy(body))
        .document["payload"]
    )
    assert contact["name"] == "P*** S***"
    assert contact["email"] == "****@gmail.com"
    assert contact["phone_number"] == "XXX-XXX-3210"
    assert contact["custom_attributes"]["alt_mobile"] == "XXX-XXX-6789"  # a pattern
    assert contact["custom_attributes"]["date_of_birth"] == "****"  # a pattern: redact
    assert contact["additional_attributes"]["social_profiles"]["twitter"] == "*" * 11
    assert contact["additional_attributes"]["social_profiles"]["github"] == ""  # none given
    assert contact["additional_attributes"]["city"] == "Bengaluru"  # not PII by the pack
    assert contact["contact_inboxes"][0]["source_id"] == "********3210"


def test_the_packs_own_tests_pass() -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["test", str(PACK)])
    last = out.getvalue().strip().splitlines()[-1]
    assert status == 0, out.getvalue() + err.getvalue()
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last
