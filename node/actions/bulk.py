"""`indices:data/write/bulk` and its shard-level actions (mirrors ES `TransportBulkAction`, `TransportShardBulkAction`
and `TransportReplicationAction`'s reroute, primary and replica phases; reference §15.2).

The task tree of one bulk, coordinated on node A, for a shard whose primary is on B and replica on C:

    A  indices:data/write/bulk            transport                     requests[2], indices[logs]
    A  └ indices:data/write/bulk[s]       transport  (A's bulk)         requests[1], index[logs][0]
    B    └ indices:data/write/bulk[s]     transport  (A's [s])          the reroute hop to the primary's node
    B      ├ indices:data/write/bulk[s][p] direct    (B's [s])          the primary operation
    C      └ indices:data/write/bulk[s][r] transport (B's [s])          the replica operation

When the primary is on A itself there is no second `[s]`: A's `[s]` sends `[s][p]` to itself (`direct`). A
single-document request (`indices:data/write/index`, `indices:data/write/delete`) runs the same shard actions under
its own task, as ES's `TransportSingleItemBulkWriteAction` does.

The shard phases are `node.actions.replication`'s: a write is acknowledged only once it is on every in-sync copy
(a copy that failed it was first taken out of the in-sync set by the master), so promoting any in-sync replica
loses no acknowledged write; the reroute phase retries on a newer cluster state while the primary moves.

Documents written here are tracked by `_id` (auto-generated ids are made on the coordinating node, so a retried
write updates instead of counting twice).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.indices_admin import IndicesAdminAction
from node.actions.names import AUTO_CREATE_INDEX, BULK_SHARD, BULK_SHARD_PRIMARY, BULK_SHARD_REPLICA
from node.actions.replication import ReplicationAction, ReplicationActionNames
from node.coordination.state import ClusterState
from node.data.bulk_request import BulkItem
from node.data.cluster_settings import SimCosts
from node.data.doc_routing import new_document_id, shard_id
from node.data.errors import (
    DocumentMissingError,
    VersionConflictEngineError,
    index_not_found,
)
from node.data.index_metadata import indices_of
from node.data.local_shards import LocalShards
from node.data.shard_state import ShardStateAction
from node.data.simulated_work import simulate
from node.errors import ElasticsearchError
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskType
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = [
    "BulkAction",
    "BulkOptions",
    "ItemOutcome",
    "ShardWrite",
    "render_bulk_response",
    "render_item",
]

StateWaiter = Callable[[Callable[[ClusterState], bool], float], Awaitable[ClusterState | None]]


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """ES `timeout`: how long the reroute phase waits for an active primary (1m by default)."""

    timeout_millis: int = 60_000


@dataclass(slots=True)
class ItemOutcome:
    """One bulk item's answer: a result (`result`, `_version`, ...) or an error, with its HTTP status."""

    action: str
    index: str
    id: str | None
    status: int
    result: dict[str, Any] | None = None
    error: ElasticsearchError | None = None


@dataclass(slots=True)
class ShardWrite:
    """The operations of one bulk for one shard, and the bulk positions they answer."""

    index: str
    uuid: str
    shard: int
    operations: list[dict[str, Any]] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # -1: a counted operation (its positions in `counted`)
    counted: list[list[int]] = field(default_factory=list)
    requests: int = 0


def render_item(outcome: ItemOutcome) -> dict[str, Any]:
    """One element of a bulk response's `items` (ES `BulkItemResponse#toXContent`)."""
    if outcome.error is not None:
        body: dict[str, Any] = {"_index": outcome.index, "_id": outcome.id, "status": outcome.status}
        body["error"] = outcome.error.to_dict()
        return {outcome.action: body}
    assert outcome.result is not None
    return {outcome.action: {**outcome.result, "status": outcome.status}}


def render_bulk_response(outcomes: Sequence[ItemOutcome], took_millis: int) -> dict[str, Any]:
    """ES `BulkResponse#toXContent`: `errors`, `took`, `items`."""
    return {
        "errors": any(o.error is not None for o in outcomes),
        "took": took_millis,
        "items": [render_item(o) for o in outcomes],
    }


