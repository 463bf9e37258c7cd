"""`indices:data/read/get` and `indices:data/read/mget` with their shard actions (mirrors ES `TransportGetAction`
and `TransportMultiGetAction` / `TransportShardMultiGetAction`, single-shard actions).

A document's shard is found by routing its id; its active copies are tried in turn (round-robin, or `preference`:
`_local`, `_only_local`, `_prefer_nodes:`, `_only_nodes:`, any other text), `direct` when the copy is on the
coordinating node, until one answers (ES `TransportSingleShardAction`: any failure of a copy moves on to the next;
when none is left, a shard-not-available failure becomes `No shard available for [...]` and any other is relayed).

A found document answers, in ES `GetResult` order, `_index`, `_id`, `_version`, `_seq_no`, `_primary_term`,
`_routing` (when it was indexed with one), `found` and `_source` (filtered by `_source`, `_source_includes`,
`_source_excludes`). A `version` that differs from the document's is ES's 409 `version_conflict_engine_exception`
(`current version [2] is different than the one provided [1]`), checked on the copy as ES's engine checks it.

A multi-get groups its documents by shard and reads each shard once (`indices:data/read/mget[shard][s]`); a
document whose index does not exist or whose shard failed answers its own error in place, as ES's
`MultiGetResponse` does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from node.actions.support.services import NodeServices
from node.actions.support.shard_copies import shard_iterator, try_copies
from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.action_names import GET_DOCUMENT, GET_DOCUMENT_SHARD, MULTI_GET, MULTI_GET_SHARD
from node.data.allocation import copies_of, routing_view
from node.data.doc_routing import shard_id
from node.data.doc_versioning import MATCH_ANY, VersionType, read_conflict
from node.data.errors import (
    NoShardAvailableActionError,
    ShardNotFoundError,
    VersionConflictEngineError,
)
from node.data.index_metadata import indices_of
from node.data.index_resolver import concrete_single_index
from node.data.shard_iterator import CopyFailure, is_shard_not_available
from node.data.shard_query import StoredDocument, render_get_result
from node.data.source_filter import SourceFilter
from node.errors import ElasticsearchError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["GetAction", "GetRequest", "MultiGetAction", "MultiGetItem", "MultiGetRequest"]


@dataclass(frozen=True, slots=True)
class GetRequest:
    index: str
    id: str
    routing: str | None = None
    preference: str | None = None
    source_filter: SourceFilter = field(default_factory=SourceFilter)
    version: int = MATCH_ANY
    version_type: VersionType = VersionType.INTERNAL

    def description(self) -> str:
        return f"get [{self.index}][{self.id}]: routing [{self.routing}]"

    def fetch_json(self) -> str:
        return json.dumps(
            {"source": self.source_filter.to_json(), "version": self.version, "version_type": self.version_type.value},
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class MultiGetItem:
    """One document of a multi-get: its index, id, routing and `_source` filter."""

    index: str
    id: str
    routing: str | None = None
    source_filter: SourceFilter = field(default_factory=SourceFilter)
    version: int = MATCH_ANY
    version_type: VersionType = VersionType.INTERNAL

    def as_get(self, preference: str | None) -> GetRequest:
        return GetRequest(self.index, self.id, self.routing, preference, self.source_filter, self.version,
                          self.version_type)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MultiGetRequest:
    items: tuple[MultiGetItem, ...]
    preference: str | None = None

    def description(self) -> str:
        return f"requests[{len(self.items)}]"


def _no_shard(request: GetRequest, failure: CopyFailure) -> ElasticsearchError:
    """ES's failure when no copy answered: relayed as it is, unless it only said the shard is not there."""
    if failure.node_id is not None and not is_shard_not_available(failure.error):
        return failure.error
    error = NoShardAvailableActionError(f"No shard available for [{request.description()}]")
    if failure.node_id is not None:
        error.cause = failure.error
    return error


class _ShardReader(TransportAction[Any, Any]):
    """What get and multi-get share: finding a document's shard and asking its copies in turn."""

    def __init__(self, services: NodeServices) -> None:
        super().__init__(services)
        self._turns = itertools.count()

    async def _ask_copies(
        self, task: Task, state: ClusterState, request: GetRequest, action: str, shard_request: pb.ShardSearchRequest
    ) -> dict[str, Any]:
        """The shard's answer from the first copy that gives one.

        Raises:
            ElasticsearchError: every copy failed (see `_no_shard`).
        """
        metadata = routing_view(state.metadata, set(state.nodes))
        meta = indices_of(metadata)[request.index]
        copies = shard_iterator(
            state, meta, shard_request.shard, copies_of(metadata, request.index)[shard_request.shard],
            request.preference, self.local_node.id, next(self._turns),
        )  # fmt: skip

        async def ask(node: DiscoveryNode) -> dict[str, Any]:
            default = self.cluster.node_request_timeout
            with self.task_manager.child_request(task, node.id):
                response = await self.transport.send_request(
                    node, action, shard_request, parent=task, timeout=default.seconds if default is not None else None,
                )  # fmt: skip
            body: dict[str, Any] = json.loads(response.result_json)
            return body

        outcome = await try_copies(copies, state, ask)
        if isinstance(outcome, CopyFailure):
            raise _no_shard(request, outcome)
        return outcome.response

    async def _read(self, request: pb.ShardSearchRequest, doc_id: str, options: dict[str, Any]) -> dict[str, Any]:
        """One document as ES's shard get answers it (`ShardGetService#get`), checked against a `version`."""
        self._check_copy(request)
        doc = await self.services.shards.get_document((request.index_uuid, request.shard), doc_id)
        return _rendered(request, doc_id, doc, options)

    def _check_copy(self, request: pb.ShardSearchRequest) -> None:
        """Raises `shard_not_found_exception` when the index this copy belonged to is gone (or was recreated)."""
        meta = indices_of(self.cluster.state().metadata).get(request.index)
        if meta is None or meta.uuid != request.index_uuid:
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)


