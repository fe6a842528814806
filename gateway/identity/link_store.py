"""Where linked ids are kept, chosen by URL (SPEC 4.1): `sqlite:///path`, `redis://`, `memory://`.

Every store holds omnichannel ids only (keyed hashes, `omni_...`), never a phone or an email.
Besides the clusters, each store keeps a change log: a generation number that every join or
split increments, and the ids it touched, so that replicas refresh only what changed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from gateway.identity import clusters
from gateway.identity.clusters import CHANGE_LOG_LENGTH, Cluster, MemoryTable, Row

T = TypeVar("T")
Lookup = dict[str, tuple[str, int]]  # linked id -> (its cluster id, that id's seq)
Changes = tuple[int, list[str] | None]  # (generation, changed ids; None: refresh everything)


class LinkStore(Protocol):
    url: str  # without its password: safe to log

    async def link(self, ids: Sequence[str], manual: bool = False) -> Cluster:
        """Join; `manual` (an operator) also links ids split off by hand."""
        ...

    async def unlink(self, omni_id: str) -> Cluster: ...
    async def cluster(self, omni_id: str) -> Cluster: ...
    async def lookup(self, ids: Sequence[str]) -> Lookup:
        """The linked ones among `ids`; an id absent from the answer is linked to nothing."""
        ...

    async def changes(self, since: int | None) -> Changes:
        """Ids that resolve differently since generation `since` (None: just the generation)."""
        ...

    async def close(self) -> None: ...


def open_store(url: str, timeout: float) -> LinkStore:
    """A store client for `url` (checked by `linking.check_store_url` at load); never connects
    here: connections are made on first use, so a store that is down fails no start-up."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return SqliteStore(sqlite_path(url))
    if scheme in ("redis", "rediss", "unix"):
        from gateway.identity.link_redis import RedisStore  # the redis package loads only here

        return RedisStore(url, timeout)
    return MemoryStore(url)


def sqlite_path(url: str) -> str:
    """`sqlite:///rel/path` is relative, `sqlite:////abs/path` absolute (SQLAlchemy's form)."""
    return url[len("sqlite:///") :]


def redact(url: str) -> str:
    """The URL without a password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


_MEMORY: dict[str, MemoryTable] = {}  # memory://NAME: one table per name for the process


class MemoryStore:
    """One process's clusters in dicts (tests and trials; nothing survives a restart)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._table = _MEMORY.setdefault(url, MemoryTable())

    async def link(self, ids: Sequence[str], manual: bool = False) -> Cluster:
        return clusters.link(self._table, ids, manual)

    async def unlink(self, omni_id: str) -> Cluster:
        return clusters.unlink(self._table, omni_id)

    async def cluster(self, omni_id: str) -> Cluster:
        return clusters.cluster_of(self._table, omni_id)

    async def lookup(self, ids: Sequence[str]) -> Lookup:
        return _lookup(self._table.row, ids)

    async def changes(self, since: int | None) -> Changes:
        table = self._table
        if since is None or since == table.generation:
            return table.generation, []
        newer = [(gen, ids) for gen, ids in table.log if gen > since]
        if since > table.generation or not newer or newer[0][0] != since + 1:
            return table.generation, None
        return table.generation, [i for _, ids in newer for i in ids]

    async def close(self) -> None:
        return None


def _lookup(row_of: Callable[[str], Row | None], ids: Iterable[str]) -> Lookup:
    found: Lookup = {}
    for omni_id in ids:
        row = row_of(omni_id)
        if row is not None:
            head = row_of(row.cluster)
            found[omni_id] = (row.cluster, head.seq if head is not None else row.seq)
    return found


