"""`cluster:monitor/stats` and its `[n]` action: `GET /_cluster/stats` (mirrors ES `TransportClusterStatsAction`).

Every node answers with what ES's `ClusterStatsNodeResponse` carries: its roles and version, its `os`, `process`,
`jvm` and `fs` stats, and the stats of the shard copies it holds. The coordinating node sums them into ES's
`indices` (documents of primaries, store of every copy, shard counts per index) and `nodes` (counts by role, memory,
file systems, versions) sections; the status is the health of its applied cluster state.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.nodes_stats import local_copies, local_node_stats
from node.actions.support.nodes_action import TransportNodesAction
from node.cluster.state import ClusterState
from node.common.action_names import CLUSTER_STATS
from node.common.roles import ROLE_ABBREVIATIONS
from node.common.time_value import TimeValue
from node.data.health import cluster_health
from node.data.index_metadata import indices_of
from node.errors import FailedNodeError
from node.indices.shard_stats import add_stats
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["ClusterStatsAction", "ClusterStatsRequest", "ClusterStatsResponse", "cluster_stats_sections"]

_NODE_SECTIONS = ("os", "process", "jvm", "fs")
# ES `ClusterStatsIndices` sums these sections of `CommonStats` over every copy.
_INDEX_SECTIONS = ("store", "fielddata", "query_cache", "completion", "segments")


@dataclass(frozen=True, slots=True)
class ClusterStatsRequest:
    nodes: Sequence[str] = ()
    timeout: TimeValue | None = None


@dataclass(slots=True)
class ClusterStatsResponse:
    """Each node's answer (see `ClusterStatsAction.node_operation`) and the nodes that failed."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


class ClusterStatsAction(
    TransportNodesAction[ClusterStatsRequest, ClusterStatsResponse, pb.NodesStatsNodeRequest, pb.NodesStatsNodeResponse]
):
    name = CLUSTER_STATS
    node_request_type = pb.NodesStatsNodeRequest
    node_response_type = pb.NodesStatsNodeResponse

    def new_node_request(self, request: ClusterStatsRequest) -> pb.NodesStatsNodeRequest:
        return pb.NodesStatsNodeRequest(metrics=list(_NODE_SECTIONS))

    async def node_operation(self, task: Task, request: pb.NodesStatsNodeRequest) -> pb.NodesStatsNodeResponse:
        node = self.local_node
        stats = await local_node_stats(self.services, node, _NODE_SECTIONS)
        copies = local_copies(self.cluster.state(), node.id)
        per_copy = await self.services.shards.copy_stats([(c.uuid, c.shard) for c in copies])
        shards = [
            [c.index, c.copy.primary, per_copy[(c.uuid, c.shard)]] for c in copies if (c.uuid, c.shard) in per_copy
        ]
        answer = {
            "roles": sorted(node.roles),
            "version": node.version,
            "os_info": {
                "name": platform.system(),
                "pretty_name": platform.platform(),
                "arch": platform.machine(),
                "available_processors": os.cpu_count() or 1,
            },
            "stats": {name: stats[name] for name in _NODE_SECTIONS},
            "shards": shards,
        }
        return pb.NodesStatsNodeResponse(stats_json=json.dumps(answer, separators=(",", ":")))

    def new_response(
        self,
        request: ClusterStatsRequest,
        responses: Mapping[str, pb.NodesStatsNodeResponse],
        failures: list[FailedNodeError],
    ) -> ClusterStatsResponse:
        return ClusterStatsResponse({n: json.loads(r.stats_json) for n, r in responses.items()}, failures)


