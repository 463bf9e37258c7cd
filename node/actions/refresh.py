"""`indices:admin/refresh` and its replicated shard action (mirrors ES `TransportRefreshAction`, a broadcast of
`TransportShardRefreshAction`).

Documents are visible as soon as they are written here, so a refresh does no work; it exists for the clients that
call it after indexing, and it makes ES's tree: `indices:admin/refresh` → `[s]` per shard → `[s][p]` on the
primary's node and `[s][r]` on each replica's (`TransportReplicationAction`). The answer counts the shard copies:
`{"_shards": {"total": <all copies>, "successful": <copies refreshed>, "failed": 0}}`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from node.actions.support.replication_action import TransportReplicationAction
from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import REFRESH, REFRESH_SHARD
from node.data.allocation import copies_of, routing_view
from node.data.index_metadata import indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.errors import ElasticsearchError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["RefreshAction", "RefreshRequest", "ShardRefreshAction"]


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    indices: tuple[str, ...]
    options: IndicesOptions = field(default_factory=IndicesOptions)


class ShardRefreshAction(TransportReplicationAction):
    name = REFRESH_SHARD

    def describe(self, request: pb.BulkShardRequest) -> str:
        return f"BasicReplicationRequest{{[{request.index}][{request.shard}]}}"

    async def shard_operation_on_primary(
        self, task: Task, request: pb.BulkShardRequest, state: ClusterState
    ) -> tuple[Any, Any]:
        return {}, []  # an empty payload: every replica is still asked to refresh

    async def shard_operation_on_replica(self, task: Task, request: pb.BulkShardRequest, state: ClusterState) -> None:
        return None


class RefreshAction(TransportAction[RefreshRequest, dict[str, Any]]):
    name = REFRESH

    async def execute(self, task: Task, request: RefreshRequest) -> dict[str, Any]:
        """Refreshes every shard of the indices whose primary is active; the others count as not refreshed.

        Raises:
            IndexNotFoundError: a missing index, unless the options allow it.
        """
        state = self.cluster.state()
        metadata = routing_view(state.metadata, set(state.nodes))
        indices = indices_of(metadata)
        names = resolve_indices(request.indices, indices_of(state.metadata), request.options)
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
        results = await asyncio.gather(*(self._refresh_shard(task, r) for r in requests))
        successful = failed = 0
        for result in results:
            if isinstance(result, ElasticsearchError):
                failed += 1
            else:
                successful += int(result["shards"]["successful"])
                failed += int(result["shards"]["failed"])
        return {"_shards": {"total": total, "successful": successful, "failed": failed}}

    async def _refresh_shard(self, task: Task, request: pb.BulkShardRequest) -> dict[str, Any] | ElasticsearchError:
        try:
            return await self.client.execute(ShardRefreshAction, request, parent=task)
        except ElasticsearchError as e:
            return e
