"""The shard side of search (mirrors ES `SearchService` and the handlers `SearchTransportService` registers).

Every node serves the shard phases of searches and scrolls for the copies it holds: `[phase/query]` (opening a
search context when a fetch or a scroll round will come back), `[phase/fetch/id]`, `[phase/query/scroll]`,
`[phase/fetch/id/scroll]` and `[free_context]` / `[free_context/scroll]`. Each phase spends its simulated time
(`sim.search.shard_query_time`, `sim.search.shard_fetch_time`, `sim.scroll.batch_time`) in steps and notices
cancellation at its checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from node.cluster.service import ClusterService
from node.common.action_names import (
    SEARCH_FETCH,
    SEARCH_FETCH_SCROLL,
    SEARCH_FREE_CONTEXT,
    SEARCH_FREE_CONTEXT_SCROLL,
    SEARCH_QUERY,
    SEARCH_QUERY_SCROLL,
)
from node.data.allocation import copies_of
from node.data.errors import ShardNotFoundError
from node.data.index_metadata import indices_of
from node.data.search_request import check_keep_alive, check_shard_search, slice_range
from node.indices.local_shards import LocalShards
from node.indices.search_contexts import SearchContexts
from node.indices.simulated_work import simulate
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["SearchService"]


def _response(body: Mapping[str, Any]) -> pb.ShardSearchResponse:
    return pb.ShardSearchResponse(result_json=json.dumps(body, separators=(",", ":")))


class SearchService:
    """Serves the shard phases of searches on this node and holds its open search contexts."""

    def __init__(self, transport: TransportService, cluster: ClusterService, shards: LocalShards) -> None:
        self._transport = transport
        self._cluster = cluster
        self._shards = shards
        self.contexts = SearchContexts()

        def shard_id(request: pb.ShardSearchRequest) -> str:
            return f"shardId[[{request.index}][{request.shard}]]"

        def fetch(request: pb.ShardSearchRequest) -> str:
            return f"id[[{self.contexts.session_id}][{request.context_id}]], size[{len(request.doc_ids)}], lastEmittedDoc[null]"

        def scroll(request: pb.ShardSearchRequest) -> str:
            return f"id[{request.context_id}], "

        for action, handler, describe, cancellable in (
            (SEARCH_QUERY, self._on_query, shard_id, True),
            (SEARCH_FETCH, self._on_fetch, fetch, True),
            (SEARCH_FREE_CONTEXT, self._on_free, None, False),
            (SEARCH_QUERY_SCROLL, self._on_query_scroll, scroll, True),
            (SEARCH_FETCH_SCROLL, self._on_fetch, fetch, True),
            (SEARCH_FREE_CONTEXT_SCROLL, self._on_free, None, False),
        ):
            transport.register_action(
                action, pb.ShardSearchRequest, pb.ShardSearchResponse, handler, cancellable=cancellable,
                describe=describe,
            )  # fmt: skip

    def _check_copy(self, request: pb.ShardSearchRequest) -> None:
        state = self._cluster.state()
        index = indices_of(state.metadata).get(request.index)
        copies = copies_of(state.metadata, request.index) if index is not None else ()
        if (
            index is None
            or index.uuid != request.index_uuid
            or request.shard >= len(copies)
            or not any(c.node == self._transport.local_node.id and c.active for c in copies[request.shard])
        ):
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)

    async def _on_query(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        self._check_copy(request)
        check_shard_search(getattr(request, "from"), request.size, request.keep_alive_millis, request.slice_max)
        with self._shards.stats.phase((request.index_uuid, request.shard), "query"):
            return await self._query(task, request)

    async def _query(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        costs = self._cluster.costs()
        await simulate(task, costs.shard_query, costs.check_interval)
        key = (request.index_uuid, request.shard)
        offset = getattr(request, "from")
        if request.keep_alive_millis:  # a scroll reads a point-in-time view, as ES's scroll reader does
            view = await self._shards.document_refs(key)
            docs = len(view[0]) + view[1]
            start, end = slice_range(docs, request.slice_id, request.slice_max) if request.slice_max else (0, docs)
            context = self.contexts.open(
                request.index, request.index_uuid, request.shard, start, end, request.size,
                request.keep_alive_millis / 1000, view,
            )  # fmt: skip
            ids = context.page(start, request.size)
            return _response(
                {"total": end - start, "ids": ids, "node": self._transport.local_node.id, "context_id": context.id}
            )
        docs = await self._shards.count(key)
        start, end = slice_range(docs, request.slice_id, request.slice_max) if request.slice_max else (0, docs)
        wanted = min(offset + request.size, end - start)
        ids = await self._shards.document_ids(key, start, wanted) if wanted > 0 else []
        body: dict[str, Any] = {"total": end - start, "ids": ids, "node": self._transport.local_node.id}
        if request.fetch:
            with self._shards.stats.phase(key, "fetch"):
                await simulate(task, costs.shard_fetch, costs.check_interval)
            body["hits"] = [
                {"_index": request.index, "_id": doc_id, "_shard": request.shard} for doc_id in ids[offset:]
            ]
        elif ids:
            context = self.contexts.open(
                request.index, request.index_uuid, request.shard, start, end, request.size, None
            )
            body["context_id"] = context.id
        return _response(body)

    async def _on_query_scroll(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        check_keep_alive(request.keep_alive_millis)
        context = self.contexts.get(request.context_id, request.keep_alive_millis / 1000 or None)
        costs = self._cluster.costs()
        with self._shards.stats.phase((context.uuid, context.shard), "query"):
            await simulate(task, costs.scroll_batch, costs.check_interval)
        ids = context.page(context.position, request.size or context.size)
        return _response({"total": context.total, "ids": ids, "node": self._transport.local_node.id})

    async def _on_fetch(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        context = self.contexts.get(request.context_id)
        costs = self._cluster.costs()
        with self._shards.stats.phase((context.uuid, context.shard), "fetch"):
            await simulate(task, costs.shard_fetch, costs.check_interval)
        hits = [{"_index": context.index, "_id": doc_id, "_shard": context.shard} for doc_id in request.doc_ids]
        if context.scroll:
            for hit in hits:
                hit["_tracked"] = context.is_tracked(hit["_id"])
            context.position += len(request.doc_ids)
        else:
            self.contexts.free(context.id)
        return _response({"hits": hits})

    async def _on_free(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        return _response({"freed": self.contexts.free(request.context_id)})
