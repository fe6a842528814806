"""Where linked ids are kept, chosen by URL (SPEC 4.1): `sqlite:///path`, `redis://`, `memory://`.

Every store holds omnichannel ids only (keyed hashes, `omni_...`), never a phone or an email.
Besides the clusters, each store keeps a change log: a generation number that every join or
split increments, and the ids it touched, so that replicas refresh only what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from gateway.identity import clusters
from gateway.identity.clusters import Cluster, MemoryTable, Row

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
        from gateway.identity.link_sqlite import SqliteStore

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
        return lookup_rows(self._table.row, ids)

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


def lookup_rows(row_of: Callable[[str], Row | None], ids: Iterable[str]) -> Lookup:
    found: Lookup = {}
    for omni_id in ids:
        row = row_of(omni_id)
        if row is not None:
            head = row_of(row.cluster)
            found[omni_id] = (row.cluster, head.seq if head is not None else row.seq)
    return found
