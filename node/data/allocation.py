"""Shard routing and allocation as pure functions (mirrors ES `RoutingTable`, `AllocationService` and the balanced
shards allocator, much simplified).

`metadata["routing"][index]` holds, per shard, the list of its copies, primary first:

    [[{"node": "<id>", "primary": true,  "state": "STARTED"},
      {"node": null,   "primary": false, "state": "UNASSIGNED", "reason": "NODE_LEFT"}], ...]

A copy is `UNASSIGNED` (no node), `INITIALIZING` (assigned, its node is creating or recovering it) or `STARTED`.
Initializing copies carry their recovery source (`EMPTY_STORE`, `EXISTING_STORE`, `PEER`), unassigned and
initializing ones the reason they became unassigned (ES `UnassignedInfo.Reason`).

The rules, each a function here:

- `fail_copies_on_departed_nodes`: a copy on a node that left becomes unassigned; a primary that lost its node is
  replaced by an in-sync started replica (promotion, with a new primary term). Departed copies leave the in-sync
  set only while the shard keeps an active primary, so a full-cluster restart can bring the data back.
- `allocate`: unassigned primaries go to a data node with the fewest shards, restricted to nodes holding in-sync
  data once the shard ever held data (ES `PrimaryShardAllocator`); replicas go anywhere else, but only once their
  primary started; never two copies of a shard on one node.
- `started` / `failed`: what the master does on `internal:cluster/shard/{started,failure}`.
- `reroute` chains: legacy upgrade (done by the caller), departed nodes, auto-expand replicas, allocation.

Every function returns the input metadata object itself when nothing changed, so the master publishes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from node.data.index_metadata import IndexMetadata, indices_of, parse_auto_expand

__all__ = [
    "ShardCopy",
    "allocate",
    "copies_of",
    "fail_copies_on_departed_nodes",
    "failed",
    "initial_routing",
    "reroute",
    "routing_of",
    "routing_view",
    "started",
    "with_routing",
]

State = Literal["UNASSIGNED", "INITIALIZING", "STARTED"]
AllocationEnable = Literal["all", "primaries", "new_primaries", "none"]


@dataclass(frozen=True, slots=True)
class ShardCopy:
    """One copy of one shard (ES `ShardRouting`)."""

    node: str | None
    primary: bool
    state: State
    reason: str | None = None  # ES UnassignedInfo.Reason, for unassigned and initializing copies
    recovery: str | None = None  # EMPTY_STORE, EXISTING_STORE or PEER while initializing

    @property
    def active(self) -> bool:
        return self.state == "STARTED"

    @property
    def assigned(self) -> bool:
        return self.node is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"node": self.node, "primary": self.primary, "state": self.state}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.recovery is not None:
            out["recovery"] = self.recovery
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShardCopy:
        return cls(data.get("node"), bool(data["primary"]), data["state"], data.get("reason"), data.get("recovery"))

    def unassigned(self, reason: str) -> ShardCopy:
        return ShardCopy(None, self.primary, "UNASSIGNED", reason)


Shard = tuple[ShardCopy, ...]
IndexRouting = tuple[Shard, ...]


def initial_routing(shards: int, replicas: int) -> IndexRouting:
    """A new index: every copy unassigned because the index was just created."""
    copy_list = (ShardCopy(None, True, "UNASSIGNED", "INDEX_CREATED"),) + (
        ShardCopy(None, False, "UNASSIGNED", "INDEX_CREATED"),
    ) * replicas
    return (copy_list,) * shards


def routing_of(metadata: Mapping[str, Any]) -> dict[str, IndexRouting]:
    """Every index's routing table, by index name."""
    out: dict[str, IndexRouting] = {}
    for name, shards in (metadata.get("routing") or {}).items():
        out[name] = tuple(tuple(ShardCopy.from_json(c) for c in shard) for shard in shards)
    return out


def copies_of(metadata: Mapping[str, Any], index: str) -> IndexRouting:
    shards = (metadata.get("routing") or {}).get(index) or []
    return tuple(tuple(ShardCopy.from_json(c) for c in shard) for shard in shards)


