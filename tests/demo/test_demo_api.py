"""The demo API's REST endpoints, through a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from gateway.demo import make_demo_app

A = "/api/v1/accounts/1"
CONTACT_KEYS = {
    "id",
    "name",
    "email",
    "phone_number",
    "identifier",
    "thumbnail",
    "availability_status",
    "blocked",
    "additional_attributes",
    "custom_attributes",
    "created_at",
    "last_activity_at",
}  # Chatwoot's app/views/api/v1/models/_contact.json.jbuilder
# Contact#push_event_data and User#push_event_data, as message senders (a user has no phone/email)
CONTACT_SENDER_KEYS = CONTACT_KEYS - {"availability_status", "created_at", "last_activity_at"}
USER_SENDER_KEYS = {"id", "name", "available_name", "avatar_url", "type", "availability_status"}
CHANNELS = {
    "Channel::Whatsapp",
    "Channel::Email",
    "Channel::Sms",
    "Channel::TwilioSms",
    "Channel::Telegram",
    "Channel::FacebookPage",
    "Channel::Instagram",
}
E164 = re.compile(r"\+[1-9]\d{6,14}")


@pytest.fixture
async def client(aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    return await aiohttp_client(make_demo_app(live_interval=None))


async def get_json(client: TestClient[Any, Any], path: str, status: int = 200) -> Any:
    resp = await client.get(path)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    return await resp.json()


async def test_contacts_list_is_paged_chatwoot_style(client: TestClient[Any, Any]) -> None:
    first = await get_json(client, f"{A}/contacts")
    assert first["meta"] == {"count": 40, "current_page": 1}
    assert len(first["payload"]) == 15
    last = await get_json(client, f"{A}/contacts?page=3")
    assert last["meta"]["current_page"] == 3
    assert [c["id"] for c in last["payload"]] == list(range(31, 41))
    for contact in first["payload"] + last["payload"]:
        assert set(contact) == CONTACT_KEYS
        assert contact["phone_number"] is None or E164.fullmatch(contact["phone_number"])
        assert set(contact["additional_attributes"]) == {
            "city",
            "country",
            "country_code",
            "company_name",
            "description",
        }
        assert set(contact["custom_attributes"]) == {
            "user_name",
            "user_number",
            "user_email",
            "plan",
        }
        assert isinstance(contact["created_at"], int)


async def test_contact_one_is_jane_doe(client: TestClient[Any, Any]) -> None:
    body = await get_json(client, f"{A}/contacts/1")
    jane = body["payload"]
    assert (jane["name"], jane["phone_number"], jane["email"]) == (
        "Jane Doe",
        "+14155550132",
        "jane.doe@example.com",
    )


@pytest.mark.parametrize(
    "path",
    [
        f"{A}/contacts/999",  # unknown id
        f"{A}/contacts/abc",  # not an id at all
        "/api/v1/accounts/2/contacts",  # the demo serves account 1 only
        f"{A}/conversations/999/messages",
        "/nothing/here",
    ],
)
async def test_unknown_resources_are_json_404(client: TestClient[Any, Any], path: str) -> None:
    assert await get_json(client, path, status=404) == {"error": "not found"}


async def test_unsupported_method_is_json_404(client: TestClient[Any, Any]) -> None:
    resp = await client.delete(f"{A}/contacts/1")
    assert resp.status == 404
    assert await resp.json() == {"error": "not found"}


async def test_same_seed_same_answers(aiohttp_client: Any) -> None:
    paths = [
        f"{A}/contacts?page=2",
        f"{A}/conversations",
        f"{A}/conversations/5/messages",
        "/api/v1/profile",
    ]
    bodies = []
    for seed in (7, 7, 8):
        client = await aiohttp_client(make_demo_app(seed, live_interval=None))
        bodies.append([await get_json(client, p) for p in paths])
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_changes_the_contact_everywhere(
    client: TestClient[Any, Any], method: str
) -> None:
    resp = await client.request(
        method,
        f"{A}/contacts/1",
        json={
            "name": "Jane Q. Doe",
            "phone_number": "+14155550199",
            "custom_attributes": {"plan": "enterprise"},
            "unknown_field": "ignored",
        },
    )
    assert resp.status == 200
    updated = (await resp.json())["payload"]
    assert updated["name"] == "Jane Q. Doe"
    assert updated["phone_number"] == "+14155550199"
    # Attribute objects merge: the other custom attributes stay.
    assert updated["custom_attributes"]["plan"] == "enterprise"
    assert updated["custom_attributes"]["user_email"] == "jane.doe@example.com"
    assert "unknown_field" not in updated
    assert (await get_json(client, f"{A}/contacts/1"))["payload"] == updated
    messages = await get_json(client, f"{A}/conversations/1/messages")
    assert messages["meta"]["contact"]["name"] == "Jane Q. Doe"
    incoming = [m for m in messages["payload"] if m["message_type"] == 0]
    assert {m["sender"]["phone_number"] for m in incoming} == {"+14155550199"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),  # unreadable
        (b"[1, 2]", 400),  # JSON, but not an object
        (b'{"phone_number": "XXX-XXX-0132"}', 422),  # a masked value is not a phone
        (b'{"name": 42}', 422),  # wrong type
        (b'{"custom_attributes": "x"}', 422),  # attributes must be an object
    ],
)
async def test_update_refuses_bad_bodies(
    client: TestClient[Any, Any], body: bytes, status: int
) -> None:
    resp = await client.put(
        f"{A}/contacts/1", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == status
    assert "error" in await resp.json()
    assert (await get_json(client, f"{A}/contacts/1"))["payload"]["name"] == "Jane Doe"


async def test_create_contact(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        f"{A}/contacts",
        json={"name": "Ada Lovelace", "email": "ada@example.org", "phone_number": "+442079460001"},
    )
    assert resp.status == 200
    contact = (await resp.json())["payload"]["contact"]
    assert contact["id"] == 41
    assert set(contact) == CONTACT_KEYS
    assert (await get_json(client, f"{A}/contacts"))["meta"]["count"] == 41
    assert (await get_json(client, f"{A}/contacts/41"))["payload"]["email"] == "ada@example.org"


@pytest.mark.parametrize(
    ("query", "expected_ids"),
    [
        ("jane", {1}),  # by name, case-insensitive
        ("jane.doe@example", {1}),  # by email
        ("+1415555013", {1}),  # by phone prefix
        ("", set()),  # nothing asked, nothing found
    ],
)
async def test_search(client: TestClient[Any, Any], query: str, expected_ids: set[int]) -> None:
    resp = await client.get(f"{A}/contacts/search", params={"q": query})
    body = await resp.json()
    ids = {c["id"] for c in body["payload"]}
    assert expected_ids <= ids if expected_ids else ids == set()
    assert body["meta"]["count"] == len(body["payload"])


async def test_export_is_csv(client: TestClient[Any, Any]) -> None:
    resp = await client.get(f"{A}/contacts/export.csv")
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0][:4] == ["id", "name", "email", "phone_number"]
    assert len(rows) == 41
    assert rows[1][:4] == ["1", "Jane Doe", "jane.doe@example.com", "+14155550132"]


async def test_conversations_list(client: TestClient[Any, Any]) -> None:
    body = await get_json(client, f"{A}/conversations")
    meta, payload = body["data"]["meta"], body["data"]["payload"]
    assert meta["all_count"] >= 40
    assert meta["assigned_count"] + meta["unassigned_count"] == meta["all_count"]
    assert len(payload) == 25
    for conv in payload:
        assert conv["meta"]["channel"] in CHANNELS
        assert set(conv["meta"]["sender"]) == CONTACT_KEYS
        assert {"id", "inbox_id", "status", "messages"} <= set(conv)
        assert len(conv["messages"]) == 1
    second = await get_json(client, f"{A}/conversations?page=2")
    assert len(payload) + len(second["data"]["payload"]) == meta["all_count"]
    channels = {c["meta"]["channel"] for c in payload + second["data"]["payload"]}
    assert len(channels) >= 5


@pytest.mark.parametrize("status", ["open", "pending", "resolved", "snoozed"])
async def test_conversations_filter_by_status(client: TestClient[Any, Any], status: str) -> None:
    body = await get_json(client, f"{A}/conversations?status={status}")
    assert {c["status"] for c in body["data"]["payload"]} <= {status}


async def test_conversation_and_its_messages(client: TestClient[Any, Any]) -> None:
    conv = await get_json(client, f"{A}/conversations/1")
    assert conv["id"] == 1 and conv["meta"]["sender"]["id"] == 1
    body = await get_json(client, f"{A}/conversations/1/messages")
    assert body["meta"]["contact"]["id"] == 1
    assert "assignee" in body["meta"]
    contents = [m["content"] for m in body["payload"]]
    assert "my number is (415) 555-0132, or mail me at jane.doe@example.com" in contents
    for message in body["payload"]:
        assert message["conversation_id"] == 1 and message["content_type"] == "text"
        assert message["message_type"] in (0, 1)
        incoming = message["message_type"] == 0
        assert message["sender"]["type"] == ("contact" if incoming else "user")
        keys = CONTACT_SENDER_KEYS | {"type"} if incoming else USER_SENDER_KEYS | {"thumbnail"}
        assert set(message["sender"]) == keys
    assert conv["messages"][0] == body["payload"][-1]


async def test_post_message(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        f"{A}/conversations/1/messages",
        json={"content": "call +44 20 7946 0958", "message_type": "incoming"},
    )
    assert resp.status == 200
    message = await resp.json()
    assert message["content"] == "call +44 20 7946 0958"
    assert message["sender"]["type"] == "contact" and message["message_type"] == 0
    listed = await get_json(client, f"{A}/conversations/1/messages")
    assert listed["payload"][-1] == message
    resp = await client.post(f"{A}/conversations/1/messages", json={"content": "Noted, thanks"})
    assert (await resp.json())["sender"]["type"] == "user"


@pytest.mark.parametrize(
    "body",
    [
        {},  # no content
        {"content": "   "},  # blank content
        {"content": "hi", "message_type": "bogus"},  # unknown direction
        {"content": "hi", "message_type": [1]},  # not even a scalar
    ],
)
async def test_post_message_validation(client: TestClient[Any, Any], body: dict[str, Any]) -> None:
    resp = await client.post(f"{A}/conversations/1/messages", json=body)
    assert resp.status == 422
    assert "error" in await resp.json()


async def test_profile_holds_only_the_agent(client: TestClient[Any, Any]) -> None:
    profile = await get_json(client, "/api/v1/profile")
    assert profile["name"] == "Alex Morgan"
    assert profile["email"].endswith("@helpdesk.example.com")
    assert "phone_number" not in profile
