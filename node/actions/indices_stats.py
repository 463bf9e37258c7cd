"""`indices:monitor/stats` and its `[n]` node action: the document count of every shard copy (mirrors ES
`TransportIndicesStatsAction`, a broadcast-by-node action, reduced to `docs.count`).

`_cat/indices` and `_cat/shards` read per-copy counts from here: each node answers for the copies it holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from node.actions.names import INDICES_STATS_NODE
from node.coordination.state import ClusterState
from node.data.local_shards import LocalShards
from node.errors import FailedNodeError
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.fan_out import fan_out
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["IndicesStatsAction", "ShardCopyStats"]

CopyKey = tuple[str, int, str]  # (index uuid, shard, node id)


@dataclass(slots=True)
class ShardCopyStats:
    docs: dict[CopyKey, int] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


class IndicesStatsAction:
    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        shards: LocalShards,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._shards = shards
        transport.register_action(
            INDICES_STATS_NODE, pb.IndicesStatsNodeRequest, pb.IndicesStatsNodeResponse, self._node_operation,
            cancellable=True,
        )  # fmt: skip

    async def execute(self, task: Task, uuids: Sequence[str], shard_counts: dict[str, int]) -> ShardCopyStats:
        """Counts of the given indices' copies on every node that holds one (`shard_counts`: uuid → shards)."""
        state = self._cluster_state()
        request = pb.IndicesStatsNodeRequest(index_uuids=[f"{u}/{shard_counts[u]}" for u in uuids])
        node_ids = [n.id for n in state.nodes_sorted() if n.is_data]
        nodes = await fan_out(
            self._transport, self._task_manager, state, node_ids, INDICES_STATS_NODE, request, parent=task, timeout=None
        )
        out = ShardCopyStats(failures=nodes.failures)
        for node_id, response in nodes.responses.items():
            for uuid, shard, docs in json.loads(response.stats_json):
                out.docs[(uuid, int(shard), node_id)] = int(docs)
        return out

    async def _node_operation(self, task: Task, request: pb.IndicesStatsNodeRequest) -> pb.IndicesStatsNodeResponse:
        keys = []
        for entry in request.index_uuids:
            uuid, _, shards = entry.rpartition("/")
            keys.extend((uuid, shard) for shard in range(int(shards)))
        counts = await self._shards.counts(keys)
        rows = [[uuid, shard, docs.count] for (uuid, shard), docs in sorted(counts.items())]
        return pb.IndicesStatsNodeResponse(stats_json=json.dumps(rows, separators=(",", ":")))
