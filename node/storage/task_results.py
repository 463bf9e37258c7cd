"""Stored task results: the simulator's `.tasks` index (reference §13; DESIGN §7; mirrors ES `TaskResultsService`).

ES stores the result of a task that asked for it (`wait_for_completion=false`) as a document of the hidden `.tasks`
index, with `_id` `"<node id>:<task id>"`, one primary and `auto_expand_replicas: 0-1`. Here every node keeps a
`task_results` table in its own sqlite file (`NodeStore`), and a write goes:

1. the first time anything is stored, the master is asked to add `.tasks` to `metadata["indices"]` of the cluster
   state (`internal:sim/tasks/create_index`), so every node — also one that never stored a result, also after a
   full restart — knows the index exists and answers "not found" without the `index_not_found_exception` cause;
2. into the local table ("the primary");
3. to one replica, the next data node in node-name order (`internal:sim/tasks/store_result[r]`), acknowledged
   before the write counts as done — so a result outlives the node that ran the task.

A lookup (`lookup`) reads the local table, then asks every other node in the cluster
(`internal:sim/tasks/get_result`); the first hit wins, and nodes that fail or do not answer within the default
per-node timeout (`--node-request-timeout`) are skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from node.cluster.service import ClusterService
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.action_names import CREATE_TASKS_INDEX, GET_STORED_TASK_RESULT, STORE_TASK_RESULT_REPLICA
from node.errors import ElasticsearchError, MasterNotDiscoveredError
from node.storage.store import NodeStore
from node.tasks.task import Task, TaskInfo
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = [
    "TASKS_INDEX",
    "TASKS_INDEX_SETTINGS",
    "TaskResult",
    "TaskResultsService",
    "replica_target",
    "task_info_from_dict",
    "with_tasks_index",
]

log = logging.getLogger(__name__)

TASKS_INDEX = ".tasks"
# ES `TaskResultsService#taskResultIndexSettings`: one shard, one replica where possible, hidden, recovered first.
TASKS_INDEX_SETTINGS: Mapping[str, str] = {
    "index.number_of_shards": "1",
    "index.auto_expand_replicas": "0-1",
    "index.priority": "2147483647",
    "index.hidden": "true",
}
# ES's master and replication requests default to 30s.
MASTER_TIMEOUT_S = 30.0
REPLICATION_TIMEOUT_S = 30.0

_SCHEMA = "CREATE TABLE IF NOT EXISTS task_results (task_id TEXT PRIMARY KEY, document TEXT NOT NULL)"


# ---- documents (pure) -----------------------------------------------------------------------------------------


def task_info_from_dict(data: Mapping[str, Any]) -> TaskInfo:
    """Parses a TaskInfo rendered by `TaskInfo.to_dict(human=False)`; a missing `cancelled` reads as false.

    That default is ES's: `.tasks` documents never store `cancelled`, so a stored cancellable task is reported as
    `"cancelled": false` even when it was cancelled (reference §20.12).
    """
    return TaskInfo.from_dict(data)


@dataclass(frozen=True, slots=True)
class TaskResult:
    """ES `TaskResult`: what `GET /_tasks/{id}` answers and what `.tasks` stores (reference §10.2).

    `task` is always a detailed snapshot. A completed result carries at most one of `response` (the action's
    response body) and `error` (the error rendered without `root_cause`).
    """

    completed: bool
    task: TaskInfo
    response: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None

    @classmethod
    def of_response(cls, task: TaskInfo, response: Mapping[str, Any]) -> TaskResult:
        return cls(completed=True, task=task, response=response)

    @classmethod
    def of_error(cls, task: TaskInfo, error: ElasticsearchError) -> TaskResult:
        return cls(completed=True, task=task, error=error.to_dict())

    def to_dict(self, *, human: bool = False) -> dict[str, Any]:
        """The get-task body: `completed`, `task` (with `cancelled` for cancellable tasks), then `response` or `error`."""
        return self._render(self.task.to_dict(human=human))

    def to_document(self) -> dict[str, Any]:
        """The `.tasks` document: as `to_dict`, but `task` never has `cancelled` (reference §13)."""
        return self._render(self.task.to_dict(human=False, include_cancelled=False))

    def _render(self, task: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"completed": self.completed, "task": task}
        if self.response is not None:
            out["response"] = dict(self.response)
        elif self.error is not None:
            out["error"] = dict(self.error)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskResult:
        """Reads a document or a get-task body back."""
        return cls(
            completed=bool(data["completed"]),
            task=task_info_from_dict(data["task"]),
            response=data.get("response"),
            error=data.get("error"),
        )


def with_tasks_index(state: ClusterState) -> ClusterState:
    """The state with `.tasks` in `metadata["indices"]`; the very same state when it is already there.

    Every other metadata key, and every other index, is kept as it is.
    """
    indices = state.metadata.get("indices") or {}
    if TASKS_INDEX in indices:
        return state
    metadata = dict(state.metadata)
    metadata["indices"] = {**indices, TASKS_INDEX: dict(TASKS_INDEX_SETTINGS)}
    return state.with_changes(metadata=metadata)


def replica_target(state: ClusterState, local_node_id: str) -> DiscoveryNode | None:
    """The node holding the replica of this node's results: the next data node in node-name order, wrapping.

    None when the local node is not in the cluster state or no other data node exists.
    """
    if local_node_id not in state.nodes:
        return None
    ring = [n for n in state.nodes_sorted() if n.is_data or n.id == local_node_id]
    if len(ring) < 2:
        return None
    position = next(i for i, n in enumerate(ring) if n.id == local_node_id)
    return ring[(position + 1) % len(ring)]


# ---- sqlite (runs in the store's thread) ----------------------------------------------------------------------


def _put(task_id: str, document: str, conn: sqlite3.Connection) -> None:
    conn.execute(_SCHEMA)
    conn.execute(
        "INSERT INTO task_results (task_id, document) VALUES (?, ?) "
        "ON CONFLICT(task_id) DO UPDATE SET document = excluded.document",
        (task_id, document),
    )


def _get(task_id: str, conn: sqlite3.Connection) -> str | None:
    conn.execute(_SCHEMA)
    row = conn.execute("SELECT document FROM task_results WHERE task_id = ?", (task_id,)).fetchone()
    return row[0] if row else None


# ---- the service ----------------------------------------------------------------------------------------------


class TaskResultsService:
    """Stores task results on this node and one replica, and finds them anywhere in the cluster."""

    def __init__(self, store: NodeStore, transport: TransportService, cluster: ClusterService) -> None:
        self._store = store
        self._transport = transport
        self._cluster_state = cluster.state
        self._local_node_id = transport.local_node.id
        self._submit_state_update = cluster.submit_state_update
        lookup_timeout = cluster.node_request_timeout
        self._lookup_timeout_s = lookup_timeout.seconds if lookup_timeout is not None else None
        self._create_index_lock = asyncio.Lock()
        # The create-index request reuses the store messages: `task_id` names the result that needs the index.
        transport.register_action(
            CREATE_TASKS_INDEX, pb.StoreResultRequest, pb.StoreResultResponse, self._handle_create_index
        )
        transport.register_action(
            STORE_TASK_RESULT_REPLICA, pb.StoreResultRequest, pb.StoreResultResponse, self._handle_store_replica
        )
        transport.register_action(
            GET_STORED_TASK_RESULT, pb.GetStoredResultRequest, pb.GetStoredResultResponse, self._handle_get
        )

    def index_exists(self) -> bool:
        """Whether `.tasks` exists in the cluster state this node applied last."""
        return TASKS_INDEX in (self._cluster_state().metadata.get("indices") or {})

    async def store_result(self, result: TaskResult) -> None:
        """Stores `result` under its task id: index creation if needed, local write, replica write.

        Mirrors ES `TaskResultsService#storeResult`. A missing replica does not fail the write (ES marks a failed
        replica stale and acknowledges the primary), and neither does a failure to create the index: the result is
        kept all the same, since losing it would be worse than a `.tasks` missing from the metadata.

        Raises:
            ElasticsearchError: the local write failed.
        """
        task_id = result.task.task_id
        document = json.dumps(result.to_document(), separators=(",", ":"))
        await self._ensure_index(task_id)
        try:
            await self._store.execute(partial(_put, task_id, document))
        except sqlite3.Error as e:
            raise ElasticsearchError(f"failed to store the result of task [{task_id}]: {e}") from e
        await self._replicate(task_id, document)

    async def lookup(self, task_id: TaskId, *, parent: Task | None = None) -> TaskResult | None:
        """The stored result of `task_id`: the local table first, then every other node; None when none has it.

        `parent` is the task doing the lookup (the get-task task), whose child each remote read becomes.
        """
        key = str(task_id)
        local = await self._store.execute(partial(_get, key))
        if local is not None:
            return TaskResult.from_dict(json.loads(local))
        peers = [n for n in self._cluster_state().nodes_sorted() if n.id != self._local_node_id]
        reads = [asyncio.ensure_future(self._read_from(node, key, parent)) for node in peers]
        try:
            for read in asyncio.as_completed(reads):
                document = await read
                if document is not None:
                    return TaskResult.from_dict(json.loads(document))
        finally:
            for read in reads:
                read.cancel()
        return None

    async def _read_from(self, node: DiscoveryNode, key: str, parent: Task | None) -> str | None:
        request = pb.GetStoredResultRequest(task_id=key)
        try:
            response = await self._transport.send_request(
                node, GET_STORED_TASK_RESULT, request, parent=parent, timeout=self._lookup_timeout_s
            )
        except ElasticsearchError as e:  # an unreachable node is skipped: a replica elsewhere may still answer
            log.debug("skipping [%s] while looking up the result of [%s]: %s", node.name, key, e)
            return None
        return response.document_json if response.found else None

    async def _ensure_index(self, task_id: str) -> None:
        """Asks the master to create `.tasks` unless this node already knows it exists (ES auto-create)."""
        if self.index_exists():
            return
        async with self._create_index_lock:
            if self.index_exists():
                return
            master = self._cluster_state().master
            try:
                if master is None:
                    raise MasterNotDiscoveredError("no master node")
                await self._transport.send_request(
                    master, CREATE_TASKS_INDEX, pb.StoreResultRequest(task_id=task_id), timeout=MASTER_TIMEOUT_S
                )
            except ElasticsearchError as e:
                log.warning("failed to create [%s] for the result of [%s]: %s", TASKS_INDEX, task_id, e)

    async def _replicate(self, task_id: str, document: str) -> None:
        replica = replica_target(self._cluster_state(), self._local_node_id)
        if replica is None:
            return
        request = pb.StoreResultRequest(task_id=task_id, document_json=document)
        try:
            await self._transport.send_request(
                replica, STORE_TASK_RESULT_REPLICA, request, timeout=REPLICATION_TIMEOUT_S
            )
        except ElasticsearchError as e:
            log.warning("failed to replicate the result of [%s] to [%s]: %s", task_id, replica.name, e)

    # ---- handlers ---------------------------------------------------------------------------------------------

    async def _handle_create_index(self, task: Task, request: pb.StoreResultRequest) -> pb.StoreResultResponse:
        """On the master: publishes a state with `.tasks` (ES `MetadataCreateIndexService`)."""
        await self._submit_state_update(f"create-index [{TASKS_INDEX}], cause [auto(task api)]", with_tasks_index)
        return pb.StoreResultResponse()

    async def _handle_store_replica(self, task: Task, request: pb.StoreResultRequest) -> pb.StoreResultResponse:
        await self._store.execute(partial(_put, request.task_id, request.document_json))
        return pb.StoreResultResponse()

    async def _handle_get(self, task: Task, request: pb.GetStoredResultRequest) -> pb.GetStoredResultResponse:
        document = await self._store.execute(partial(_get, request.task_id))
        if document is None:
            return pb.GetStoredResultResponse(found=False)
        return pb.GetStoredResultResponse(found=True, document_json=document)
