"""Stored task results as documents of the `.tasks` index (mirrors ES `TaskResultsService` and the lookup of
`TransportGetTaskAction#getFinishedTaskFromIndex`; reference §13, DESIGN §7).

ES stores the result of a task that asked for it (`wait_for_completion=false`) as a document of the hidden system
index `.tasks`, `_id` `"<node id>:<task id>"`, one primary and `auto_expand_replicas: 0-1`. So does simcluster,
through its own data plane:

1. the first time anything is stored, the master is asked to add `.tasks` to the cluster state
   (`internal:sim/tasks/create_index`, ES's `create-index [.tasks], cause [auto(task api)]`): one state update
   gives it its uuid and allocates its shard like any other index's, and the master answers once the primary is
   active in the state it applied — the master applies a state last, so every node then knows the active primary
   (ES's create-index waits for the active shards the same way);
2. the document is written with `indices:data/write/index` (ES's `client.index`), which waits for an active primary,
   writes it there and on every in-sync replica, and is acknowledged only then.

A result therefore has the durability of any acknowledged document: it survives the death of any one node of a
cluster with two data nodes or more (the replica is promoted and a new replica allocated), and full restarts. It is
readable as an index, `GET .tasks/_doc/<id>` and `GET .tasks/_search`, with ES's system-index warning.

`GET /_tasks/{id}` reads it back with `indices:data/read/get`, as a child of the get-task task. A lookup first waits
(up to the default per-node timeout) for an active copy of the `.tasks` shard, so right after a full restart, or
right after the index was created, it answers the result rather than `no_shard_available_action_exception` (ES
answers 503 then). This module sits with the actions because it runs them; the document shapes are
`node.storage.task_results`'s.
"""

from __future__ import annotations

import asyncio

from node.actions.bulk import BulkOptions, BulkRequest, IndexAction
from node.actions.client import NodeClient
from node.actions.get import GetAction, GetRequest
from node.cluster.service import ClusterService
from node.cluster.state import ClusterState
from node.common.action_names import CREATE_TASKS_INDEX
from node.data.allocation import copies_of
from node.data.bulk_request import BulkItem, describe_source
from node.errors import IndexNotFoundError, MasterNotDiscoveredError
from node.indices.routing_service import reroute_state
from node.storage.task_results import TASKS_INDEX, TaskResult, with_tasks_index
from node.tasks.task import Task
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["TaskResultsService"]


# ES's master and replication requests default to 30s.
MASTER_TIMEOUT_S = 30.0
STORE_TIMEOUT_MILLIS = 30_000
# How long a lookup waits for an active `.tasks` copy when the node has no per-node timeout (`-1`).
ACTIVE_COPY_WAIT_S = 30.0


def has_active_copy(state: ClusterState) -> bool:
    """Whether the `.tasks` shard has an active copy on a node of `state` (so it can be read and written)."""
    shards = copies_of(state.metadata, TASKS_INDEX)
    return bool(shards) and any(c.active and c.node in state.nodes for c in shards[0])


class TaskResultsService:
    """Stores task results in `.tasks` and reads them back."""

    def __init__(
        self, client: NodeClient, transport: TransportService, cluster: ClusterService, version_created: str
    ) -> None:
        self._client = client
        self._version_created = version_created
        self._transport = transport
        self._cluster = cluster
        self._create_index_lock = asyncio.Lock()
        # The create-index request reuses the store messages: `task_id` names the result that needs the index.
        transport.register_action(
            CREATE_TASKS_INDEX, pb.StoreResultRequest, pb.StoreResultResponse, self._handle_create_index
        )

    def index_exists(self) -> bool:
        """Whether `.tasks` exists in the cluster state this node applied last."""
        return TASKS_INDEX in (self._cluster.state().metadata.get("indices") or {})

    async def store_result(self, result: TaskResult) -> None:
        """Indexes `result` under its task id (ES `TaskResultsService#storeResult`), creating `.tasks` first.

        Raises:
            ElasticsearchError: the document could not be written (the caller logs it, as ES does).
        """
        task_id = result.task.task_id
        document = result.to_document()
        await self._ensure_index(task_id)
        # The write needs the index as the master allocated it (its uuid): wait for its primary to be active, so
        # that a task whose result is stored can be looked up, and `.tasks` searched, at once.
        await self._cluster.wait_for_state(has_active_copy, MASTER_TIMEOUT_S)
        item = BulkItem("index", TASKS_INDEX, task_id, source=document)
        text = f"index {{[{TASKS_INDEX}][{task_id}], source[{describe_source(document)}]}}"
        request = BulkRequest((item,), BulkOptions(STORE_TIMEOUT_MILLIS), text)
        (outcome,) = await self._client.execute(IndexAction, request)
        if outcome.error is not None:
            raise outcome.error

    async def lookup(self, task_id: TaskId, *, parent: Task | None = None) -> TaskResult | None:
        """The stored result of `task_id`, None when `.tasks` has none (or does not exist).

        `parent` is the task doing the lookup (the get-task task), whose child the `indices:data/read/get` becomes.

        Raises:
            ElasticsearchError: no copy of `.tasks` could answer (ES relays the get's failure).
        """
        if not self.index_exists():
            return None
        if not has_active_copy(self._cluster.state()):
            timeout = self._cluster.node_request_timeout
            await self._cluster.wait_for_state(has_active_copy, timeout.seconds if timeout else ACTIVE_COPY_WAIT_S)
        try:
            body = await self._client.execute(GetAction, GetRequest(TASKS_INDEX, str(task_id)), parent=parent)
        except IndexNotFoundError:
            return None
        if not body.get("found"):
            return None
        return TaskResult.from_dict(body["_source"])

    async def _ensure_index(self, task_id: str) -> None:
        """Asks the master to create `.tasks` unless this node already knows it exists (ES `TaskResultsService`'s
        create-index request).

        Raises:
            ElasticsearchError: the index could not be created (ES fails the store, which its caller logs): the
                write must not go on and auto-create `.tasks` as an ordinary index.
        """
        if self.index_exists():
            return
        async with self._create_index_lock:
            if self.index_exists():
                return
            master = self._cluster.state().master
            if master is None:
                raise MasterNotDiscoveredError("no master node")
            await self._transport.send_request(
                master, CREATE_TASKS_INDEX, pb.StoreResultRequest(task_id=task_id), timeout=MASTER_TIMEOUT_S
            )

    async def _handle_create_index(self, task: Task, request: pb.StoreResultRequest) -> pb.StoreResultResponse:
        """On the master: publishes a state with `.tasks`, its uuid and its shard allocated (ES
        `MetadataCreateIndexService`, which reroutes in the same update), then waits for the active primary."""

        def create(state: ClusterState) -> ClusterState:
            return reroute_state(with_tasks_index(state), self._version_created)

        await self._cluster.submit_state_update(f"create-index [{TASKS_INDEX}], cause [auto(task api)]", create)
        await self._cluster.wait_for_state(has_active_copy, MASTER_TIMEOUT_S)
        return pb.StoreResultResponse()
