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

Every item travels to its shard's primary with its source (or its update body) and its concurrency parameters;
the primary decides versions and conflicts (`node.indices.shard_store`) and replicates what it wrote. Auto-generated
ids are made on the coordinating node, so a retried write updates instead of writing twice. `refresh=true` answers
`forced_refresh: true` on every item (documents are visible at once here; ES refreshes the shards).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.indices_admin import AutoCreateIndexAction, AutoCreateIndexRequest
from node.actions.support.replication_action import TransportReplicationAction
from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import BULK, BULK_SHARD, DELETE_DOCUMENT, INDEX_DOCUMENT, UPDATE_DOCUMENT
from node.data.bulk_request import BulkItem, describe_bulk, resolve_write_targets
from node.data.doc_routing import new_document_id, shard_id
from node.data.errors import index_not_found
from node.data.index_metadata import indices_of
from node.errors import ElasticsearchError, IllegalArgumentError
from node.indices.simulated_work import simulate
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = [
    "BulkAction",
    "BulkOptions",
    "BulkRequest",
    "DeleteAction",
    "IndexAction",
    "ItemOutcome",
    "ShardBulkAction",
    "ShardWrite",
    "UpdateAction",
]


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """ES `timeout` (how long the reroute phase waits for an active primary, 1m by default) and `refresh`."""

    timeout_millis: int = 60_000
    refresh: str | None = None  # `true`, `wait_for`, or None (`false`)

    @property
    def forced_refresh(self) -> bool:
        return self.refresh == "true"


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
    positions: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.operations)


def shard_operation(item: BulkItem) -> dict[str, Any]:
    """What the primary receives for one item (see `node.indices.shard_store`)."""
    operation: dict[str, Any] = {"op": item.action, "id": item.id}
    if item.routing is not None:
        operation["routing"] = item.routing
    operation.update(item.conditions.to_json())
    if item.action in ("index", "create"):
        operation["source"] = item.source if item.source is not None else {}
    elif item.action == "update" and item.update is not None:
        operation["update"] = item.update.to_json()
        if item.fetch_source is not None and item.fetch_source.fetch:
            operation["return_source"] = True
    return operation


def _update_get(item: BulkItem, answer: Mapping[str, Any]) -> dict[str, Any]:
    """ES `UpdateHelper#extractGetResult`, rendered as `GetResult#toXContentEmbedded`."""
    assert item.fetch_source is not None
    get: dict[str, Any] = {}
    if answer["seq_no"] >= 0:
        get["_seq_no"] = answer["seq_no"]
        get["_primary_term"] = answer["primary_term"]
    if item.routing is not None:
        get["_routing"] = item.routing
    get["found"] = True
    get["_source"] = item.fetch_source.apply(answer["source"])
    return get


def _parse_failure(problem: str) -> ElasticsearchError:
    """An unparsable source: ES's mapper fails the item with `document_parsing_exception`."""
    location, _, message = problem.partition("] ")
    reason = f"{location}] failed to parse: {message}" if problem.startswith("[") else problem
    return ElasticsearchError(reason, es_type="document_parsing_exception", status=400)


@dataclass(frozen=True, slots=True)
class BulkRequest:
    """ES `BulkRequest`: the validated items and the write options; `text` overrides the task description (a
    single-document request describes its document, `index {[logs][1], source[{...}]}`)."""

    items: tuple[BulkItem, ...]
    options: BulkOptions = field(default_factory=BulkOptions)
    text: str | None = None

    def description(self) -> str:
        return self.text if self.text is not None else describe_bulk(self.items)


class ShardBulkAction(TransportReplicationAction):
    """`indices:data/write/bulk[s]`: one shard's operations, applied on the primary and replicated (ES
    `TransportShardBulkAction`)."""

    name = BULK_SHARD

    def describe(self, request: pb.BulkShardRequest) -> str:
        return f"requests[{request.requests}], index[{request.index}][{request.shard}]"

    async def shard_operation_on_primary(
        self, task: Task, request: pb.BulkShardRequest, state: ClusterState
    ) -> tuple[Any, Any | None]:
        """ES `TransportShardBulkAction#shardOperationOnPrimary`: apply, and replicate the effects."""
        costs = self.cluster.costs()
        await simulate(None, costs.write_doc * request.requests, costs.check_interval)
        term = indices_of(state.metadata)[request.index].primary_terms[request.shard]
        outcome = await self.services.shards.apply_on_primary(
            (request.index_uuid, request.shard), request.index, json.loads(request.operations_json), term
        )
        return outcome.results, (outcome.effects or None)

    async def shard_operation_on_replica(self, task: Task, request: pb.BulkShardRequest, state: ClusterState) -> None:
        costs = self.cluster.costs()
        await simulate(None, costs.write_doc * request.requests, costs.check_interval)
        await self.services.shards.apply_on_replica(
            (request.index_uuid, request.shard), json.loads(request.operations_json)
        )


