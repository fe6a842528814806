"""Fixtures for the identity-linking tests: real stores (SQLite file, redis-server, memory)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.identity.link_sqlite import SqliteStore
from gateway.identity.link_store import LinkStore, MemoryStore
from gateway.identity.linker import close_linkers
from tests.identity.redis_kit import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LinkStore]:
    """Each store kind, empty."""
    made: LinkStore
    if request.param == "memory":
        made = MemoryStore(f"memory://{uuid.uuid4().hex}")
    elif request.param == "sqlite":
        made = SqliteStore(str(tmp_path / "ids.db"))
    else:
        from gateway.identity.link_redis import RedisStore

        server: RedisServer = request.getfixturevalue("shared_redis")
        made = RedisStore(server.url, 2.0, prefix=f"t{uuid.uuid4().hex}:")
    yield made
    await made.close()


@pytest.fixture(autouse=True)
async def _linkers_closed() -> AsyncIterator[None]:
    yield
    await close_linkers()
