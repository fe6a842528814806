"""The cluster rules (SPEC 4.1) on every store kind: memory, a real SQLite file, a real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.identity.clusters import Cluster, alone, is_omni_id
from gateway.identity.link_store import LinkStore
from gateway.identity.omni_id import omni_id

A, B, C, D, E = (omni_id(b"k", "phone", f"+1415555000{n}") for n in range(5))


def shape(cluster: Cluster) -> tuple[str, list[str], list[str]]:
    return cluster.id, list(cluster.members), list(cluster.aliases)


async def test_two_new_ids_take_the_first_ones_id(store: LinkStore) -> None:
    # the first id (the one whose attribute comes first in identify_by) names the cluster
    assert shape(await store.link([A, B])) == (A, [A, B], [])
    assert shape(await store.cluster(B)) == (A, [A, B], [])


async def test_order_of_the_new_ids_decides(store: LinkStore) -> None:
    assert shape(await store.link([B, A])) == (B, [B, A], [])


async def test_join_keeps_the_older_id_and_the_other_stays_an_alias(store: LinkStore) -> None:
    await store.link([A, B])  # older cluster
    await store.link([C, D])
    joined = await store.link([D, B])
    assert shape(joined) == (A, [A, B, C, D], [C])
    # the loser's id still leads to the customer, naming the current id
    assert shape(await store.cluster(C)) == (A, [A, B, C, D], [C])


async def test_a_new_id_joining_an_old_cluster_takes_its_id(store: LinkStore) -> None:
    await store.link([A, B])
    # C is new: even listed first, the existing (older) cluster wins
    assert shape(await store.link([C, B])) == (A, [A, B, C], [])


@pytest.mark.parametrize(
    ("cut", "left_with", "expected_rest"),
    [
        (B, A, (A, [A, C], [])),  # a plain member leaves; the rest keep their id
        (A, B, (B, [B, C], [])),  # the cluster's id leaves: the next oldest member names it
        (C, A, (A, [A, B], [])),  # the youngest leaves
    ],
)
async def test_unlink_splits_a_member_off_with_its_own_id(
    store: LinkStore, cut: Any, left_with: Any, expected_rest: Any
) -> None:
    await store.link([A, B, C])
    assert shape(await store.unlink(cut)) == (cut, [cut], [])
    assert shape(await store.cluster(cut)) == (cut, [cut], [])
    assert shape(await store.cluster(left_with)) == expected_rest


async def test_unlinking_one_of_two_leaves_both_alone(store: LinkStore) -> None:
    await store.link([A, B])
    await store.unlink(A)
    assert shape(await store.cluster(B)) == (B, [B], [])
    assert await store.lookup([A, B]) == {}  # nothing linked is stored


async def test_unlink_of_an_alias_drops_it_from_the_aliases(store: LinkStore) -> None:
    await store.link([A, B])
    await store.link([C, D])
    await store.link([A, C])  # C becomes an alias of A
    await store.unlink(C)
    assert shape(await store.cluster(A)) == (A, [A, B, D], [])


async def test_ids_never_linked_are_alone_and_not_stored(store: LinkStore) -> None:
    assert await store.cluster(E) == alone(E)
    assert shape(await store.link([E, E])) == (E, [E], [])  # one id links nothing
    assert await store.unlink(E) == alone(E)
    assert await store.lookup([E]) == {}


async def test_lookup_names_cluster_and_its_age(store: LinkStore) -> None:
    await store.link([A, B])
    await store.link([C, D])
    found = await store.lookup([A, B, C, E])
    assert {k: v[0] for k, v in found.items()} == {A: A, B: A, C: C}
    assert found[A][1] < found[C][1]  # A's cluster is the older one
    assert found[A][1] == found[B][1]


async def test_change_log_names_what_changed(store: LinkStore) -> None:
    start, changed = await store.changes(None)
    assert changed == []
    await store.link([A, B])
    generation, changed = await store.changes(start)
    assert generation > start and set(changed) >= {A, B}  # type: ignore[arg-type]
    assert await store.changes(generation) == (generation, [])
    await store.link([C, B])
    _, changed = await store.changes(generation)
    assert C in changed  # type: ignore[operator]
    # a cursor from the future (a store that was reset) asks for a full refresh
    assert (await store.changes(generation + 100))[1] is None


async def test_concurrent_overlapping_joins_agree(store: LinkStore) -> None:
    # many links racing over a chain of ids end as one cluster with the oldest id
    ids = [omni_id(b"k", "email", f"u{n}@example.com") for n in range(12)]
    pairs = [[ids[n], ids[n + 1]] for n in range(len(ids) - 1)]
    await asyncio.gather(*(store.link(pair) for pair in reversed(pairs)))
    clusters = {(await store.cluster(i)).id for i in ids}
    assert len(clusters) == 1
    final = await store.cluster(ids[0])
    assert sorted(final.members) == sorted(ids)
    assert is_omni_id(final.id)


async def test_an_id_split_off_by_hand_is_not_linked_again_by_traffic(store: LinkStore) -> None:
    await store.link([A, B])
    await store.unlink(B)
    # the contact that taught the wrong link comes by again: learned links leave B alone
    assert shape(await store.link([A, B])) == (A, [A], [])
    assert shape(await store.link([C, B])) == (C, [C], [])
    assert await store.lookup([A, B, C]) == {}
    # an operator may still link it; that lifts the pin
    assert shape(await store.link([B, C], manual=True)) == (B, [B, C], [])
    await store.unlink(C)
    await store.link([B, D], manual=True)
    assert shape(await store.link([A, B])) == (B, [B, D, A], [])  # B is free again