def _routing_json(routing: IndexRouting) -> list[list[dict[str, Any]]]:
    return [[c.to_json() for c in shard] for shard in routing]


def with_routing(
    metadata: Mapping[str, Any], indices: Mapping[str, IndexMetadata], routing: Mapping[str, IndexRouting]
) -> dict[str, Any]:
    """A copy of `metadata` whose `indices` and `routing` are exactly the given ones (other keys kept)."""
    out = dict(metadata)
    out["indices"] = {name: index.to_json() for name, index in sorted(indices.items())}
    out["routing"] = {name: _routing_json(r) for name, r in sorted(routing.items())}
    return out


def _primary_first(shard: Iterable[ShardCopy]) -> Shard:
    copies = list(shard)
    return tuple([c for c in copies if c.primary] + [c for c in copies if not c.primary])


# ---- departed nodes -------------------------------------------------------------------------------------------


def _fail_node_copies(
    index: IndexMetadata, routing: IndexRouting, failing: set[str], reason: str
) -> tuple[IndexMetadata, IndexRouting]:
    """Fails every copy on a node in `failing`, promoting an in-sync started replica where a primary was lost."""
    terms = list(index.primary_terms)
    in_sync = [set(ids) for ids in index.in_sync]
    shards: list[Shard] = []
    for shard_id, shard in enumerate(routing):
        if not any(c.node in failing for c in shard):
            shards.append(shard)
            continue
        copies = [c.unassigned(reason) if c.node in failing else c for c in shard]
        primary = next(c for c in copies if c.primary)
        if not primary.assigned:
            candidates = sorted(
                (c for c in copies if not c.primary and c.active and c.node in in_sync[shard_id]),
                key=lambda c: c.node or "",
            )
            if candidates:
                chosen = candidates[0]
                copies = [
                    replace(c, primary=True) if c is chosen else replace(c, primary=False) if c is primary else c
                    for c in copies
                ]
                terms[shard_id] += 1
        has_active_primary = any(c.primary and c.active for c in copies)
        if has_active_primary:
            in_sync[shard_id] -= failing
        shards.append(_primary_first(copies))
    updated = replace(index, primary_terms=tuple(terms), in_sync=tuple(frozenset(s) for s in in_sync))
    return updated, tuple(shards)


def fail_copies_on_departed_nodes(
    indices: Mapping[str, IndexMetadata], routing: Mapping[str, IndexRouting], live_nodes: set[str]
) -> tuple[dict[str, IndexMetadata], dict[str, IndexRouting]]:
    out_indices, out_routing = dict(indices), dict(routing)
    for name, index_routing in routing.items():
        departed = {c.node for shard in index_routing for c in shard if c.node is not None and c.node not in live_nodes}
        if departed and name in indices:
            out_indices[name], out_routing[name] = _fail_node_copies(
                indices[name], index_routing, departed, "NODE_LEFT"
            )
    return out_indices, out_routing


def routing_view(metadata: Mapping[str, Any], live_nodes: set[str] | None) -> dict[str, Any]:
    """The metadata as readers should see it: copies on nodes that left are already failed (and replicas promoted).

    ES removes a node and fails its copies in one state update; here the master reroutes right after the node-left
    state, and health, `_cat` and search read this view so that short window never shows a departed copy active.
    """
    if live_nodes is None:
        return dict(metadata)
    routing = routing_of(metadata)
    if not any(c.node is not None and c.node not in live_nodes for r in routing.values() for s in r for c in s):
        return dict(metadata)
    indices, routing = fail_copies_on_departed_nodes(indices_of(metadata), routing, live_nodes)
    return with_routing(metadata, indices, routing)


# ---- replicas -------------------------------------------------------------------------------------------------


def _expanded_replicas(index: IndexMetadata, data_nodes: int) -> int:
    bounds = parse_auto_expand(index.settings.get("index.auto_expand_replicas"))
    if bounds is None:
        return index.number_of_replicas
    low, high = bounds
    return max(low, min(high, max(data_nodes - 1, 0)))


_REMOVAL_ORDER = {"UNASSIGNED": 0, "INITIALIZING": 1, "STARTED": 2}