def _rendered(
    request: pb.ShardSearchRequest, doc_id: str, doc: StoredDocument | None, options: dict[str, Any]
) -> dict[str, Any]:
    """A read document as ES renders a get, after its `version` check.

    Raises:
        VersionConflictEngineError: the document has another version than the one asked for.
    """
    version = int(options.get("version", MATCH_ANY))
    if doc is not None and version != MATCH_ANY:
        reason = read_conflict(doc_id, version, VersionType(options.get("version_type", "internal")), doc.version)
        if reason is not None:
            raise VersionConflictEngineError(request.index, request.index_uuid, request.shard, reason)
    return render_get_result(request.index, doc_id, doc, SourceFilter.from_json(options.get("source")))


class GetAction(_ShardReader):
    name = GET_DOCUMENT

    def register(self) -> None:
        self.transport.register_action(
            GET_DOCUMENT_SHARD, pb.ShardSearchRequest, pb.ShardSearchResponse, self._on_shard
        )

    async def execute(self, task: Task, request: GetRequest) -> dict[str, Any]:
        """The get response body; `found` tells whether the document exists.

        Raises:
            IndexNotFoundError: no such index.
            VersionConflictEngineError: the document's version differs from `version`.
            NoShardAvailableActionError: no copy of the document's shard could answer (caused by the last failure).
            ElasticsearchError: every copy failed, the last one with more than "not available" (ES relays it).
        """
        state = self.cluster.state()
        indices = indices_of(state.metadata)
        # An alias of one index or a date-math name reads its index; a closed index refuses (ES `concreteSingleIndex`).
        request = replace(request, index=concrete_single_index(request.index, indices))
        meta = indices[request.index]
        shard = shard_id(request.id, meta.number_of_shards, request.routing)
        shard_request = pb.ShardSearchRequest(
            index=request.index, index_uuid=meta.uuid, shard=shard, doc_ids=[request.id],
            fetch_json=request.fetch_json(),
        )  # fmt: skip
        return await self._ask_copies(task, state, request, GET_DOCUMENT_SHARD, shard_request)

    async def _on_shard(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        options = json.loads(request.fetch_json) if request.fetch_json else {}
        body = await self._read(request, request.doc_ids[0], options)
        return pb.ShardSearchResponse(result_json=json.dumps(body, separators=(",", ":")))


class MultiGetAction(_ShardReader):
    """`indices:data/read/mget`: every document's get, one shard request per shard (ES `TransportMultiGetAction`)."""

    name = MULTI_GET

    def register(self) -> None:
        self.transport.register_action(MULTI_GET_SHARD, pb.ShardSearchRequest, pb.ShardSearchResponse, self._on_shard)

    async def execute(self, task: Task, request: MultiGetRequest) -> list[dict[str, Any]]:
        """One entry per requested document, in order: its get result, or `{_index, _id, error}`."""
        state = self.cluster.state()
        indices = indices_of(state.metadata)
        answers: list[dict[str, Any] | None] = [None] * len(request.items)
        resolved = list(request.items)
        by_shard: dict[tuple[str, int], list[int]] = {}
        for position, item in enumerate(request.items):
            try:
                name = concrete_single_index(item.index, indices)
            except ElasticsearchError as e:
                answers[position] = _failure(item, e)
                continue
            item = resolved[position] = replace(item, index=name)
            meta = indices[name]
            by_shard.setdefault((item.index, shard_id(item.id, meta.number_of_shards, item.routing)), []).append(
                position
            )

        async def one_shard(index: str, shard: int, positions: Sequence[int]) -> None:
            items = [resolved[p] for p in positions]
            shard_request = pb.ShardSearchRequest(
                index=index, index_uuid=indices[index].uuid, shard=shard, doc_ids=[i.id for i in items],
                fetch_json=json.dumps([json.loads(i.as_get(None).fetch_json()) for i in items], separators=(",", ":")),
            )  # fmt: skip
            try:
                body = await self._ask_copies(
                    task, state, items[0].as_get(request.preference), MULTI_GET_SHARD, shard_request
                )
            except ElasticsearchError as e:
                for position in positions:
                    answers[position] = _failure(request.items[position], e)
                return
            for position, answer in zip(positions, body["docs"], strict=True):
                answers[position] = (
                    _failure(request.items[position], ElasticsearchError.from_wire(answer["error"]))
                    if "error" in answer
                    else answer
                )

        await asyncio.gather(*(one_shard(index, shard, positions) for (index, shard), positions in by_shard.items()))
        return [a for a in answers if a is not None]

    async def _on_shard(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        """ES `TransportShardMultiGetAction#shardOperation`: each document's get, a failure in its own place."""
        options = json.loads(request.fetch_json) if request.fetch_json else []
        self._check_copy(request)
        found = await self.services.shards.get_documents((request.index_uuid, request.shard), request.doc_ids)
        docs: list[dict[str, Any]] = []
        for doc_id, doc_options in zip(request.doc_ids, options, strict=True):
            try:
                docs.append(_rendered(request, doc_id, found.get(doc_id), doc_options))
            except VersionConflictEngineError as e:
                docs.append({"error": e.to_wire()})
        return pb.ShardSearchResponse(result_json=json.dumps({"docs": docs}, separators=(",", ":")))


def _failure(item: MultiGetItem, error: ElasticsearchError) -> dict[str, Any]:
    """ES `MultiGetResponse.Failure`: `_index`, `_id`, and the error as ES renders a failure (with `root_cause`)."""
    return {"_index": item.index, "_id": item.id, "error": error.to_response_body()["error"]}
