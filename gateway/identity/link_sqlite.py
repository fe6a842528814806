"""The SQLite link store (SPEC 4.1): one file in WAL mode, for one replica (its workers share it).

The default store. Every call runs in a thread of its own, never on the event loop; writes take
SQLite's write lock (`BEGIN IMMEDIATE`, with a busy timeout), so the workers of one pod agree.
The file holds omnichannel ids only (see `gateway.identity.clusters` for the rows).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from gateway.identity import clusters
from gateway.identity.clusters import CHANGE_LOG_LENGTH, Cluster, Row
from gateway.identity.link_store import Changes, Lookup, lookup_rows

T = TypeVar("T")

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
        return await self._run(lambda table: lookup_rows(table.row, ids))

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
