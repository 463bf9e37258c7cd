"""Shard started and shard failed, reported to the master (mirrors ES `ShardStateAction`).

A node that finished creating or recovering a copy reports `internal:cluster/shard/started`; a primary that could
not replicate to a copy, or a node whose recovery failed, reports `internal:cluster/shard/failure`. The master
applies each as a state update followed by a reroute, so a started primary gets its replicas allocated and a failed
copy is replaced. A failed replica leaves the in-sync set before the primary acknowledges the write that failed on
it: that is what makes promoting any in-sync replica safe.
"""

from __future__ import annotations

from node.cluster.master_requests import MasterRequests
from node.cluster.service import ClusterService
from node.cluster.state import ClusterState
from node.common.action_names import SHARD_FAILED, SHARD_STARTED
from node.data import allocation
from node.data.errors import NoLongerPrimaryShardError
from node.data.index_metadata import indices_of
from node.indices.routing_service import reroute_state
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["ShardStateAction"]

# ES retries shard-state requests until they get through; a minute covers any election.
SHARD_STATE_TIMEOUT_S = 60.0


class ShardStateAction:
    def __init__(
        self, transport: TransportService, cluster: ClusterService, master_requests: MasterRequests, version: str
    ) -> None:
        self._master_requests = master_requests
        self._submit = cluster.submit_state_update
        self._version = version
        transport.register_action(SHARD_STARTED, pb.ShardStateRequest, pb.ShardStateResponse, self._on_started)
        transport.register_action(SHARD_FAILED, pb.ShardStateRequest, pb.ShardStateResponse, self._on_failed)

    async def shard_started(self, index: str, uuid: str, shard: int, node_id: str, message: str) -> None:
        request = pb.ShardStateRequest(index=index, index_uuid=uuid, shard=shard, node_id=node_id, message=message)
        await self._master_requests.execute(
            SHARD_STARTED, request, parent=None, local=self._on_started, timeout=SHARD_STATE_TIMEOUT_S
        )

    async def shard_failed(
        self,
        index: str,
        uuid: str,
        shard: int,
        node_id: str,
        message: str,
        *,
        primary_term: int = 0,
        parent: Task | None = None,
    ) -> None:
        """Raises `no_longer_primary_shard_exception` when a primary of an older term reports it (ES refuses it)."""
        request = pb.ShardStateRequest(
            index=index, index_uuid=uuid, shard=shard, node_id=node_id, message=message, primary_term=primary_term
        )
        await self._master_requests.execute(
            SHARD_FAILED, request, parent=parent, local=self._on_failed, timeout=SHARD_STATE_TIMEOUT_S
        )

    # ---- on the master ----------------------------------------------------------------------------------------

    async def _on_started(self, task: Task | None, request: pb.ShardStateRequest) -> pb.ShardStateResponse:
        def update(state: ClusterState) -> ClusterState:
            metadata = allocation.started(
                state.metadata, request.index, request.index_uuid, request.shard, request.node_id
            )
            if metadata is state.metadata:
                return state
            return reroute_state(state.with_changes(metadata=metadata), self._version)

        source = (
            f"shard-started StartedShardEntry{{shardId [[{request.index}][{request.shard}]], "
            f"allocationId [{request.node_id}], message [{request.message}]}}"
        )
        await self._submit(source, update)
        return pb.ShardStateResponse()

    async def _on_failed(self, task: Task | None, request: pb.ShardStateRequest) -> pb.ShardStateResponse:
        def update(state: ClusterState) -> ClusterState:
            index = indices_of(state.metadata).get(request.index)
            if request.primary_term and index is not None and index.uuid == request.index_uuid:
                current = index.primary_terms[request.shard]
                if request.primary_term < current:
                    raise NoLongerPrimaryShardError(
                        f"primary term [{request.primary_term}] did not match current primary term [{current}]"
                    )
            metadata = allocation.failed(
                state.metadata, request.index, request.index_uuid, request.shard, request.node_id
            )
            if metadata is state.metadata:
                return state
            return reroute_state(state.with_changes(metadata=metadata), self._version)

        source = (
            f"shard-failed FailedShardEntry{{shardId [[{request.index}][{request.shard}]], "
            f"allocationId [{request.node_id}], message [{request.message}]}}"
        )
        await self._submit(source, update)
        return pb.ShardStateResponse()