_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, cluster TEXT NOT NULL, alias INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_cluster ON links (cluster);
CREATE TABLE IF NOT EXISTS pinned (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (generation INTEGER NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_generation ON changes (generation);
"""


class _SqliteTable:
    """`clusters.Table` over one connection, inside the caller's transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def row(self, omni_id: str) -> Row | None:
        found = self._db.execute(
            "SELECT seq, cluster, alias FROM links WHERE id = ?", (omni_id,)
        ).fetchone()
        return None if found is None else Row(found[0], found[1], bool(found[2]))

    def members(self, cluster: str) -> list[tuple[str, Row]]:
        rows = self._db.execute(
            "SELECT id, seq, cluster, alias FROM links WHERE cluster = ?", (cluster,)
        )
        return [(i, Row(seq, c, bool(alias))) for i, seq, c, alias in rows]

    def put(self, omni_id: str, row: Row) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO links (id, seq, cluster, alias) VALUES (?, ?, ?, ?)",
            (omni_id, row.seq, row.cluster, int(row.alias)),
        )

    def delete(self, omni_id: str) -> None:
        self._db.execute("DELETE FROM links WHERE id = ?", (omni_id,))

    def next_seq(self) -> int:
        return self._bump("seq")

    def pinned(self, omni_id: str) -> bool:
        found = self._db.execute("SELECT 1 FROM pinned WHERE id = ?", (omni_id,)).fetchone()
        return found is not None

    def pin(self, omni_id: str, on: bool) -> None:
        if on:
            self._db.execute("INSERT OR IGNORE INTO pinned (id) VALUES (?)", (omni_id,))
        else:
            self._db.execute("DELETE FROM pinned WHERE id = ?", (omni_id,))

    def changed(self, ids: Iterable[str]) -> None:
        generation = self._bump("generation")
        self._db.executemany(
            "INSERT INTO changes (generation, id) VALUES (?, ?)", ((generation, i) for i in ids)
        )
        self._db.execute(
            "DELETE FROM changes WHERE generation <= ?", (generation - CHANGE_LOG_LENGTH,)
        )

    def generation(self) -> int:
        found = self._db.execute("SELECT value FROM counters WHERE name = 'generation'").fetchone()
        return int(found[0]) if found else 0

    def changes_after(self, generation: int) -> list[tuple[int, str]]:
        rows = self._db.execute(
            "SELECT generation, id FROM changes WHERE generation > ? ORDER BY generation",
            (generation,),
        )
        return [(int(gen), str(omni_id)) for gen, omni_id in rows]

    def _bump(self, name: str) -> int:
        found = self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(found[0])


class _SqliteFile:
    """One connection to one file, used only from its own thread: never on the event loop, and
    shared by every store client of the process (event loops come and go, the file stays)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omnigate-links")

    def connection(self) -> sqlite3.Connection:
        if self.db is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=1.0, isolation_level=None, check_same_thread=False
            )
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never torn
                db.executescript(_SCHEMA)
            except BaseException:
                db.close()
                raise
            self.db = db
        return self.db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


_FILES: dict[str, _SqliteFile] = {}


class SqliteStore:
    """A SQLite file in WAL mode. Several worker processes of one replica may share the file;
    SQLite's locking serialises their writes (`BEGIN IMMEDIATE`, with a busy timeout)."""

    def __init__(self, path: str) -> None:
        self.url = f"sqlite:///{path}"
        self._file = _FILES.setdefault(path, _SqliteFile(path))

    async def link(self, ids: Sequence[str], manual: bool = False) -> Cluster:
        return await self._run(lambda table: clusters.link(table, ids, manual), write=True)

    async def unlink(self, omni_id: str) -> Cluster:
        return await self._run(lambda table: clusters.unlink(table, omni_id), write=True)

    async def cluster(self, omni_id: str) -> Cluster:
        return await self._run(lambda table: clusters.cluster_of(table, omni_id))

    async def lookup(self, ids: Sequence[str]) -> Lookup:
        return await self._run(lambda table: _lookup(table.row, ids))

    async def changes(self, since: int | None) -> Changes:
        def read(table: _SqliteTable) -> Changes:
            generation = table.generation()
            if since is None or since == generation:
                return generation, []
            rows = table.changes_after(since)
            if since > generation or not rows or rows[0][0] != since + 1:
                return generation, None  # fell behind the log (or the file was replaced)
            return generation, [omni_id for _, omni_id in rows]

        return await self._run(read)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._file.thread, self._file.close)

    async def _run(self, work: Callable[[_SqliteTable], T], write: bool = False) -> T:
        def in_thread() -> T:
            db = self._file.connection()
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(_SqliteTable(db))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return await asyncio.get_running_loop().run_in_executor(self._file.thread, in_thread)
