"""The demo's webhook receiver and its customers view (what upstream sees after stamping)."""

from __future__ import annotations

from typing import Any

from gateway.demo import make_demo_app

HEADER = "X-Omni-Customer-Id"


async def test_webhooks_are_grouped_by_omni_customer(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None))
    deliveries = [
        ("whatsapp", {HEADER: "omni_a"}, b'{"entry": []}', ["omni_a"]),
        ("email", {HEADER: "omni_a"}, b"from=Jane+%3Cjane%40example.com%3E", ["omni_a"]),
        ("whatsapp", {HEADER: "omni_b, omni_c"}, b"{}", ["omni_b", "omni_c"]),  # a batch
        ("whatsapp", {HEADER: "omni_a"}, b"{}", ["omni_a"]),
        ("whatsapp", {}, b'{"statuses": []}', []),  # a receipt: nobody to stamp
    ]
    for channel, headers, body, ids in deliveries:
        resp = await client.post(f"/webhooks/{channel}", data=body, headers=headers)
        assert resp.status == 200
        # the answer names the ids received, so a curl through the gateway shows the stamp
        assert await resp.json() == {"ok": True, "omni_customer_ids": ids}
    resp = await client.get("/api/v1/accounts/1/customers")
    body = await resp.json()
    rows = {row["omni_customer_id"]: row for row in body["payload"]}
    assert [row["omni_customer_id"] for row in body["payload"]] == ["omni_a", "omni_b", "omni_c"]
    assert rows["omni_a"]["channels"] == ["whatsapp", "email"]
    assert rows["omni_a"]["events"] == 3
    assert rows["omni_b"]["channels"] == ["whatsapp"] and rows["omni_b"]["events"] == 1
    assert rows["omni_a"]["last_event"]["bytes"] == 2
    assert body["meta"] == {"count": 3, "unidentified_events": 1}


async def test_customers_start_empty(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None))
    body = await (await client.get("/api/v1/accounts/1/customers")).json()
    assert body == {"meta": {"count": 0, "unidentified_events": 0}, "payload": []}


async def test_meta_verification_handshake(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_demo_app(live_interval=None))
    resp = await client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "anything",
            "hub.challenge": "1158201444",
        },
    )
    assert resp.status == 200
    assert await resp.text() == "1158201444"
    resp = await client.get("/webhooks/whatsapp")
    assert resp.status == 404
