"""Clusters of linked omnichannel ids, and the rules that join and split them (SPEC 4.1).

A cluster is the set of ids known to be one person. Each linked id has a row: the order in which
the store first linked it (`seq`), the id of its cluster, and whether it once was a cluster's id
that lost a join (an alias). Unlinked ids have no row at all: an id alone is its own cluster.

Invariant: a cluster's id is the member with the lowest `seq` (its oldest member). New ids from
one link get their `seq` in the order given, so the caller's first id (the `identify_by`
priority) wins between two ids never seen before. The SQLite and memory stores run these
functions inside one transaction; the Redis store runs the same rules in a Lua script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# `omni_` + 26 characters of lower-case base32 (SPEC 4): nothing else is ever stored.
OMNI_ID = re.compile(r"omni_[a-z2-7]{26}")


def is_omni_id(value: Any) -> bool:
    return isinstance(value, str) and OMNI_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Cluster:
    id: str
    members: tuple[str, ...]  # oldest first; always includes `id`
    aliases: tuple[str, ...] = ()  # former cluster ids that now lead here

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "members": list(self.members), "aliases": list(self.aliases)}


def alone(omni_id: str) -> Cluster:
    """The cluster of an id that is linked to nothing."""
    return Cluster(omni_id, (omni_id,))


@dataclass(frozen=True)
class Row:
    seq: int
    cluster: str
    alias: bool = False


class Table(Protocol):
    """The rows of one store, read and written inside one transaction."""

    def row(self, omni_id: str) -> Row | None: ...
    def members(self, cluster: str) -> list[tuple[str, Row]]: ...
    def put(self, omni_id: str, row: Row) -> None: ...
    def delete(self, omni_id: str) -> None: ...
    def next_seq(self) -> int: ...
    def pinned(self, omni_id: str) -> bool: ...
    def pin(self, omni_id: str, on: bool) -> None: ...
    def changed(self, ids: Iterable[str]) -> None:
        """Record that these ids now resolve differently (one new generation)."""
        ...


def cluster_of(table: Table, omni_id: str) -> Cluster:
    row = table.row(omni_id)
    if row is None:
        return alone(omni_id)
    members = sorted(table.members(row.cluster), key=lambda item: item[1].seq)
    return Cluster(
        row.cluster,
        tuple(member for member, _ in members),
        tuple(member for member, r in members if r.alias),
    )


def link(table: Table, ids: Sequence[str], manual: bool = False) -> Cluster:
    """Join the clusters of `ids` (in priority order); the oldest cluster keeps its id.

    An id split off by hand (`unlink`) is pinned: links learned from traffic leave it alone
    (the contact that taught the wrong link would teach it again), until it is linked by hand.
    """
    distinct = list(dict.fromkeys(ids))
    if len(distinct) < 2:  # one id alone links nothing (and is never stored)
        return cluster_of(table, distinct[0]) if distinct else alone("")
    for omni_id in distinct:
        if manual:
            table.pin(omni_id, False)
        elif table.pinned(omni_id):
            return cluster_of(table, distinct[0])
    rows: dict[str, Row] = {}
    changed: list[str] = []
    for omni_id in distinct:
        row = table.row(omni_id)
        if row is None:
            row = Row(table.next_seq(), omni_id)
            table.put(omni_id, row)
            changed.append(omni_id)
        rows[omni_id] = row
    clusters = {row.cluster for row in rows.values()}
    winner = min(clusters, key=lambda cluster: _seq(table, cluster, rows))
    fresh = set(changed)  # ids first seen now: alone until this join, never a cluster's id
    for loser in clusters - {winner}:
        for member, row in table.members(loser):
            # The losing cluster's id stays resolvable: it becomes an alias of the winner.
            lost = member == loser and loser not in fresh
            table.put(member, Row(row.seq, winner, row.alias or lost))
            changed.append(member)
    if changed:
        table.changed(dict.fromkeys(changed))
    return cluster_of(table, winner)


def unlink(table: Table, omni_id: str) -> Cluster:
    """Split `omni_id` off its cluster: it resolves to itself again; the rest stay together."""
    row = table.row(omni_id)
    table.pin(omni_id, True)
    if row is None:
        return alone(omni_id)
    rest = [(m, r) for m, r in table.members(row.cluster) if m != omni_id]
    table.delete(omni_id)
    changed = [omni_id]
    if len(rest) <= 1:
        for member, _ in rest:  # a cluster of one is no cluster: its member is unlinked
            table.delete(member)
            changed.append(member)
    elif row.cluster == omni_id:
        heir, _ = min(rest, key=lambda item: item[1].seq)
        for member, r in rest:
            table.put(member, Row(r.seq, heir, r.alias and member != heir))
            changed.append(member)
    table.changed(changed)
    return alone(omni_id)


def _seq(table: Table, cluster: str, rows: dict[str, Row]) -> int:
    row = rows.get(cluster) or table.row(cluster)
    assert row is not None  # a cluster id always has its own row
    return row.seq


class MemoryTable:
    """Rows in dicts: the `memory://` store (tests, one process) keeps one of these."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.by_cluster: dict[str, set[str]] = {}
        self.seq = 0
        self.generation = 0
        self.pins: set[str] = set()
        self.log: list[tuple[int, tuple[str, ...]]] = []  # (generation, ids), oldest first

    def row(self, omni_id: str) -> Row | None:
        return self.rows.get(omni_id)

    def members(self, cluster: str) -> list[tuple[str, Row]]:
        return [(m, self.rows[m]) for m in self.by_cluster.get(cluster, ())]

    def put(self, omni_id: str, row: Row) -> None:
        self.delete(omni_id)
        self.rows[omni_id] = row
        self.by_cluster.setdefault(row.cluster, set()).add(omni_id)

    def delete(self, omni_id: str) -> None:
        old = self.rows.pop(omni_id, None)
        if old is not None:
            members = self.by_cluster[old.cluster]
            members.discard(omni_id)
            if not members:
                del self.by_cluster[old.cluster]

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def pinned(self, omni_id: str) -> bool:
        return omni_id in self.pins

    def pin(self, omni_id: str, on: bool) -> None:
        if on:
            self.pins.add(omni_id)
        else:
            self.pins.discard(omni_id)

    def changed(self, ids: Iterable[str]) -> None:
        self.generation += 1
        self.log.append((self.generation, tuple(ids)))
        del self.log[:-CHANGE_LOG_LENGTH]


CHANGE_LOG_LENGTH = 10_000  # generations a replica may fall behind before it refreshes everything