class BulkAction(TransportAction[BulkRequest, list[ItemOutcome]]):
    """`indices:data/write/bulk`: groups the items by shard and writes every shard's share as an `[s]` child."""

    name = BULK

    # ---- coordinating node --------------------------------------------------------------------------------------

    async def execute(self, task: Task, request: BulkRequest) -> list[ItemOutcome]:
        """Runs a validated bulk in `task` (the bulk task, or a single-document task); one outcome per item."""
        options = request.options
        items, unwritable = resolve_write_targets(
            request.items, indices_of(self.cluster.state().metadata), time.time_ns() // 1_000_000
        )
        outcomes: list[ItemOutcome | None] = [None] * len(items)
        failed_indices = await self._auto_create(task, [i for p, i in enumerate(items) if p not in unwritable])
        indices = indices_of(self.cluster.state().metadata)
        writes: dict[tuple[str, int], ShardWrite] = {}
        for position, item in enumerate(items):
            assert item.index is not None
            error = unwritable.get(position) or failed_indices.get(item.index)
            index = indices.get(item.index)
            if error is None and index is None:
                error = index_not_found(item.index)
            if error is not None:
                outcomes[position] = ItemOutcome(item.action, item.index, item.id, error.status, error=error)
                continue
            assert index is not None
            if item.id == "" and item.action in ("index", "create"):  # ES `IndexRouting#process`
                error = IllegalArgumentError("if _id is specified it must not be empty")
                outcomes[position] = ItemOutcome(item.action, index.name, item.id, error.status, error=error)
                continue
            if item.id is None:  # ES generates the id on the coordinating node, once the index is known
                item = items[position] = item.with_id(new_document_id())
            assert item.id is not None
            if item.source_problem is not None:
                failure = _parse_failure(item.source_problem)
                outcomes[position] = ItemOutcome(item.action, index.name, item.id, failure.status, error=failure)
                continue
            shard = shard_id(item.id, index.number_of_shards, item.routing)
            write = writes.setdefault((index.name, shard), ShardWrite(index.name, index.uuid, shard))
            write.operations.append(shard_operation(item))
            write.positions.append(position)
        results = await asyncio.gather(*(self.write_shard(task, w, options) for w in writes.values()))
        for write, result in zip(writes.values(), results, strict=True):
            for position, outcome in self._outcomes(write, items, result, options):
                outcomes[position] = outcome
        return [o for o in outcomes if o is not None]

    async def _auto_create(self, task: Task, items: Sequence[BulkItem]) -> dict[str, ElasticsearchError]:
        """ES creates missing indices before writing (not for deletes); returns the ones that could not be."""
        known = indices_of(self.cluster.state().metadata)
        missing = sorted(
            {i.index for i in items if i.index is not None and i.index not in known and i.action != "delete"}
        )
        if not missing:
            return {}
        if not self.cluster.costs().auto_create_index:
            failures: dict[str, ElasticsearchError] = {}
            for name in missing:
                error = index_not_found(name)
                error.reason = f"no such index [{name}] and [action.auto_create_index] is [false]"
                failures[name] = error
            return failures
        # ES runs the auto-create as a task of its own (no parent) through the node client.
        response = await self.client.execute(
            AutoCreateIndexAction, AutoCreateIndexRequest(indices=tuple(missing)), headers=task.headers
        )
        return {name: ElasticsearchError.from_wire(error) for name, error in response.get("errors", {}).items()}

    def _outcomes(
        self,
        write: ShardWrite,
        items: Sequence[BulkItem],
        result: Mapping[str, Any] | ElasticsearchError,
        options: BulkOptions,
    ) -> list[tuple[int, ItemOutcome]]:
        """ES `BulkItemResponse`s of one shard's items: `_index`, `_id`, `_version`, `result`, `forced_refresh`,
        `_shards`, `_seq_no`, `_primary_term` (and an update's `get`), or the item's error."""
        out = []
        for operation_index, at in enumerate(write.positions):
            item = items[at]
            if isinstance(result, ElasticsearchError):
                out.append((at, ItemOutcome(item.action, write.index, item.id, result.status, error=result)))
                continue
            answer = result["results"][operation_index]
            if "error" in answer:
                error = ElasticsearchError.from_wire(answer["error"])
                out.append((at, ItemOutcome(item.action, write.index, item.id, error.status, error=error)))
                continue
            kind = answer["result"]
            status = {"created": 201, "not_found": 404}.get(kind, 200)
            body: dict[str, Any] = {
                "_index": write.index,
                "_id": item.id,
                "_version": answer["version"],
                "result": kind,
            }
            if options.forced_refresh:
                body["forced_refresh"] = True
            body["_shards"] = result["shards"]
            if answer["seq_no"] >= 0:
                body["_seq_no"] = answer["seq_no"]
                body["_primary_term"] = answer["primary_term"]
            if item.action == "update" and "source" in answer and item.fetch_source is not None:
                body["get"] = _update_get(item, answer)
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
        try:
            return await self.client.execute(ShardBulkAction, request, parent=parent)
        except ElasticsearchError as e:
            return e


class IndexAction(BulkAction):
    """`indices:data/write/index`: one document, through the same shard actions (ES
    `TransportSingleItemBulkWriteAction`)."""

    name = INDEX_DOCUMENT


class DeleteAction(BulkAction):
    name = DELETE_DOCUMENT


class UpdateAction(BulkAction):
    """`indices:data/write/update`: one update, resolved on the primary (ES `TransportUpdateAction`, whose shard
    request ends in the bulk shard actions)."""

    name = UPDATE_DOCUMENT
