"""The per-process linker: cached stamping, background learning, faults, replicas (SPEC 4.1)."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from gateway.identity.link_store import MemoryStore
from gateway.identity.linker import Linker, settle
from gateway.identity.omni_id import omni_id
from tests.identity.redis_kit import RedisServer, free_port

P = omni_id(b"k", "phone", "+14155550100")
E = omni_id(b"k", "email", "jane@example.com")
Q = omni_id(b"k", "phone", "+14155550199")


def memory_url() -> str:
    return f"memory://{uuid.uuid4().hex}"


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `check()` holds (the background task runs every half second)."""
    for _ in range(int(within / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


def errors(operation: str) -> float:
    value = REGISTRY.get_sample_value(
        "omnigate_identity_store_errors_total", {"operation": operation}
    )
    return value or 0.0


async def test_unseen_id_is_its_own_then_its_cluster_once_looked_up() -> None:
    url = memory_url()
    await MemoryStore(url).link([P, E])
    linker = Linker(url)
    assert linker.resolve(E) == E  # not cached yet: never waits for the store
    await eventually(lambda: linker.resolve(E) == P)


async def test_settle_looks_unseen_ids_up_once_before_stamping() -> None:
    url = memory_url()
    await MemoryStore(url).link([P, E])
    linker = Linker(url)
    runs: list[str] = []

    def stamp() -> str:
        runs.append(linker.resolve(E))
        return runs[-1]

    assert await settle(linker, stamp) == P
    assert runs == [E, P]  # ran again with the answer cached
    assert await settle(linker, stamp) == P
    assert runs == [E, P, P]  # warm: once, no store call


async def test_learning_two_new_ids_keeps_the_first_and_reaches_the_store() -> None:
    url = memory_url()
    linker = Linker(url)
    assert linker.learn([P, E]) == P  # what the store will decide, before it does
    await eventually(lambda: linker.resolve(E) == P)
    assert (await MemoryStore(url).cluster(E)).id == P


async def test_learning_predicts_the_older_cluster() -> None:
    url = memory_url()
    await MemoryStore(url).link([Q, E])
    linker = Linker(url)
    await linker.fetch([E])
    assert linker.learn([P, E]) == Q  # E's cluster is older than the new phone P


async def test_resolve_from_another_thread_never_raises() -> None:
    url = memory_url()
    linker = Linker(url)
    linker.resolve(P)  # starts the task on this loop
    found: list[str] = []
    thread = threading.Thread(target=lambda: found.append(linker.resolve(E)))
    thread.start()
    thread.join()
    assert found == [E]
    await eventually(lambda: E in linker._cache)


async def test_unreachable_store_means_unlinked_ids_a_metric_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    before = errors("refresh")
    linker = Linker(url, timeout=0.2)
    with caplog.at_level(logging.WARNING, logger="gateway.identity.linker"):
        assert linker.resolve(P) == P
        assert linker.learn([P, E]) == P
        await eventually(lambda: errors("refresh") >= before + 2)  # several failed rounds
        assert linker.resolve(E) == E
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per call
    assert "127.0.0.1" in warnings[0].getMessage()
    assert linker.down


async def test_redis_stopped_mid_test_keeps_stamping_and_learning_resumes(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    linker = Linker(redis_server.url, timeout=0.2)
    linker.learn([P, E])
    await eventually(lambda: linker.resolve(E) == P)
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="gateway.identity.linker"):
        assert linker.resolve(E) == P  # cached: the outage changes nothing already known
        assert linker.learn([Q, E]) == P  # queued until the store is back
        assert linker.resolve(omni_id(b"k", "phone", "+14155550142")) is not None
        await eventually(lambda: linker.down)
        redis_server.start()  # same port, empty (no persistence in the tests)
        await eventually(lambda: not linker.down)
    from gateway.identity.link_redis import RedisStore

    check = RedisStore(redis_server.url, 2.0)
    try:
        for _ in range(200):  # the queued link is learned after all (into the emptied store)
            if Q in (await check.cluster(E)).members:
                break
            await asyncio.sleep(0.05)
        assert (await check.cluster(E)).members == (Q, E)
        await eventually(lambda: linker.resolve(E) == Q)  # the reset store is re-read whole
    finally:
        await check.close()
    assert any("is back" in r.getMessage() for r in caplog.records)


async def test_two_replicas_sharing_redis_agree(shared_redis: RedisServer) -> None:
    prefix_free_url = shared_redis.url + f"?client_name=a{uuid.uuid4().hex[:6]}"
    first = Linker(prefix_free_url)
    second = Linker(shared_redis.url + "?client_name=b")
    email = omni_id(b"k", "email", f"{uuid.uuid4().hex}@example.com")
    phone = omni_id(b"k", "phone", uuid.uuid4().hex)
    assert second.resolve(email) == email
    await eventually(lambda: email in second._cache)  # cached as linked to nothing
    first.learn([phone, email])
    # the second replica sees the link through the store's change log, without a miss
    await eventually(lambda: second.resolve(email) == phone)
    assert first.resolve(email) == phone
    await first.close()
    await second.close()


async def test_two_replicas_joining_at_once_agree(shared_redis: RedisServer) -> None:
    first = Linker(shared_redis.url + "?client_name=c")
    second = Linker(shared_redis.url + "?client_name=d")
    ids = [omni_id(b"k", "email", f"{uuid.uuid4().hex}@x.com") for _ in range(4)]
    first.learn([ids[0], ids[1]])
    second.learn([ids[2], ids[1]])
    first.learn([ids[3], ids[2]])
    await eventually(lambda: len({first.resolve(i) for i in ids}) == 1)
    await eventually(lambda: {second.resolve(i) for i in ids} == {first.resolve(ids[0])})
    await first.close()
    await second.close()


async def test_settle_stamps_gives_a_response_its_cluster_id_on_first_sight() -> None:
    from gateway.identity import IdentityResolver
    from gateway.identity.stamp import compile_stamps, settle_stamps

    url = memory_url()
    resolver = IdentityResolver.compile({"linking": {"store": url}}, {"OMNIGATE_ID_SECRET": "s"})
    phone = omni_id(b"s", "phone", "+14155550100")
    email = omni_id(b"s", "email", "jane@example.com")
    await MemoryStore(url).link([phone, email])
    stamper = compile_stamps([{"at": "$.payload", "email": "$.email"}], ("routes", 0), resolver)
    doc = {"payload": {"email": "jane@example.com"}}
    assert await settle_stamps([stamper], doc) == 1
    assert doc["payload"]["omni_customer_id"] == phone  # not the email's own id
