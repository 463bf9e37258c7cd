"""`indices:admin/refresh` and its replicated shard actions (mirrors ES `TransportRefreshAction`, a broadcast of
`TransportShardRefreshAction`).

Documents are visible as soon as they are written here, so a refresh does no work; it exists for the clients that
call it after indexing, and it makes ES's tree: `indices:admin/refresh` → `[s]` per shard → `[s][p]` on the
primary's node and `[s][r]` on each replica's (`node.actions.replication`). The answer counts the shard copies:
`{"_shards": {"total": <all copies>, "successful": <copies refreshed>, "failed": 0}}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from node.actions.names import REFRESH_SHARD, REFRESH_SHARD_PRIMARY, REFRESH_SHARD_REPLICA
from node.actions.replication import ReplicationAction, ReplicationActionNames
from node.coordination.state import ClusterState
from node.data.allocation import copies_of, routing_view
from node.data.index_metadata import indices_of
from node.data.shard_state import ShardStateAction
from node.errors import ElasticsearchError
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["RefreshAction"]

StateWaiter = Callable[[Callable[[ClusterState], bool], float], Awaitable[ClusterState | None]]


async def _nothing_on_primary(task: Task, request: pb.BulkShardRequest, state: ClusterState) -> tuple[Any, Any]:
    return {}, []  # an empty payload: every replica is still asked to refresh


async def _nothing_on_replica(task: Task, request: pb.BulkShardRequest, state: ClusterState) -> None:
    return None


class RefreshAction:
    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        wait_for_state: StateWaiter,
        local_node_id: str,
        shard_state: ShardStateAction,
    ) -> None:
        self._cluster_state = cluster_state
        self._replication = ReplicationAction(
            ReplicationActionNames(REFRESH_SHARD, REFRESH_SHARD_PRIMARY, REFRESH_SHARD_REPLICA),
            lambda r: f"BasicReplicationRequest{{[{r.index}][{r.shard}]}}",
            transport, task_manager, cluster_state, wait_for_state, local_node_id, shard_state,
            _nothing_on_primary, _nothing_on_replica,
        )  # fmt: skip

    async def execute(self, task: Task, names: Sequence[str]) -> dict[str, Any]:
        """Refreshes every shard of `names` whose primary is active; the others count as not refreshed."""
        state = self._cluster_state()
        metadata = routing_view(state.metadata, set(state.nodes))
        indices = indices_of(metadata)
        total = 0
        requests = []
        for name in names:
            for shard, copies in enumerate(copies_of(metadata, name)):
                total += len(copies)
                if any(c.primary and c.active for c in copies):
                    requests.append(
                        pb.BulkShardRequest(
                            index=name, index_uuid=indices[name].uuid, shard=shard, requests=0, timeout_millis=60_000
                        )
                    )
        results = await asyncio.gather(*(self._replication.run(task, r) for r in requests))
        successful = failed = 0
        for result in results:
            if isinstance(result, ElasticsearchError):
                failed += 1
            else:
                successful += int(result["shards"]["successful"])
                failed += int(result["shards"]["failed"])
        return {"_shards": {"total": total, "successful": successful, "failed": failed}}
