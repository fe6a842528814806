"""Telegram updates: only the sender's own shared contact identifies them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from channel_kit import FIELD, HEADER, TELEGRAM_TOKEN, hook, ref_id, request

from gateway.errors import BadSignature

SENDER = {"id": 111222333, "is_bot": False, "first_name": "Jane", "language_code": "en"}


def update(message: dict[str, Any], kind: str = "message") -> dict[str, Any]:
    base = {
        "message_id": 42,
        "from": SENDER,
        "chat": {"id": 111222333, "first_name": "Jane", "type": "private"},
        "date": 1700000000,
    }
    return {"update_id": 987654321, kind: base | message}


def own_contact(phone: str = "447911123456") -> dict[str, Any]:
    return {"contact": {"phone_number": phone, "first_name": "Jane", "user_id": 111222333}}


def headers(token: str = TELEGRAM_TOKEN) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": token}


@pytest.mark.parametrize("phone", ["447911123456", "+447911123456"])  # with or without +
def test_own_contact_is_stamped(phone: str) -> None:
    doc = update(own_contact(phone))
    result = hook("telegram", "TELEGRAM_SECRET_TOKEN").process(
        request(orjson.dumps(doc), headers())
    )
    expected = ref_id("phone", "+447911123456")
    assert result.outcome == "stamped" and result.set_headers == {HEADER: expected}
    forwarded = orjson.loads(result.body)
    assert forwarded["message"][FIELD] == expected
    del forwarded["message"][FIELD]
    assert forwarded == doc


def test_someone_elses_contact_is_not_counted() -> None:
    doc = update({"contact": {"phone_number": "447911123456", "first_name": "Bob", "user_id": 5}})
    body = orjson.dumps(doc)
    result = hook("telegram", "TELEGRAM_SECRET_TOKEN").process(request(body, headers()))
    assert result.outcome == "no_identity" and result.body is body


def test_contact_card_without_user_id_is_not_counted() -> None:
    doc = update({"contact": {"phone_number": "447911123456", "first_name": "Jane"}})
    assert hook("telegram").process(request(orjson.dumps(doc))).outcome == "no_identity"


def test_plain_text_has_no_identity() -> None:
    body = orjson.dumps(update({"text": "/start"}))
    result = hook("telegram", "TELEGRAM_SECRET_TOKEN").process(request(body, headers()))
    assert result.outcome == "no_identity" and result.body is body


def test_edited_and_business_messages() -> None:
    for kind in ("edited_message", "business_message"):
        doc = update(own_contact(), kind)
        result = hook("telegram").process(request(orjson.dumps(doc)))
        assert FIELD in orjson.loads(result.body)[kind]


def test_callback_query_is_not_a_message() -> None:
    doc = {"update_id": 1, "callback_query": {"id": "1", "from": SENDER, "data": "447911123456"}}
    assert hook("telegram").process(request(orjson.dumps(doc))).outcome == "no_identity"


@pytest.mark.parametrize(
    "given", [None, "wrong", TELEGRAM_TOKEN + "x", TELEGRAM_TOKEN[:-1], "ünïcode"]
)
def test_secret_token_must_match(given: str | None) -> None:
    hdrs = headers(given) if given is not None else {"Content-Type": "application/json"}
    with pytest.raises(BadSignature):
        hook("telegram", "TELEGRAM_SECRET_TOKEN").process(
            request(orjson.dumps(update(own_contact())), hdrs)
        )
