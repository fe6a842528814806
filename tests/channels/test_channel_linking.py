"""Webhooks with identity linking on: a replica that never saw an id stamps its cluster's id on
the first delivery (`CompiledWebhook.process` looks it up once), and re-running an adapter for
that is safe (a Mailgun token is admitted once per delivery, not refused the second time)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from channel_kit import ENV, FIELD, HEADER, MAILGUN_KEY, ref_id, request

from gateway.channels import compile_webhook
from gateway.errors import BadSignature
from gateway.identity import IdentityResolver
from gateway.identity.link_store import MemoryStore

PHONE_ID = ref_id("phone", "+14155557890")
EMAIL_ID = ref_id("email", "jane@example.com")


async def linked_resolver() -> IdentityResolver:
    url = f"memory://{uuid.uuid4().hex}"
    await MemoryStore(url).link([PHONE_ID, EMAIL_ID])  # learned earlier, by another replica
    resolver = IdentityResolver.compile({"linking": {"store": url}}, ENV)
    assert resolver is not None
    return resolver


def mailgun_body() -> bytes:
    ts, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    return urlencode(
        [
            ("timestamp", ts),
            ("token", token),
            ("signature", signature),
            ("from", "Jane <jane@example.com>"),
        ]
    ).encode()


async def test_first_mailgun_delivery_gets_the_cluster_id_and_is_admitted_once() -> None:
    resolver = await linked_resolver()
    hook = compile_webhook(
        {"channel": "mailgun", "path": "/m", "secret_env": "MAILGUN_SIGNING_KEY"}, 0, resolver, ENV
    )
    req = request(mailgun_body(), {"Content-Type": "application/x-www-form-urlencoded"})
    result = await hook.process(req)  # ran twice inside: once unlinked, once with the answer
    assert result.set_headers[HEADER] == PHONE_ID
    assert dict(parse_qsl(result.body.decode()))[FIELD] == PHONE_ID
    with pytest.raises(BadSignature):  # a real replay of the same delivery is still refused
        await hook.process(request(req.body, dict(req.headers)))


async def test_first_generic_delivery_gets_the_cluster_id() -> None:
    resolver = await linked_resolver()
    hook = compile_webhook(
        {"channel": "generic", "path": "/g", "identity": {"email": "$.email"}, "stamp_at": "$"},
        0,
        resolver,
        ENV,
    )
    result = await hook.process(request(orjson.dumps({"email": "jane@example.com"})))
    assert orjson.loads(result.body)[FIELD] == PHONE_ID
    # without the lookup (the adapter alone, cold cache elsewhere) it would have been EMAIL_ID
    other = IdentityResolver.compile(
        {"linking": {"store": "memory://empty-" + uuid.uuid4().hex}}, ENV
    )
    cold = compile_webhook(
        {"channel": "generic", "path": "/g", "identity": {"email": "$.email"}, "stamp_at": "$"},
        0,
        other,
        ENV,
    )
    assert (
        orjson.loads(
            (await cold.process(request(orjson.dumps({"email": "jane@example.com"})))).body
        )[FIELD]
        == EMAIL_ID
    )
