"""The reroute, primary and replica phases of a replicated shard-level action (mirrors ES
`TransportReplicationAction`; reference §15.2). `node.actions.bulk` and `node.actions.refresh` run through it.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from node.coordination.state import ClusterState
from node.data.allocation import ShardCopy, copies_of
from node.data.errors import ShardNotFoundError, UnavailableShardsError, index_not_found, is_retryable_shard_error
from node.data.index_metadata import IndexMetadata, indices_of
from node.data.shard_state import ShardStateAction
from node.errors import ElasticsearchError, IllegalStateError, status_name
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskType
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["PrimaryOperation", "ReplicaOperation", "ReplicationAction", "ReplicationActionNames", "timeout_text"]

log = logging.getLogger(__name__)

StateWaiter = Callable[[Callable[[ClusterState], bool], float], Awaitable[ClusterState | None]]
# The primary operation returns its results and what to send the replicas (None: nothing to replicate).
PrimaryOperation = Callable[[Task, pb.BulkShardRequest, ClusterState], Awaitable[tuple[Any, Any | None]]]
ReplicaOperation = Callable[[Task, pb.BulkShardRequest, ClusterState], Awaitable[None]]
# A replica that has not applied the state assigning it its copy yet waits this long for it.
_REPLICA_STATE_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class ReplicationActionNames:
    shard: str  # `[s]`
    primary: str  # `[s][p]`
    replica: str  # `[s][r]`


def timeout_text(millis: int) -> str:
    """The `TimeValue` text ES prints in `primary shard is not active Timeout: [1m]`."""
    for size, suffix in ((86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")):
        if millis and millis % size == 0:
            return f"{millis // size}{suffix}"
    return f"{millis}ms"


def _phase(task: Task, holder: dict[str, str], phase: str) -> None:
    """ES `ReplicationTask#setPhase`."""
    holder["phase"] = phase
    if task.status_provider is None:
        task.status_provider = lambda: dict(holder)


class ReplicationAction:
    """Serves one replicated action family on this node and runs its `[s]` phase for local callers."""

    def __init__(
        self,
        names: ReplicationActionNames,
        describe: Callable[[pb.BulkShardRequest], str],
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        wait_for_state: StateWaiter,
        local_node_id: str,
        shard_state: ShardStateAction,
        primary: PrimaryOperation,
        replica: ReplicaOperation,
    ) -> None:
        self._names = names
        self._describe = describe
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._wait_for_state = wait_for_state
        self._local_node_id = local_node_id
        self._shard_state = shard_state
        self._primary = primary
        self._replica = replica
        for action, handler in (
            (names.shard, self._on_shard),
            (names.primary, self._on_primary),
            (names.replica, self._on_replica),
        ):
            transport.register_action(action, pb.BulkShardRequest, pb.BulkShardResponse, handler, describe=describe)

    async def run(self, parent: Task, request: pb.BulkShardRequest) -> dict[str, Any] | ElasticsearchError:
        """Runs the shard request as an `[s]` child of `parent` (ES `executeLocally`: a `transport` task).

        Returns the primary's answer (`results`, `shards`, `primary_term`), or the error that failed the shard.
        """
        try:
            with (
                self._task_manager.child_request(parent, self._local_node_id),
                self._task_manager.registered(
                    type=TaskType.TRANSPORT, action=self._names.shard, parent=parent.task_id, headers=parent.headers,
                    description=self._describe(request),
                ) as shard_task,
            ):  # fmt: skip
                response = await self._reroute(shard_task, request)
        except ElasticsearchError as e:
            return e
        return json.loads(response.result_json)  # type: ignore[no-any-return]

    # ---- `[s]` -------------------------------------------------------------------------------------------------

    async def _on_shard(self, task: Task, request: pb.BulkShardRequest) -> pb.BulkShardResponse:
        return await self._reroute(task, request)

    async def _reroute(self, task: Task, request: pb.BulkShardRequest) -> pb.BulkShardResponse:
        """Sends the request to the primary's node: `[s][p]` when that is this node, else `[s]` there."""
        phase: dict[str, str] = {}
        _phase(task, phase, "routing")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout_millis / 1000
        while True:
            state = self._cluster_state()
            index = indices_of(state.metadata).get(request.index)
            if index is None or index.uuid != request.index_uuid:
                raise index_not_found(request.index)
            copies = copies_of(state.metadata, request.index)[request.shard]
            primary = next((c for c in copies if c.primary), None)
            target = state.nodes.get(primary.node) if primary is not None and primary.active and primary.node else None
            if target is not None:
                local = target.id == self._local_node_id
                _phase(task, phase, "waiting_on_primary" if local else "rerouted")
                action = self._names.primary if local else self._names.shard
                try:
                    # No deadline: the primary's work takes what it takes (ES sets none either).
                    with self._task_manager.child_request(task, target.id):
                        response: pb.BulkShardResponse = await self._transport.send_request(
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
                    f"[{timeout_text(request.timeout_millis)}], request: [{self._describe_for_timeout(request)}]"
                )
            await self._wait_for_state(lambda s, v=state.version: s.version > v, remaining)

    def _describe_for_timeout(self, request: pb.BulkShardRequest) -> str:
        if self._names.shard.startswith("indices:data/write/bulk"):
            return f"BulkShardRequest [[{request.index}][{request.shard}]] containing [{request.requests}] requests"
        return self._describe(request)

    # ---- `[s][p]` ------------------------------------------------------------------------------------------------

    async def _on_primary(self, task: Task, request: pb.BulkShardRequest) -> pb.BulkShardResponse:
        phase: dict[str, str] = {}
        _phase(task, phase, "primary")
        state = self._cluster_state()
        index = self._local_primary(state, request)
        results, payload = await self._primary(task, request, state)
        state = self._cluster_state()  # replicate to the copies of the state current *after* the local operation
        copies = copies_of(state.metadata, request.index)[request.shard]
        replicas = [
            c
            for c in copies
            if not c.primary and c.assigned and c.node in state.nodes and c.node != self._local_node_id
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
        if not any(c.primary and c.active and c.node == self._local_node_id for c in copies):
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
            self._task_manager.get(task.parent_task_id.id)
            if task.parent_task_id.node_id == self._local_node_id
            else None
        ) or task
        replica_request = pb.BulkShardRequest(
            index=request.index, index_uuid=request.index_uuid, shard=request.shard, requests=request.requests,
            operations_json=json.dumps(payload, separators=(",", ":")), primary_term=term,
            state_version=state.version,
        )  # fmt: skip

        async def one(node_id: str) -> ElasticsearchError | None:
            try:
                with self._task_manager.child_request(parent, node_id):
                    await self._transport.send_request(
                        state.nodes[node_id], self._names.replica, replica_request, parent=parent
                    )
            except ElasticsearchError as e:
                return e
            return None

        results = await asyncio.gather(*(one(c.node) for c in replicas if c.node is not None))
        failures = []
        for copy, error in zip(replicas, results, strict=True):
            if error is None or copy.node is None:
                continue
            message = f"failed to perform {self._names.shard} on replica [{request.index}][{request.shard}]"
            # ES acknowledges only once the master took the failed copy out of the in-sync set.
            await self._shard_state.shard_failed(
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
            return any(c.node == self._local_node_id and not c.primary for c in copies[request.shard])

        state = self._cluster_state()
        if not holds_copy(state):
            waited = await self._wait_for_state(holds_copy, _REPLICA_STATE_WAIT_S)
            if waited is None:
                raise ShardNotFoundError(request.index, request.index_uuid, request.shard)
            state = waited
        current = indices_of(state.metadata)[request.index].primary_terms[request.shard]
        if request.primary_term < current:  # ES IndexShard#acquireReplicaOperationPermit
            raise IllegalStateError(
                f"[{request.index}][{request.shard}] operation primary term [{request.primary_term}] is too old "
                f"(current [{current}])"
            )
        await self._replica(task, request, state)
        _phase(task, phase, "finished")
        return pb.BulkShardResponse(result_json="{}")