def _resize_replicas(routing: IndexRouting, replicas: int) -> IndexRouting:
    """Adds unassigned replicas or drops the least advanced ones until each shard has `replicas` replicas."""
    shards: list[Shard] = []
    for shard in routing:
        primary = [c for c in shard if c.primary]
        others = [c for c in shard if not c.primary]
        if len(others) < replicas:
            others += [ShardCopy(None, False, "UNASSIGNED", "REPLICA_ADDED")] * (replicas - len(others))
        elif len(others) > replicas:
            ranked = sorted(range(len(others)), key=lambda i: (_REMOVAL_ORDER[others[i].state], -i))
            dropped = set(ranked[: len(others) - replicas])
            others = [c for i, c in enumerate(others) if i not in dropped]
        shards.append(tuple(primary + others))
    return tuple(shards)


# ---- allocation -----------------------------------------------------------------------------------------------


def _shard_counts(routing: Mapping[str, IndexRouting], nodes: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(nodes, 0)
    for index_routing in routing.values():
        for shard in index_routing:
            for c in shard:
                if c.node in counts:
                    counts[c.node] += 1
    return counts


def _choose(
    candidates: Sequence[str], counts: Mapping[str, int], order: Sequence[str], after: str | None
) -> str | None:
    """The candidate with the fewest shards; ties go to the first node after `after` in node-name order.

    Starting the tie-break after the primary's node spreads a shard's replicas round the ring, which keeps a
    3-shard, 1-replica index on 3 nodes at two copies per node.
    """
    if not candidates:
        return None
    start = order.index(after) + 1 if after in order else 0
    ring = {node: (i - start) % len(order) for i, node in enumerate(order)}
    return min(candidates, key=lambda n: (counts[n], ring[n]))


def allocate(
    indices: Mapping[str, IndexMetadata],
    routing: Mapping[str, IndexRouting],
    data_nodes: Sequence[str],
    enable: AllocationEnable = "all",
) -> dict[str, IndexRouting]:
    """Assigns unassigned copies to `data_nodes` (given in node-name order); primaries of every index first."""
    out = {name: [list(shard) for shard in r] for name, r in routing.items()}
    counts = _shard_counts(routing, data_nodes)
    for want_primary in (True, False):
        for name in sorted(out):
            index = indices.get(name)
            if index is None:
                continue
            for shard_id, shard in enumerate(out[name]):
                for position, copy in enumerate(shard):
                    if copy.assigned or copy.primary != want_primary:
                        continue
                    if not _allowed(enable, copy):
                        continue
                    holders = {c.node for c in shard if c.node is not None}
                    in_sync = index.in_sync[shard_id] if shard_id < len(index.in_sync) else frozenset()
                    primary = next((c for c in shard if c.primary), None)
                    if want_primary:
                        pool = [n for n in data_nodes if n not in holders and (not in_sync or n in in_sync)]
                        recovery = "EXISTING_STORE" if in_sync else "EMPTY_STORE"
                        after = None
                    else:
                        if primary is None or not primary.active:
                            continue  # ES: replicas wait for an active primary
                        pool = [n for n in data_nodes if n not in holders]
                        recovery = "PEER"
                        after = primary.node
                    if not pool:
                        continue
                    chosen = _choose(
                        pool, counts, data_nodes, after if after is not None else _ring_start(shard_id, data_nodes)
                    )
                    if chosen is None:
                        continue
                    shard[position] = ShardCopy(chosen, copy.primary, "INITIALIZING", copy.reason, recovery)
                    counts[chosen] += 1
    return {name: tuple(_primary_first(shard) for shard in shards) for name, shards in out.items()}


def _ring_start(shard_id: int, data_nodes: Sequence[str]) -> str | None:
    """Ties among primaries start at a different node for each shard, so primaries spread too."""
    if not data_nodes:
        return None
    return data_nodes[(shard_id - 1) % len(data_nodes)]


def _allowed(enable: AllocationEnable, copy: ShardCopy) -> bool:
    """ES `EnableAllocationDecider` (`cluster.routing.allocation.enable`)."""
    if enable == "all":
        return True
    if enable == "none":
        return False
    if enable == "primaries":
        return copy.primary
    return copy.primary and copy.reason == "INDEX_CREATED"


# ---- shard state changes --------------------------------------------------------------------------------------


def started(metadata: Mapping[str, Any], index_name: str, uuid: str, shard_id: int, node_id: str) -> Mapping[str, Any]:
    """`internal:cluster/shard/started`: the initializing copy on `node_id` becomes started and in-sync."""
    indices = indices_of(metadata)
    index = indices.get(index_name)
    if index is None or index.uuid != uuid:
        return metadata
    routing = copies_of(metadata, index_name)
    if shard_id >= len(routing):
        return metadata
    shard = routing[shard_id]
    if not any(c.node == node_id and c.state == "INITIALIZING" for c in shard):
        return metadata
    new_shard = tuple(ShardCopy(c.node, c.primary, "STARTED") if c.node == node_id else c for c in shard)
    in_sync = list(index.in_sync)
    in_sync[shard_id] = in_sync[shard_id] | {node_id}
    all_routing = routing_of(metadata)
    all_routing[index_name] = (*routing[:shard_id], new_shard, *routing[shard_id + 1 :])
    indices[index_name] = replace(index, in_sync=tuple(in_sync))
    return with_routing(metadata, indices, all_routing)


def failed(
    metadata: Mapping[str, Any],
    index_name: str,
    uuid: str,
    shard_id: int,
    node_id: str,
    reason: str = "ALLOCATION_FAILED",
) -> Mapping[str, Any]:
    """`internal:cluster/shard/failure`: the copy on `node_id` is failed (a lost primary is replaced)."""
    indices = indices_of(metadata)
    index = indices.get(index_name)
    if index is None or index.uuid != uuid:
        return metadata
    routing = copies_of(metadata, index_name)
    if shard_id >= len(routing) or not any(c.node == node_id for c in routing[shard_id]):
        return metadata
    # Fail the copy of this one shard only: the index's other shards on that node are healthy.
    index_for_shard = replace(index, primary_terms=(index.primary_terms[shard_id],), in_sync=(index.in_sync[shard_id],))
    one_index, one_routing = _fail_node_copies(index_for_shard, (routing[shard_id],), {node_id}, reason)
    terms = list(index.primary_terms)
    terms[shard_id] = one_index.primary_terms[0]
    in_sync = list(index.in_sync)
    in_sync[shard_id] = one_index.in_sync[0]
    indices[index_name] = replace(index, primary_terms=tuple(terms), in_sync=tuple(in_sync))
    all_routing = routing_of(metadata)
    all_routing[index_name] = routing[:shard_id] + one_routing + routing[shard_id + 1 :]
    return with_routing(metadata, indices, all_routing)


# ---- reroute --------------------------------------------------------------------------------------------------


def reroute(
    metadata: Mapping[str, Any], data_nodes: Sequence[str], enable: AllocationEnable = "all"
) -> Mapping[str, Any]:
    """Brings the routing in line with the live data nodes (given in node-name order).

    Copies on nodes that are not live data nodes fail (promoting replicas), auto-expanded replica counts follow
    the number of data nodes, indices without routing get one, and unassigned copies are allocated. Returns
    `metadata` itself when nothing changes.
    """
    indices = indices_of(metadata)
    if not indices:
        return metadata
    routing = routing_of(metadata)
    for name, index in indices.items():
        if name not in routing or len(routing[name]) != index.number_of_shards:
            routing[name] = initial_routing(index.number_of_shards, index.number_of_replicas)
    routing = {name: r for name, r in routing.items() if name in indices}
    indices, routing = fail_copies_on_departed_nodes(indices, routing, set(data_nodes))
    for name, index in list(indices.items()):
        replicas = _expanded_replicas(index, len(data_nodes))
        if replicas != index.number_of_replicas:
            indices[name] = index.with_replicas(replicas)
        if any(len(shard) != replicas + 1 for shard in routing[name]):
            routing[name] = _resize_replicas(routing[name], replicas)
    routing = allocate(indices, routing, data_nodes, enable)
    candidate = with_routing(metadata, indices, routing)
    if candidate.get("indices") == metadata.get("indices") and candidate.get("routing") == metadata.get("routing"):
        return metadata
    return candidate
