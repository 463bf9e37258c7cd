"""`cluster:monitor/nodes/stats` and its `[n]` action: what `GET /_nodes/stats` and monitoring tools read.

Every node reports itself (ES `NodeService#stats`): the machine and process through the `MonitorService` probes,
messages and bytes its transport moved, the REST server's connections, its tasks mapped onto ES's thread pools, and
the `indices` section summed over the shard copies it holds, from the operations those copies really served. The
coordinating node fans out like ES `TransportNodesStatsAction`, so the request leaves ES's task tree.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.support.nodes_action import TransportNodesAction
from node.actions.support.services import NodeServices
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.action_names import NODES_STATS
from node.common.time_value import TimeValue
from node.data.allocation import ShardCopy, routing_of
from node.data.index_metadata import indices_of
from node.errors import FailedNodeError
from node.indices.shard_stats import INDEX_METRICS, add_stats, empty_common_stats
from node.monitor.sections import breakers, idle_sections, thread_pools
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = [
    "LEVELS",
    "NODE_METRICS",
    "LocalCopy",
    "NodesStatsAction",
    "NodesStatsRequest",
    "NodesStatsResponse",
    "local_copies",
    "local_node_stats",
]

# ES `NodesStatsRequestParameters.Metric`, plus `indices`, which takes index metrics of its own.
NODE_METRICS = (
    "os",
    "process",
    "jvm",
    "thread_pool",
    "fs",
    "transport",
    "http",
    "breaker",
    "script",
    "discovery",
    "ingest",
    "adaptive_selection",
    "script_cache",
    "indexing_pressure",
    "repositories",
    "allocations",
)
LEVELS = ("node", "indices", "shards")
_IDLE = ("script", "discovery", "ingest", "adaptive_selection", "script_cache", "indexing_pressure", "repositories")


@dataclass(frozen=True, slots=True)
class NodesStatsRequest:
    """`metrics` empty: every section; `index_metrics` empty: every `indices` section."""

    nodes: Sequence[str] = ()
    metrics: Sequence[str] = ()
    index_metrics: Sequence[str] = ()
    level: str = "node"
    timeout: TimeValue | None = None


@dataclass(slots=True)
class NodesStatsResponse:
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LocalCopy:
    """A shard copy the routing assigns to this node."""

    index: str
    uuid: str
    shard: int
    copy: ShardCopy


def local_copies(state: ClusterState, node_id: str) -> list[LocalCopy]:
    """The copies of every index this node holds, by index name and shard (ES `IndicesService`'s shards)."""
    indices = indices_of(state.metadata)
    out: list[LocalCopy] = []
    for name, routing in sorted(routing_of(state.metadata).items()):
        index = indices.get(name)
        if index is None:
            continue
        for shard_id, copies in enumerate(routing):
            out.extend(LocalCopy(name, index.uuid, shard_id, c) for c in copies if c.node == node_id)
    return out


def _selected(stats: Mapping[str, Any], index_metrics: Sequence[str]) -> dict[str, Any]:
    if not index_metrics:
        return dict(stats)
    wanted = {INDEX_METRICS[m] for m in index_metrics}
    return {k: v for k, v in stats.items() if k in wanted}


async def _copy_stats(services: NodeServices, node_id: str) -> tuple[list[LocalCopy], dict[Any, dict[str, Any]]]:
    copies = local_copies(services.cluster.state(), node_id)
    per_copy = await services.shards.copy_stats(
        [(c.uuid, c.shard) for c in copies], services.search_contexts.open_by_shard()
    )
    return copies, per_copy


def _indices_section(
    copies: list[LocalCopy], per_copy: Mapping[Any, Mapping[str, Any]], index_metrics: Sequence[str], level: str
) -> dict[str, Any]:
    total = empty_common_stats()
    by_index: dict[str, dict[str, Any]] = {}
    by_shard: dict[str, list[dict[str, Any]]] = {}
    for c in copies:
        stats = per_copy.get((c.uuid, c.shard))
        if stats is None:
            continue
        add_stats(total, stats)
        add_stats(by_index.setdefault(c.index, empty_common_stats()), stats)
        by_shard.setdefault(c.index, []).append({str(c.shard): _selected(stats, index_metrics)})
    total["mappings"] = {
        "total_count": len({c.index for c in copies}),
        "total_estimated_overhead_in_bytes": 0,
        "total_segments": total["segments"]["count"],
        "total_segment_fields": 0,
        "average_fields_per_segment": 0,
    }
    ordered = {key: total[key] for key in INDEX_METRICS.values() if key in total}
    section = _selected(ordered, index_metrics)
    if level == "indices":
        section["indices"] = {name: _selected(stats, index_metrics) for name, stats in by_index.items()}
    elif level == "shards":
        section["shards"] = by_shard
    return section


def _allocations(copies: list[LocalCopy], per_copy: Mapping[Any, Mapping[str, Any]]) -> dict[str, Any]:
    """ES `NodeAllocationStats` of this node's started copies, their disk usage being the simulated store size."""
    active = [per_copy[(c.uuid, c.shard)] for c in copies if c.copy.active and (c.uuid, c.shard) in per_copy]
    size = sum(int(stats["store"]["size_in_bytes"]) for stats in active)
    return {
        "shards": len(active),
        "undesired_shards": 0,
        "forecasted_ingest_load": 0.0,
        "forecasted_disk_usage_in_bytes": size,
        "current_disk_usage_in_bytes": size,
    }


async def local_node_stats(
    services: NodeServices,
    node: DiscoveryNode,
    metrics: Sequence[str] = (),
    index_metrics: Sequence[str] = (),
    level: str = "node",
) -> dict[str, Any]:
    """This node's entry of a nodes-stats response, in ES `NodeStats` field order; `metrics` empty: every section."""
    wanted = set(metrics) if metrics else {*NODE_METRICS, "indices"}
    monitor = services.monitor
    probed: dict[str, Any] = {}
    probes: dict[str, Callable[[], dict[str, Any]]] = {
        "os": monitor.os.stats,
        "process": monitor.process.stats,
        "jvm": monitor.jvm.stats,
        "fs": monitor.fs.stats,
    }
    need_heap = bool(wanted & {"breaker", "indexing_pressure"})
    for name, probe in probes.items():
        if name in wanted or (name == "jvm" and need_heap):
            probed[name] = await asyncio.to_thread(probe)  # probes read /proc: off the event loop
    out: dict[str, Any] = {
        "timestamp": time.time_ns() // 1_000_000,
        "name": node.name,
        "transport_address": node.transport_address,
        "host": node.host,
        "ip": node.transport_address,
        "roles": sorted(node.roles),
    }
    if node.attributes:
        out["attributes"] = dict(node.attributes)
    copies: list[LocalCopy] = []
    per_copy: dict[Any, dict[str, Any]] = {}
    if wanted & {"indices", "allocations"}:
        copies, per_copy = await _copy_stats(services, node.id)
    if "indices" in wanted:
        out["indices"] = _indices_section(copies, per_copy, index_metrics, level)
    for name in ("os", "process", "jvm"):
        if name in wanted:
            out[name] = probed[name]
    if "thread_pool" in wanted:
        running = [t.action for t in services.task_manager.tasks()]
        out["thread_pool"] = thread_pools(running, services.task_manager.completed)
    if "fs" in wanted:
        out["fs"] = probed["fs"]
    if "transport" in wanted:
        peers = len(services.cluster.state().nodes) - 1
        out["transport"] = services.transport.stats.to_xcontent(server_open=max(peers, 0))
    if "http" in wanted:
        out["http"] = monitor.http.stats()
    heap = probed.get("jvm", {}).get("mem", {})
    if "breaker" in wanted:
        out["breakers"] = breakers(heap.get("heap_max_in_bytes", 0), heap.get("heap_used_in_bytes", 0))
    idle = idle_sections(heap.get("heap_max_in_bytes", 0))
    for name in _IDLE:
        if name in wanted:
            out[name] = idle[name]
    if "allocations" in wanted and node.is_data:
        out["allocations"] = _allocations(copies, per_copy)
    return out


class NodesStatsAction(
    TransportNodesAction[NodesStatsRequest, NodesStatsResponse, pb.NodesStatsNodeRequest, pb.NodesStatsNodeResponse]
):
    name = NODES_STATS
    node_request_type = pb.NodesStatsNodeRequest
    node_response_type = pb.NodesStatsNodeResponse

    def new_node_request(self, request: NodesStatsRequest) -> pb.NodesStatsNodeRequest:
        return pb.NodesStatsNodeRequest(
            metrics=list(request.metrics), index_metrics=list(request.index_metrics), level=request.level
        )

    async def node_operation(self, task: Task, request: pb.NodesStatsNodeRequest) -> pb.NodesStatsNodeResponse:
        stats = await local_node_stats(
            self.services, self.local_node, list(request.metrics), list(request.index_metrics), request.level or "node"
        )
        return pb.NodesStatsNodeResponse(stats_json=json.dumps(stats, separators=(",", ":")))

    def new_response(
        self,
        request: NodesStatsRequest,
        responses: Mapping[str, pb.NodesStatsNodeResponse],
        failures: list[FailedNodeError],
    ) -> NodesStatsResponse:
        return NodesStatsResponse({n: json.loads(r.stats_json) for n, r in responses.items()}, failures)
