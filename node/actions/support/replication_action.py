"""`TransportReplicationAction`: the reroute, primary and replica phases of a replicated shard-level action
(mirrors ES `TransportReplicationAction`; reference §15.2). The shard actions of `node.actions.bulk` and
`node.actions.refresh` are made of it.

For one shard, coordinated on node A, primary on B, replica on C:

    A  <action>[s]     transport  (the caller's task)   the reroute phase, executed locally
    B  <action>[s]     transport  (A's [s])             the hop to the primary's node (absent when B is A)
    B  <action>[s][p]  direct     (B's [s])             the primary operation
    C  <action>[s][r]  transport  (B's [s])             the replica operation

The reroute phase waits for an active primary and retries on a newer cluster state when the primary's node is gone
or is no longer primary, up to the request's timeout (1m by default), then fails with ES's
`primary shard is not active` error. The primary operates locally, then replicates to every assigned copy (started
or initializing) and waits; a copy that fails is reported to the master (`internal:cluster/shard/failure`), which
takes it out of the in-sync set, *before* the operation is acknowledged. Every task carries ES's
`{"phase": ...}` status.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.data.allocation import ShardCopy, copies_of
from node.data.errors import ShardNotFoundError, UnavailableShardsError, index_not_found, is_retryable_shard_error
from node.data.index_metadata import IndexMetadata, indices_of
from node.errors import ElasticsearchError, IllegalStateError, status_name
from node.human import format_duration_nanos
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["TransportReplicationAction"]

log = logging.getLogger(__name__)

# A replica that has not applied the state assigning it its copy yet waits this long for it.
_REPLICA_STATE_WAIT_S = 5.0


def _newer_than(version: int) -> Callable[[ClusterState], bool]:
    return lambda state: state.version > version


def _phase(task: Task, holder: dict[str, str], phase: str) -> None:
    """ES `ReplicationTask#setPhase`."""
    holder["phase"] = phase
    if task.status_provider is None:
        task.status_provider = lambda: dict(holder)


class TransportReplicationAction(TransportAction[pb.BulkShardRequest, dict[str, Any]]):
    """Serves one replicated shard action (`name` is its `[s]`) and runs its reroute phase for local callers.

    Subclasses set `name` and implement `shard_operation_on_primary` (returning its results and what to send the
    replicas, None when nothing needs replicating) and `shard_operation_on_replica`; `describe` gives the task
    description of all three phases. Callers run the `[s]` through the node client, as a child of their task (ES
    `executeLocally`: a `transport` task), and get the primary's answer (`results`, `shards`, `primary_term`).
    """

    @property
    def primary_action(self) -> str:
        return f"{self.name}[p]"

    @property
    def replica_action(self) -> str:
        return f"{self.name}[r]"

    def register(self) -> None:
        for action, handler in (
            (self.name, self._reroute),
            (self.primary_action, self._on_primary),
            (self.replica_action, self._on_replica),
        ):
            self.transport.register_action(
                action, pb.BulkShardRequest, pb.BulkShardResponse, handler, describe=self.describe
            )

    async def shard_operation_on_primary(
        self, task: Task, request: pb.BulkShardRequest, state: ClusterState
    ) -> tuple[Any, Any | None]:
        raise NotImplementedError

    async def shard_operation_on_replica(self, task: Task, request: pb.BulkShardRequest, state: ClusterState) -> None:
        raise NotImplementedError

    # ---- `[s]` -----------------------------------------------------------------------------------------------------

    async def execute(self, task: Task, request: pb.BulkShardRequest) -> dict[str, Any]:
        response = await self._reroute(task, request)
        return json.loads(response.result_json)

    async def _reroute(self, task: Task, request: pb.BulkShardRequest) -> pb.BulkShardResponse:
        """Sends the request to the primary's node: `[s][p]` when that is this node, else `[s]` there."""
        phase: dict[str, str] = {}
        _phase(task, phase, "routing")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout_millis / 1000
        while True:
            state = self.cluster.state()
            index = indices_of(state.metadata).get(request.index)
            if index is None or index.uuid != request.index_uuid:
                raise index_not_found(request.index)
            copies = copies_of(state.metadata, request.index)[request.shard]
            primary = next((c for c in copies if c.primary), None)
            target = state.nodes.get(primary.node) if primary is not None and primary.active and primary.node else None
            if target is not None:
                local = target.id == self.local_node.id
                _phase(task, phase, "waiting_on_primary" if local else "rerouted")
                action = self.primary_action if local else self.name
                try:
                    # No deadline: the primary's work takes what it takes (ES sets none either).
                    with self.task_manager.child_request(task, target.id):
                        response: pb.BulkShardResponse = await self.transport.send_request(
                            target, action, request, parent=task
                        )
                    _phase(task, phase, "finished")
                    return response
                except ElasticsearchError as e:
                    if not is_retryable_shard_error(e):
                        _phase(task, phase, "failed")
                        raise
                    log.debug("retrying [%s][%d] on a newer cluster state: %s", request.index, request.shard, e)
            remaining = deadline - loop.time()
            if remaining <= 0:
                _phase(task, phase, "failed")
                raise UnavailableShardsError(
                    f"[{request.index}][{request.shard}] primary shard is not active Timeout: "
                    f"[{format_duration_nanos(request.timeout_millis * 1_000_000)}], request: [{self._describe_for_timeout(request)}]"
                )
            await self.cluster.wait_for_state(_newer_than(state.version), remaining)

    def _describe_for_timeout(self, request: pb.BulkShardRequest) -> str:
        if self.name.startswith("indices:data/write/bulk"):
            return f"BulkShardRequest [[{request.index}][{request.shard}]] containing [{request.requests}] requests"
        return self.describe(request)

    # ---- `[s][p]` ------------------------------------------------------------------------------------------------

    async def _on_primary(self, task: Task, request: pb.BulkShardRequest) -> pb.BulkShardResponse:
        phase: dict[str, str] = {}
        _phase(task, phase, "primary")
        state = self.cluster.state()
        index = self._local_primary(state, request)
        results, payload = await self.shard_operation_on_primary(task, request, state)
        state = self.cluster.state()  # replicate to the copies of the state current *after* the local operation
        copies = copies_of(state.metadata, request.index)[request.shard]
        replicas = [
            c for c in copies if not c.primary and c.assigned and c.node in state.nodes and c.node != self.local_node.id
        ]
        term = indices_of(state.metadata).get(request.index, index).primary_terms[request.shard]
        failures: list[dict[str, Any]] = []
        if payload is not None and replicas:
            _phase(task, phase, "replicating")
            failures = await self._replicate(task, request, payload, replicas, state, term)
        _phase(task, phase, "finished")
        shards: dict[str, Any] = {
            "total": len(copies),
            "successful": 1 + len(replicas) - len(failures) if payload is not None else 1,
            "failed": len(failures),
        }
        if failures:
            shards["failures"] = failures
        body = {"results": results, "shards": shards, "primary_term": term}
        return pb.BulkShardResponse(result_json=json.dumps(body, separators=(",", ":")))

    def _local_primary(self, state: ClusterState, request: pb.BulkShardRequest) -> IndexMetadata:
        """The index, once this node's applied state says it holds the shard's active primary (else retryable)."""
        index = indices_of(state.metadata).get(request.index)
        if index is None or index.uuid != request.index_uuid:
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)
        copies = copies_of(state.metadata, request.index)[request.shard]
        if not any(c.primary and c.active and c.node == self.local_node.id for c in copies):
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)
        return index

    async def _replicate(
        self,
        task: Task,
        request: pb.BulkShardRequest,
        payload: Any,
        replicas: list[ShardCopy],
        state: ClusterState,
        term: int,
    ) -> list[dict[str, Any]]:
        """Sends `[s][r]` to every replica, as children of this node's `[s]` task; fails the copies that fail."""
        parent = (
            self.task_manager.get(task.parent_task_id.id) if task.parent_task_id.node_id == self.local_node.id else None
        ) or task
        replica_request = pb.BulkShardRequest(
            index=request.index, index_uuid=request.index_uuid, shard=request.shard, requests=request.requests,
            operations_json=json.dumps(payload, separators=(",", ":")), primary_term=term,
            state_version=state.version,
        )  # fmt: skip

        async def one(node_id: str) -> ElasticsearchError | None:
            try:
                with self.task_manager.child_request(parent, node_id):
                    await self.transport.send_request(
                        state.nodes[node_id], self.replica_action, replica_request, parent=parent
                    )
            except ElasticsearchError as e:
                return e
            return None

        results = await asyncio.gather(*(one(c.node) for c in replicas if c.node is not None))
        failures = []
        for copy, error in zip(replicas, results, strict=True):
            if error is None or copy.node is None:
                continue
            message = f"failed to perform {self.name} on replica [{request.index}][{request.shard}]"
            # ES acknowledges only once the master took the failed copy out of the in-sync set.
            await self.services.shard_state.shard_failed(
                request.index, request.index_uuid, request.shard, copy.node, f"{message}: {error.reason}",
                primary_term=term,
            )  # fmt: skip
            failures.append(
                {
                    "_index": request.index,
                    "_shard": request.shard,
                    "_node": copy.node,
                    "reason": error.to_dict(),
                    "status": status_name(error.status),
                    "primary": False,
                }
            )
        return failures

    # ---- `[s][r]` ------------------------------------------------------------------------------------------------

    async def _on_replica(self, task: Task, request: pb.BulkShardRequest) -> pb.BulkShardResponse:
        phase: dict[str, str] = {}
        _phase(task, phase, "replica")

        def holds_copy(state: ClusterState) -> bool:
            index = indices_of(state.metadata).get(request.index)
            if index is None or index.uuid != request.index_uuid:
                return False
            copies = copies_of(state.metadata, request.index)
            return any(c.node == self.local_node.id and not c.primary for c in copies[request.shard])

        state = self.cluster.state()
        if not holds_copy(state):
            waited = await self.cluster.wait_for_state(holds_copy, _REPLICA_STATE_WAIT_S)
            if waited is None:
                raise ShardNotFoundError(request.index, request.index_uuid, request.shard)
            state = waited
        current = indices_of(state.metadata)[request.index].primary_terms[request.shard]
        if request.primary_term < current:  # ES IndexShard#acquireReplicaOperationPermit
            raise IllegalStateError(
                f"[{request.index}][{request.shard}] operation primary term [{request.primary_term}] is too old "
                f"(current [{current}])"
            )
        await self.shard_operation_on_replica(task, request, state)
        _phase(task, phase, "finished")
        return pb.BulkShardResponse(result_json="{}")