def _item_error(result: Mapping[str, Any], item: BulkItem, write: ShardWrite) -> ElasticsearchError:
    if result["error"] == "version_conflict":
        return VersionConflictEngineError(
            write.index, write.uuid, write.shard,
            f"[{item.id}]: version conflict, document already exists (current version [{result['current_version']}])",
        )  # fmt: skip
    return DocumentMissingError(write.index, write.uuid, write.shard, item.id or "")


def _parse_failure(problem: str) -> ElasticsearchError:
    """An unparsable source: ES's mapper fails the item with `document_parsing_exception`."""
    location, _, message = problem.partition("] ")
    reason = f"{location}] failed to parse: {message}" if problem.startswith("[") else problem
    return ElasticsearchError(reason, es_type="document_parsing_exception", status=400)


class BulkAction:
    """Coordinates bulks and serves the shard-level write actions on every node."""

    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        wait_for_state: StateWaiter,
        local_node_id: str,
        shards: LocalShards,
        shard_state: ShardStateAction,
        indices_admin: IndicesAdminAction,
    ) -> None:
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._shards = shards
        self._indices_admin = indices_admin
        self._replication = ReplicationAction(
            ReplicationActionNames(BULK_SHARD, BULK_SHARD_PRIMARY, BULK_SHARD_REPLICA),
            lambda r: f"requests[{r.requests}], index[{r.index}][{r.shard}]",
            transport, task_manager, cluster_state, wait_for_state, local_node_id, shard_state,
            self._primary_operation, self._replica_operation,
        )  # fmt: skip

    def costs(self) -> SimCosts:
        return SimCosts.from_metadata(self._cluster_state().metadata)

    # ---- coordinating node --------------------------------------------------------------------------------------

    async def execute(self, task: Task, items: Sequence[BulkItem], options: BulkOptions) -> list[ItemOutcome]:
        """Runs a validated bulk in `task` (the bulk task, or a single-document task); one outcome per item."""
        items = list(items)
        outcomes: list[ItemOutcome | None] = [None] * len(items)
        failed_indices = await self._auto_create(task, items)
        indices = indices_of(self._cluster_state().metadata)
        writes: dict[tuple[str, int], ShardWrite] = {}
        for position, item in enumerate(items):
            assert item.index is not None
            error = failed_indices.get(item.index)
            index = indices.get(item.index)
            if error is None and index is None:
                error = index_not_found(item.index)
            if error is not None:
                outcomes[position] = ItemOutcome(item.action, item.index, item.id, error.status, error=error)
                continue
            if item.id is None:  # ES generates the id on the coordinating node, once the index is known
                item = items[position] = item.with_id(new_document_id())
            assert index is not None and item.id is not None
            if item.source_problem is not None:
                failure = _parse_failure(item.source_problem)
                outcomes[position] = ItemOutcome(item.action, item.index, item.id, failure.status, error=failure)
                continue
            shard = item.shard if item.shard is not None else shard_id(item.id, index.number_of_shards, item.routing)
            write = writes.setdefault((index.name, shard), ShardWrite(index.name, index.uuid, shard))
            write.requests += 1
            if item.counted:  # consecutive counted items of one kind share one operation
                kind = {"index": "bulk_create", "create": "bulk_create", "update": "bulk_update"}.get(
                    item.action, "bulk_delete"
                )
                last = write.operations[-1] if write.operations else None
                if last is not None and last["op"] == kind:
                    last["count"] += 1
                    write.counted[-1].append(position)
                    continue
                write.operations.append({"op": kind, "count": 1})
                write.counted.append([position])
                write.positions.append(-1)
                continue
            operation: dict[str, Any] = {"op": item.action, "id": item.id}
            if item.action == "update":
                operation["upsert"] = item.upsert
            write.operations.append(operation)
            write.positions.append(position)
        results = await asyncio.gather(*(self.write_shard(task, w, options) for w in writes.values()))
        for write, result in zip(writes.values(), results, strict=True):
            for position, outcome in self._outcomes(write, items, result):
                outcomes[position] = outcome
        return [o for o in outcomes if o is not None]

    async def _auto_create(self, task: Task, items: Sequence[BulkItem]) -> dict[str, ElasticsearchError]:
        """ES creates missing indices before writing (not for deletes); returns the ones that could not be."""
        known = indices_of(self._cluster_state().metadata)
        missing = sorted(
            {i.index for i in items if i.index is not None and i.index not in known and i.action != "delete"}
        )
        if not missing:
            return {}
        if not self.costs().auto_create_index:
            failures: dict[str, ElasticsearchError] = {}
            for name in missing:
                error = index_not_found(name)
                error.reason = f"no such index [{name}] and [action.auto_create_index] is [false]"
                failures[name] = error
            return failures
        # ES runs the auto-create as a task of its own (no parent) through the node client.
        with self._task_manager.registered(
            type=TaskType.TRANSPORT, action=AUTO_CREATE_INDEX, headers=task.headers
        ) as create_task:
            return await self._indices_admin.auto_create(create_task, missing)

    def _outcomes(
        self, write: ShardWrite, items: Sequence[BulkItem], result: Mapping[str, Any] | ElasticsearchError
    ) -> list[tuple[int, ItemOutcome]]:
        out = []
        counted = iter(write.counted)
        for operation_index, position in enumerate(write.positions):
            positions = next(counted) if position == -1 else [position]
            for n, at in enumerate(positions):
                item = items[at]
                if isinstance(result, ElasticsearchError):
                    out.append((at, ItemOutcome(item.action, write.index, item.id, result.status, error=result)))
                    continue
                answer = result["results"][operation_index]
                if "error" in answer:
                    error = _item_error(answer, item, write)
                    out.append((at, ItemOutcome(item.action, write.index, item.id, error.status, error=error)))
                    continue
                kind = answer["result"]
                if position == -1 and n >= answer["count"]:  # fewer untracked documents than asked for
                    kind = "not_found" if item.action == "delete" else "noop"
                status = {"created": 201, "not_found": 404}.get(kind, 200)
                body = {
                    "_index": write.index,
                    "_id": item.id,
                    "_version": answer.get("version", 1),
                    "result": kind,
                    "_shards": result["shards"],
                    "_seq_no": answer["seq_no"],
                    "_primary_term": result["primary_term"],
                }
                out.append((at, ItemOutcome(item.action, write.index, item.id, status, result=body)))
        return out

    async def write_shard(
        self, parent: Task, write: ShardWrite, options: BulkOptions
    ) -> dict[str, Any] | ElasticsearchError:
        """Runs one shard's operations as an `[s]` child of `parent` (see `node.actions.replication`)."""
        request = pb.BulkShardRequest(
            index=write.index, index_uuid=write.uuid, shard=write.shard, requests=write.requests,
            operations_json=json.dumps(write.operations, separators=(",", ":")),
            timeout_millis=options.timeout_millis,
        )  # fmt: skip
        return await self._replication.run(parent, request)

    # ---- shard operations ---------------------------------------------------------------------------------------

    async def _primary_operation(
        self, task: Task, request: pb.BulkShardRequest, state: ClusterState
    ) -> tuple[Any, Any | None]:
        """ES `TransportShardBulkAction#shardOperationOnPrimary`: apply, and replicate the effects."""
        costs = SimCosts.from_metadata(state.metadata)
        await simulate(None, costs.write_doc * request.requests, costs.check_interval)
        outcome = await self._shards.apply_on_primary(
            (request.index_uuid, request.shard), json.loads(request.operations_json)
        )
        return outcome.results, (outcome.effects or None)

    async def _replica_operation(self, task: Task, request: pb.BulkShardRequest, state: ClusterState) -> None:
        costs = SimCosts.from_metadata(state.metadata)
        await simulate(None, costs.write_doc * request.requests, costs.check_interval)
        await self._shards.apply_on_replica((request.index_uuid, request.shard), json.loads(request.operations_json))
