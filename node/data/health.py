"""Cluster health from the shard routing (mirrors ES `ClusterStateHealth`, `ClusterIndexHealth`, `ClusterShardHealth`).

A shard is green when its primary and every replica are started, yellow when the primary is started but a replica
is not (or when a brand-new primary is still initializing from an empty store), red otherwise. An index is the
worst of its shards, the cluster the worst of its indices; with no index at all the cluster is green.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from node.data.aliases import aliases_of
from node.data.allocation import ShardCopy, routing_of, routing_view
from node.data.date_math import resolve_date_math
from node.data.index_metadata import indices_of
from node.errors import IllegalArgumentError

__all__ = [
    "STATUS_ORDER",
    "ClusterHealth",
    "HealthWait",
    "IndexHealth",
    "cluster_health",
    "health_indices",
    "health_levels",
    "overall_status",
    "parse_level",
    "worse",
]

STATUS_ORDER = {"green": 0, "yellow": 1, "red": 2}


def worse(a: str, b: str) -> str:
    return a if STATUS_ORDER[a] >= STATUS_ORDER[b] else b


@dataclass(slots=True)
class ShardHealth:
    status: str = "green"
    primary_active: bool = False
    active_shards: int = 0
    relocating_shards: int = 0
    initializing_shards: int = 0
    unassigned_shards: int = 0
    unassigned_primary_shards: int = 0


@dataclass(slots=True)
class IndexHealth:
    """ES `ClusterIndexHealth`; `shards` by shard id."""

    number_of_shards: int
    number_of_replicas: int
    status: str = "green"
    active_primary_shards: int = 0
    active_shards: int = 0
    relocating_shards: int = 0
    initializing_shards: int = 0
    unassigned_shards: int = 0
    unassigned_primary_shards: int = 0
    shards: dict[int, ShardHealth] = field(default_factory=dict)


@dataclass(slots=True)
class ClusterHealth:
    """The shard counts and status of `GET /_cluster/health` (ES `ClusterStateHealth`)."""

    status: str = "green"
    active_primary_shards: int = 0
    active_shards: int = 0
    relocating_shards: int = 0
    initializing_shards: int = 0
    unassigned_shards: int = 0
    unassigned_primary_shards: int = 0
    indices: dict[str, IndexHealth] = field(default_factory=dict)

    @property
    def active_shards_percent(self) -> float:
        """ES: 100.0 when there is no shard at all."""
        total = self.active_shards + self.initializing_shards + self.unassigned_shards + self.relocating_shards
        return 100.0 if total == 0 else 100.0 * self.active_shards / total


def _shard_health(copies: Iterable[ShardCopy]) -> ShardHealth:
    health = ShardHealth()
    replicas_all_active = True
    for copy in copies:
        if copy.active:
            health.active_shards += 1
            if copy.primary:
                health.primary_active = True
        elif copy.state == "INITIALIZING":
            health.initializing_shards += 1
        else:
            health.unassigned_shards += 1
            if copy.primary:
                health.unassigned_primary_shards += 1
        if not copy.primary and not copy.active:
            replicas_all_active = False
    if health.primary_active:
        health.status = "green" if replicas_all_active else "yellow"
    else:
        primary = next((c for c in copies if c.primary), None)
        # ES ClusterShardHealth#getInactivePrimaryHealth: a new primary recovering from an empty store is yellow.
        brand_new = primary is not None and primary.state == "INITIALIZING" and primary.recovery == "EMPTY_STORE"
        health.status = "yellow" if brand_new else "red"
    return health


def cluster_health(
    metadata: Mapping[str, Any], indices: Iterable[str] | None = None, live_nodes: set[str] | None = None
) -> ClusterHealth:
    """The health of the given indices (every index when None), from the cluster state's metadata.

    With `live_nodes`, copies on other nodes count as failed (`allocation.routing_view`).
    """
    metadata = routing_view(metadata, live_nodes)
    all_indices = indices_of(metadata)
    routing = routing_of(metadata)
    names = sorted(all_indices) if indices is None else [n for n in indices if n in all_indices]
    out = ClusterHealth()
    for name in names:
        index = all_indices[name]
        index_health = IndexHealth(index.number_of_shards, index.number_of_replicas)
        for shard_id, copies in enumerate(routing.get(name, ())):
            shard = _shard_health(copies)
            index_health.shards[shard_id] = shard
            index_health.status = worse(index_health.status, shard.status)
            index_health.active_primary_shards += int(shard.primary_active)
            index_health.active_shards += shard.active_shards
            index_health.relocating_shards += shard.relocating_shards
            index_health.initializing_shards += shard.initializing_shards
            index_health.unassigned_shards += shard.unassigned_shards
            index_health.unassigned_primary_shards += shard.unassigned_primary_shards
        if name not in routing:
            index_health.status = "red"  # known to the metadata, not yet routed: ES shows such an index red
            index_health.unassigned_shards = index.number_of_shards * (index.number_of_replicas + 1)
            index_health.unassigned_primary_shards = index.number_of_shards
        out.indices[name] = index_health
        out.status = worse(out.status, index_health.status)
        out.active_primary_shards += index_health.active_primary_shards
        out.active_shards += index_health.active_shards
        out.relocating_shards += index_health.relocating_shards
        out.initializing_shards += index_health.initializing_shards
        out.unassigned_shards += index_health.unassigned_shards
        out.unassigned_primary_shards += index_health.unassigned_primary_shards
    return out


def health_indices(metadata: Mapping[str, Any], expressions: Iterable[str]) -> list[str] | None:
    """The indices a health request is about: None for the whole cluster; wildcards expanded, missing names kept
    (ES reports a missing index as red rather than failing)."""
    exprs = [e for e in expressions if e]
    if not exprs or exprs in (["_all"], ["*"]):
        return None
    indices = indices_of(metadata)
    known = sorted(indices)
    aliases = aliases_of(indices)
    now = time.time_ns() // 1_000_000
    out: list[str] = []
    for expression in (resolve_date_math(e, now) for e in exprs):
        if "*" in expression:
            pattern = re.compile(".*".join(map(re.escape, expression.split("*"))), re.DOTALL)
            out.extend(n for n in known if pattern.fullmatch(n) and n not in out)
        elif expression in aliases:  # an alias stands for its indices
            out.extend(n for n in aliases[expression] if n not in out)
        elif expression not in out:
            out.append(expression)
    return out


def overall_status(health: ClusterHealth, names: Iterable[str] | None) -> str:
    """The status to report: red when a named index does not exist."""
    if names is not None and any(name not in health.indices for name in names):
        return "red"
    return health.status


@dataclass(frozen=True, slots=True)
class HealthWait:
    """The `wait_for_*` conditions of a health request that depend on the routing."""

    status: str | None = None
    no_initializing_shards: bool = False
    active_shards: str | None = None  # "all" or a number of active copies

    @property
    def waits(self) -> bool:
        return self.status is not None or self.no_initializing_shards or self.active_shards is not None

    def satisfied(
        self, metadata: Mapping[str, Any], names: list[str] | None, live_nodes: set[str] | None = None
    ) -> bool:
        health = cluster_health(metadata, names, live_nodes)
        if self.status is not None and STATUS_ORDER[overall_status(health, names)] > STATUS_ORDER[self.status]:
            return False
        if self.no_initializing_shards and health.initializing_shards:
            return False
        if self.active_shards is None:
            return True
        total = health.active_shards + health.initializing_shards + health.unassigned_shards + health.relocating_shards
        wanted = total if self.active_shards == "all" else int(self.active_shards)
        return health.active_shards >= wanted


def parse_level(value: str | None) -> str:
    """The `level` of a health request: `cluster` (default), `indices` or `shards`."""
    level = value or "cluster"
    if level not in ("cluster", "indices", "shards"):
        raise IllegalArgumentError(
            f"No enum constant org.elasticsearch.action.admin.cluster.health.ClusterHealthRequest.Level.{level.upper()}"
        )
    return level


def health_levels(health: ClusterHealth, level: str) -> dict[str, Any]:
    """The `indices` section of `level=indices` (and its `shards` for `level=shards`), in ES field order."""
    if level == "cluster":
        return {}
    indices: dict[str, Any] = {}
    for name, index in health.indices.items():
        entry: dict[str, Any] = {
            "status": index.status,
            "number_of_shards": index.number_of_shards,
            "number_of_replicas": index.number_of_replicas,
            "active_primary_shards": index.active_primary_shards,
            "active_shards": index.active_shards,
            "relocating_shards": index.relocating_shards,
            "initializing_shards": index.initializing_shards,
            "unassigned_shards": index.unassigned_shards,
            "unassigned_primary_shards": index.unassigned_primary_shards,
        }
        if level == "shards":
            entry["shards"] = {
                str(shard_id): {
                    "status": shard.status,
                    "primary_active": shard.primary_active,
                    "active_shards": shard.active_shards,
                    "relocating_shards": shard.relocating_shards,
                    "initializing_shards": shard.initializing_shards,
                    "unassigned_shards": shard.unassigned_shards,
                    "unassigned_primary_shards": shard.unassigned_primary_shards,
                }
                for shard_id, shard in index.shards.items()
            }
        indices[name] = entry
    return {"indices": indices}