def _min_max_avg(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        return {"min": 0, "max": 0, "avg": 0.0}
    return {"min": min(values), "max": max(values), "avg": sum(values) / len(values)}


def _indices_section(answers: Iterable[Mapping[str, Any]], index_count: int) -> dict[str, Any]:
    shards_per_index: Counter[str] = Counter()
    primaries_per_index: Counter[str] = Counter()
    totals: dict[str, Any] = {}
    docs = {"count": 0, "deleted": 0, "total_size_in_bytes": 0}
    for answer in answers:
        for index, primary, stats in answer["shards"]:
            shards_per_index[index] += 1
            if primary:
                primaries_per_index[index] += 1
                add_stats(docs, stats["docs"])
            add_stats(totals, {name: stats[name] for name in _INDEX_SECTIONS})
    total, primaries = sum(shards_per_index.values()), sum(primaries_per_index.values())
    shards: dict[str, Any] = {}
    if shards_per_index:
        names = list(shards_per_index)
        replication = [(shards_per_index[n] - primaries_per_index[n]) / max(primaries_per_index[n], 1) for n in names]
        shards = {
            "total": total,
            "primaries": primaries,
            "replication": (total - primaries) / primaries if primaries else 0.0,
            "index": {
                "shards": _min_max_avg([shards_per_index[n] for n in names]),
                "primaries": _min_max_avg([primaries_per_index[n] for n in names]),
                "replication": {
                    "min": min(replication),
                    "max": max(replication),
                    "avg": sum(replication) / len(replication),
                },
            },
        }
    empty_segments = {"count": 0, "memory_in_bytes": 0}
    return {
        "count": index_count,
        "shards": shards,
        "docs": docs,
        "store": totals.get("store", {"size_in_bytes": 0, "total_data_set_size_in_bytes": 0, "reserved_in_bytes": 0}),
        "fielddata": totals.get("fielddata", {"memory_size_in_bytes": 0, "evictions": 0}),
        "query_cache": totals.get("query_cache", {"memory_size_in_bytes": 0, "total_count": 0}),
        "completion": totals.get("completion", {"size_in_bytes": 0}),
        "segments": totals.get("segments", empty_segments),
        "mappings": {
            "total_field_count": 0,
            "total_deduplicated_field_count": 0,
            "total_deduplicated_mapping_size_in_bytes": 0,
            "field_types": [],
            "runtime_field_types": [],
        },
        "analysis": {
            "char_filter_types": [],
            "tokenizer_types": [],
            "filter_types": [],
            "analyzer_types": [],
            "built_in_char_filters": [],
            "built_in_tokenizers": [],
            "built_in_filters": [],
            "built_in_analyzers": [],
        },
        "versions": [],
        "dense_vector": {"value_count": 0},
        "sparse_vector": {"value_count": 0},
    }


def _counted(values: Iterable[str], key: str) -> list[dict[str, Any]]:
    return [{key: value, "count": count} for value, count in sorted(Counter(values).items())]


def _nodes_section(answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    n = len(answers)
    role_counts: dict[str, int] = {"total": n, "coordinating_only": 0}
    role_counts.update(dict.fromkeys(sorted(ROLE_ABBREVIATIONS), 0))
    for answer in answers:
        roles = answer["roles"]
        if not roles:
            role_counts["coordinating_only"] += 1
        for role in roles:
            role_counts[role] = role_counts.get(role, 0) + 1
    stats = [a["stats"] for a in answers]
    infos = [a["os_info"] for a in answers]
    mem_total = sum(s["os"]["mem"]["total_in_bytes"] for s in stats)
    mem_free = sum(s["os"]["mem"]["free_in_bytes"] for s in stats)
    fds = [s["process"]["open_file_descriptors"] for s in stats]
    return {
        "count": role_counts,
        "versions": sorted({a["version"] for a in answers}),
        "os": {
            "available_processors": sum(i["available_processors"] for i in infos),
            "allocated_processors": sum(i["available_processors"] for i in infos),
            "names": _counted((i["name"] for i in infos), "name"),
            "pretty_names": _counted((i["pretty_name"] for i in infos), "pretty_name"),
            "architectures": _counted((i["arch"] for i in infos), "arch"),
            "mem": {
                "total_in_bytes": mem_total,
                "adjusted_total_in_bytes": mem_total,
                "free_in_bytes": mem_free,
                "used_in_bytes": mem_total - mem_free,
                "free_percent": round(100 * mem_free / mem_total) if mem_total else 0,
                "used_percent": round(100 * (mem_total - mem_free) / mem_total) if mem_total else 0,
            },
        },
        "process": {
            "cpu": {"percent": sum(s["process"]["cpu"]["percent"] for s in stats)},
            "open_file_descriptors": {
                "min": min(fds, default=0),
                "max": max(fds, default=0),
                "avg": sum(fds) // n if n else 0,
            },
        },
        "jvm": {
            "max_uptime_in_millis": max((s["jvm"]["uptime_in_millis"] for s in stats), default=0),
            "versions": [
                {
                    "version": platform.python_version(),
                    "vm_name": platform.python_implementation(),
                    "vm_version": sys.version.split()[0],
                    "vm_vendor": "Python Software Foundation",
                    "bundled_jdk": False,
                    "using_bundled_jdk": False,
                    "count": n,
                }
            ]
            if n
            else [],
            "mem": {
                "heap_used_in_bytes": sum(s["jvm"]["mem"]["heap_used_in_bytes"] for s in stats),
                "heap_max_in_bytes": sum(s["jvm"]["mem"]["heap_max_in_bytes"] for s in stats),
            },
            "threads": sum(s["jvm"]["threads"]["count"] for s in stats),
        },
        "fs": {
            "total_in_bytes": sum(s["fs"]["total"]["total_in_bytes"] for s in stats),
            "free_in_bytes": sum(s["fs"]["total"]["free_in_bytes"] for s in stats),
            "available_in_bytes": sum(s["fs"]["total"]["available_in_bytes"] for s in stats),
        },
        "plugins": [],
        "network_types": {"transport_types": {"grpc": n}, "http_types": {"aiohttp": n}},
        "discovery_types": {"multi-node": n},
        "packaging_types": [{"flavor": "default", "type": "tar", "count": n}] if n else [],
        "ingest": {"number_of_pipelines": 0, "processor_stats": {}},
    }


def cluster_stats_sections(state: ClusterState, response: ClusterStatsResponse) -> dict[str, Any]:
    """The body of `GET /_cluster/stats` after its `_nodes` header, in ES `ClusterStatsResponse` field order."""
    answers = list(response.nodes.values())
    return {
        "cluster_name": state.cluster_name,
        "cluster_uuid": state.cluster_uuid,
        "timestamp": time.time_ns() // 1_000_000,
        "status": cluster_health(state.metadata, None, set(state.nodes)).status,
        "indices": _indices_section(answers, len(indices_of(state.metadata))),
        "nodes": _nodes_section(answers),
        "snapshots": {
            "current_counts": {
                "snapshots": 0,
                "shard_snapshots": 0,
                "snapshot_deletions": 0,
                "concurrent_operations": 0,
                "cleanups": 0,
            },
            "repositories": {},
        },
        "repositories": {},
    }
