"""The shard side of search (mirrors ES `SearchService` and the handlers `SearchTransportService` registers).

Every node serves the shard phases of searches and scrolls for the copies it holds: `[phase/query]` (evaluating
the query against the copy's documents, and opening a search context when a fetch or a scroll round will come
back), `[phase/fetch/id]`, `[phase/query/scroll]`, `[phase/fetch/id/scroll]` and `[free_context]` /
`[free_context/scroll]`. Each phase spends its simulated time (`sim.search.shard_query_time`,
`sim.search.shard_fetch_time`, `sim.scroll.batch_time`) in steps and notices cancellation at its checks.

A query phase answers the shard's total, its best score, and a reference to each of its top hits (`[id, sort key,
score]`) from which the coordinating node picks the page; the fetch phase renders the picked hits from the context
(`node.data.shard_query.render_hit`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
from node.data.search_request import check_keep_alive, check_shard_search
from node.data.search_sort import SortClause
from node.data.shard_query import ShardHit, ShardQuery, hit_ref, render_hit
from node.data.source_filter import SourceFilter
from node.indices.local_shards import LocalShards
from node.indices.search_contexts import SearchContext, SearchContexts
from node.indices.simulated_work import simulate
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["SearchService"]


def _response(body: Mapping[str, Any]) -> pb.ShardSearchResponse:
    return pb.ShardSearchResponse(result_json=json.dumps(body, separators=(",", ":")))


def _max_score(hits: list[ShardHit]) -> float | None:
    scores = [h.score for h in hits if h.score is not None]
    return max(scores) if scores else None


def _render(index: str, hits: Sequence[ShardHit], options: Mapping[str, Any]) -> list[dict[str, Any]]:
    source_filter = SourceFilter.from_json(options.get("source"))
    version, seq_no = bool(options.get("version")), bool(options.get("seq_no_primary_term"))
    return [render_hit(index, h, source_filter, version=version, seq_no_primary_term=seq_no) for h in hits]


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
        spec = json.loads(request.query_json) if request.query_json else {}
        options = json.loads(request.fetch_json) if request.fetch_json else {}
        scroll = request.keep_alive_millis > 0
        query = ShardQuery(
            query=spec.get("query"),
            sort=tuple(SortClause.from_dict(c) for c in spec.get("sort") or ()),
            window=None if scroll else offset + request.size,
            slice=(request.slice_id, request.slice_max) if request.slice_max else None,
            track_scores=bool(spec.get("track_scores", False)),
            search_after=tuple(spec["search_after"]) if spec.get("search_after") is not None else None,
        )
        total, hits = await self._shards.search(key, query)
        body: dict[str, Any] = {"total": total, "max_score": _max_score(hits), "node": self._transport.local_node.id}
        if scroll:  # a scroll reads every match as it is now: a point-in-time view, as ES's scroll reader does
            context = self._open(request, hits, total, request.keep_alive_millis / 1000, options)
            body["hits"] = [hit_ref(h) for h in context.page(0, request.size)]
            body["context_id"] = context.id
            return _response(body)
        if request.fetch:
            with self._shards.stats.phase(key, "fetch"):
                await simulate(task, costs.shard_fetch, costs.check_interval)
            body["fetched"] = _render(request.index, hits[offset:], options)
            return _response(body)
        body["hits"] = [hit_ref(h) for h in hits]
        if hits:
            body["context_id"] = self._open(request, hits, total, None, options).id
        return _response(body)

    def _open(
        self,
        request: pb.ShardSearchRequest,
        hits: Sequence[ShardHit],
        total: int,
        keep_alive_s: float | None,
        options: Mapping[str, Any],
    ) -> SearchContext:
        return self.contexts.open(
            request.index, request.index_uuid, request.shard, hits, total, request.size, keep_alive_s, options
        )

    async def _on_query_scroll(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        check_keep_alive(request.keep_alive_millis)
        context = self.contexts.get(request.context_id, request.keep_alive_millis / 1000 or None)
        costs = self._cluster.costs()
        with self._shards.stats.phase((context.uuid, context.shard), "query"):
            await simulate(task, costs.scroll_batch, costs.check_interval)
        page = list(context.page(context.position, request.size or context.size))
        return _response(
            {"total": context.total, "max_score": context.max_score, "hits": [hit_ref(h) for h in page],
             "node": self._transport.local_node.id}
        )  # fmt: skip

    async def _on_fetch(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        context = self.contexts.get(request.context_id)
        costs = self._cluster.costs()
        with self._shards.stats.phase((context.uuid, context.shard), "fetch"):
            await simulate(task, costs.shard_fetch, costs.check_interval)
        hits = context.hits_of(request.doc_ids)
        if context.scroll:
            context.position += len(request.doc_ids)
        else:
            self.contexts.free(context.id)
        return _response({"hits": _render(context.index, hits, context.fetch_options)})

    async def _on_free(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        return _response({"freed": self.contexts.free(request.context_id)})
