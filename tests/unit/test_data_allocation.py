"""Shard allocation, promotion and reroute as pure functions (`node.data.allocation`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from node.data.allocation import ShardCopy, copies_of, failed, reroute, routing_view, started
from node.data.index_metadata import IndexMetadata, indices_of, with_index_metadata

NODES = ["n1", "n2", "n3"]


def new_index(shards: int = 3, replicas: int = 1, name: str = "logs", **settings: str) -> dict[str, Any]:
    user = {"index.number_of_shards": str(shards), "index.number_of_replicas": str(replicas), **settings}
    index = IndexMetadata.create(name, user, uuid=f"{name}-uuid", creation_date=1, version_created="9.1.0")
    return with_index_metadata({}, index)


def start_all(metadata: Any, nodes: list[str] = NODES) -> Any:
    """Reports every initializing copy started and reroutes, until nothing initializes any more."""
    metadata = reroute(metadata, nodes)
    for _ in range(10):
        initializing = [
            (name, shard_id, c.node)
            for name in indices_of(metadata)
            for shard_id, copies in enumerate(copies_of(metadata, name))
            for c in copies
            if c.state == "INITIALIZING"
        ]
        if not initializing:
            return metadata
        for name, shard_id, node in initializing:
            uuid = indices_of(metadata)[name].uuid
            metadata = reroute(started(metadata, name, uuid, shard_id, node), nodes)
    raise AssertionError("allocation did not settle")


def nodes_of(metadata: Any, index: str = "logs") -> list[list[str | None]]:
    return [[c.node for c in shard] for shard in copies_of(metadata, index)]


def test_a_new_index_gets_primaries_spread_over_the_data_nodes() -> None:
    metadata = reroute(new_index(), NODES)
    shards = copies_of(metadata, "logs")
    primaries = [shard[0] for shard in shards]
    assert [p.node for p in primaries] == ["n1", "n2", "n3"]
    assert all(p.state == "INITIALIZING" and p.recovery == "EMPTY_STORE" for p in primaries)
    assert all(not r.assigned for shard in shards for r in shard[1:]), "replicas wait for their primary"


def test_replicas_are_allocated_once_primaries_started_and_never_beside_their_primary() -> None:
    metadata = start_all(new_index())
    layout = nodes_of(metadata)
    assert all(len(set(copies)) == len(copies) for copies in layout)
    assert Counter(node for copies in layout for node in copies) == {"n1": 2, "n2": 2, "n3": 2}
    assert all(c.state == "STARTED" for shard in copies_of(metadata, "logs") for c in shard)
    assert indices_of(metadata)["logs"].in_sync == tuple(frozenset(copies) for copies in layout)


def test_more_replicas_than_nodes_stay_unassigned() -> None:
    metadata = start_all(new_index(shards=1, replicas=3))
    (shard,) = copies_of(metadata, "logs")
    assert sorted(c.node for c in shard if c.assigned) == NODES
    assert [c.state for c in shard if not c.assigned] == ["UNASSIGNED"]


def test_a_departed_primary_is_replaced_by_its_in_sync_replica_with_a_new_primary_term() -> None:
    metadata = start_all(new_index())
    layout = nodes_of(metadata)
    lost = layout[0][0]
    metadata = reroute(metadata, [n for n in NODES if n != lost])
    shard0 = copies_of(metadata, "logs")[0]
    assert shard0[0].primary and shard0[0].node == layout[0][1] and shard0[0].state == "STARTED"
    assert indices_of(metadata)["logs"].primary_terms[0] == 2
    assert lost not in indices_of(metadata)["logs"].in_sync[0]


def test_departed_copies_are_reallocated_to_the_remaining_nodes() -> None:
    metadata = start_all(new_index())
    metadata = start_all(metadata, ["n1", "n2"])
    layout = nodes_of(metadata)
    assert all(sorted(copies) == ["n1", "n2"] for copies in layout)


def test_a_primary_without_replica_stays_unassigned_until_its_node_returns() -> None:
    metadata = start_all(new_index(shards=1, replicas=0))
    holder = nodes_of(metadata)[0][0]
    assert holder is not None
    others = [n for n in NODES if n != holder]
    metadata = reroute(metadata, others)
    (shard,) = copies_of(metadata, "logs")
    assert shard[0].state == "UNASSIGNED" and shard[0].reason == "NODE_LEFT"
    assert indices_of(metadata)["logs"].in_sync[0] == {holder}, "the data may come back: keep it in sync"
    metadata = reroute(metadata, NODES)
    (shard,) = copies_of(metadata, "logs")
    assert shard[0].node == holder and shard[0].recovery == "EXISTING_STORE"


def test_a_failed_replica_leaves_the_in_sync_set_and_is_allocated_again() -> None:
    metadata = start_all(new_index(shards=1, replicas=1))
    primary, replica = nodes_of(metadata)[0]
    assert replica is not None
    metadata = failed(metadata, "logs", "logs-uuid", 0, replica)
    assert indices_of(metadata)["logs"].in_sync[0] == {primary}
    (shard,) = copies_of(metadata, "logs")
    assert shard[1] == ShardCopy(None, False, "UNASSIGNED", "ALLOCATION_FAILED")


def test_started_ignores_a_copy_of_an_index_recreated_with_another_uuid() -> None:
    metadata = reroute(new_index(), NODES)
    node = copies_of(metadata, "logs")[0][0].node
    assert node is not None
    assert started(metadata, "logs", "other-uuid", 0, node) is metadata


def test_reroute_returns_the_same_object_when_nothing_changes() -> None:
    metadata = start_all(new_index())
    assert reroute(metadata, NODES) is metadata


def test_auto_expand_replicas_follow_the_number_of_data_nodes() -> None:
    metadata = start_all(new_index(shards=1, replicas=0, **{"index.auto_expand_replicas": "0-1"}))
    assert indices_of(metadata)["logs"].number_of_replicas == 1
    metadata = start_all(metadata, ["n1"])
    assert indices_of(metadata)["logs"].number_of_replicas == 0
    assert len(copies_of(metadata, "logs")[0]) == 1


def test_allocation_enable_none_allocates_nothing() -> None:
    metadata = reroute(new_index(), NODES, "none")
    assert all(not c.assigned for shard in copies_of(metadata, "logs") for c in shard)


def test_a_legacy_flat_entry_gets_routing() -> None:
    metadata = reroute(
        {"indices": {".tasks": {"index.number_of_shards": "1", "index.auto_expand_replicas": "0-1"}}}, NODES
    )
    assert len(copies_of(metadata, ".tasks")) == 1


def test_the_reader_view_fails_copies_of_departed_nodes_at_once() -> None:
    metadata = start_all(new_index())
    view = routing_view(metadata, {"n1", "n2"})
    assert not any(c.node == "n3" for shard in copies_of(view, "logs") for c in shard)
    assert routing_view(metadata, set(NODES)) == metadata
