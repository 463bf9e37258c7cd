"""`indices:monitor/stats` and its `[n]` node action: the stats of every shard copy (mirrors ES
`TransportIndicesStatsAction`, a broadcast-by-node action).

`_cat/indices` and `_cat/shards` read per-copy document counts from here; `GET /_stats` also asks for each copy's
ES `CommonStats` (`with_stats`). Each node answers for the copies it holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from node.actions.support.nodes_action import TransportNodesAction
from node.cluster.state import ClusterState
from node.common.action_names import INDICES_STATS
from node.errors import FailedNodeError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["IndicesStatsAction", "IndicesStatsRequest", "ShardCopyStats"]

CopyKey = tuple[str, int, str]  # (index uuid, shard, node id)


@dataclass(frozen=True, slots=True)
class IndicesStatsRequest:
    """The indices to count, as index uuid → number of shards; `with_stats`: each copy's `CommonStats` too."""

    shard_counts: Mapping[str, int]
    with_stats: bool = False


@dataclass(slots=True)
class ShardCopyStats:
    docs: dict[CopyKey, int] = field(default_factory=dict)
    stats: dict[CopyKey, dict[str, Any]] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


class IndicesStatsAction(
    TransportNodesAction[IndicesStatsRequest, ShardCopyStats, pb.IndicesStatsNodeRequest, pb.IndicesStatsNodeResponse]
):
    """Counts of the given indices' copies on every data node (each answers for the copies it holds)."""

    name = INDICES_STATS
    node_request_type = pb.IndicesStatsNodeRequest
    node_response_type = pb.IndicesStatsNodeResponse

    def resolve_nodes(self, request: IndicesStatsRequest, state: ClusterState) -> list[str]:
        return [n.id for n in state.nodes_sorted() if n.is_data]

    def new_node_request(self, request: IndicesStatsRequest) -> pb.IndicesStatsNodeRequest:
        return pb.IndicesStatsNodeRequest(
            index_uuids=[f"{u}/{n}" for u, n in request.shard_counts.items()], with_stats=request.with_stats
        )

    async def node_operation(self, task: Task, request: pb.IndicesStatsNodeRequest) -> pb.IndicesStatsNodeResponse:
        keys: list[tuple[str, int]] = []
        for entry in request.index_uuids:
            uuid, _, shards = entry.rpartition("/")
            keys.extend((uuid, shard) for shard in range(int(shards)))
        rows: list[list[Any]]
        if request.with_stats:
            contexts = self.services.search_contexts.open_by_shard()
            stats = await self.services.shards.copy_stats(keys, contexts)
            rows = [[uuid, shard, s["docs"]["count"], s] for (uuid, shard), s in sorted(stats.items())]
        else:
            counts = await self.services.shards.counts(keys)
            rows = [[uuid, shard, docs.count] for (uuid, shard), docs in sorted(counts.items())]
        return pb.IndicesStatsNodeResponse(stats_json=json.dumps(rows, separators=(",", ":")))

    def new_response(
        self,
        request: IndicesStatsRequest,
        responses: Mapping[str, pb.IndicesStatsNodeResponse],
        failures: list[FailedNodeError],
    ) -> ShardCopyStats:
        out = ShardCopyStats(failures=failures)
        for node_id, response in responses.items():
            for row in json.loads(response.stats_json):
                key = (row[0], int(row[1]), node_id)
                out.docs[key] = int(row[2])
                if len(row) > 3:
                    out.stats[key] = row[3]
        return out
