"""`indices:data/read/search`, scroll and clear-scroll, and their shard phases (mirrors ES `TransportSearchAction`,
`SearchQueryThenFetchAsyncAction`, `SearchScrollQueryThenFetchAsyncAction` and `SearchTransportService`;
reference §15.1).

The task tree of a search over a 3-shard index, coordinated on A:

    A  indices:data/read/search                    transport  indices[logs], search_type[QUERY_THEN_FETCH], source[{}]
    A  ├ indices:data/read/search[phase/query]     direct     shardId[[logs][0]]
    B  ├ indices:data/read/search[phase/query]     transport  shardId[[logs][1]]
    C  └ indices:data/read/search[phase/query]     transport  shardId[[logs][2]]

then `[phase/fetch/id]` (`id[[<session>][<n>]], size[k], lastEmittedDoc[null]`) on the shards whose documents made
the page and `[free_context]` on the others. A single-shard search fetches in its query phase (ES's query+fetch
optimisation). Scroll rounds are `indices:data/read/scroll` with `[phase/query/scroll]` and
`[phase/fetch/id/scroll]` on the shards' nodes; a clear-scroll sends `[free_context/scroll]`.

Each shard phase spends its simulated time (`sim.search.shard_query_time`, `sim.search.shard_fetch_time`,
`sim.scroll.batch_time`) in steps and notices cancellation at its checks. The coordinator fails with
`task_cancelled_exception` as soon as its own task is cancelled; the shard requests still running are banned
(their tasks are listed `cancelled: true` until they notice), as ES does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node.actions.support.services import NodeServices
from node.actions.support.transport_action import Request, TransportAction
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.action_names import (
    CLEAR_SCROLL,
    SCROLL,
    SEARCH,
    SEARCH_FETCH,
    SEARCH_FETCH_SCROLL,
    SEARCH_FREE_CONTEXT,
    SEARCH_FREE_CONTEXT_SCROLL,
    SEARCH_QUERY,
    SEARCH_QUERY_SCROLL,
    SEARCH_SHARDS,
)
from node.common.background import BackgroundTasks
from node.data.allocation import copies_of, routing_view
from node.data.errors import NoShardAvailableActionError, SearchPhaseExecutionError, ShardNotFoundError
from node.data.index_metadata import indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.data.search_request import (
    SearchRequest,
    ShardTarget,
    decode_scroll_id,
    encode_scroll_id,
    render_hits_total,
)
from node.errors import ElasticsearchError, IllegalArgumentError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = [
    "MAX_RESULT_WINDOW",
    "ClearScrollAction",
    "ClearScrollRequest",
    "SearchAction",
    "SearchScrollAction",
    "SearchScrollRequest",
    "SearchShardsAction",
    "SearchShardsRequest",
    "shard_failure",
]

log = logging.getLogger(__name__)

MAX_RESULT_WINDOW = 10_000  # ES `index.max_result_window`
ShardOutcome = dict[str, Any] | ElasticsearchError


def shard_failure(target: ShardTarget, error: ElasticsearchError) -> dict[str, Any]:
    """An element of `_shards.failures` (ES `ShardSearchFailure#toXContent`)."""
    return {"shard": target.shard, "index": target.index, "node": target.node_id, "reason": error.to_dict()}


@dataclass(frozen=True, slots=True)
class SearchScrollRequest:
    """ES `SearchScrollRequest`: the scroll id and how long its contexts stay open after this round."""

    scroll_id: str
    keep_alive_millis: int = 0
    keep_alive_text: str | None = None  # as ES prints it (`5m`); None: the request set none
    internal: bool = False  # a reindex worker's scroll: hits keep their shard and whether their id is tracked

    def description(self) -> str:
        keep_alive = self.keep_alive_text if self.keep_alive_text is not None else "null"
        return f"scrollId[{self.scroll_id}], scroll[Scroll{{keepAlive={keep_alive}}}]"


@dataclass(frozen=True, slots=True)
class ClearScrollRequest:
    scroll_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchShardsRequest:
    indices: tuple[str, ...]
    options: IndicesOptions

    def description(self) -> str:
        return ""


class SearchShardsAction(TransportAction[SearchShardsRequest, dict[str, int]]):
    """`indices:admin/shards/search_shards`: the shard count of every index a search would read (what a
    `slices=auto` reindex asks first, ES `TransportSearchShardsAction`)."""

    name = SEARCH_SHARDS

    async def execute(self, task: Task, request: SearchShardsRequest) -> dict[str, int]:
        indices = indices_of(self.cluster.state().metadata)
        return {
            name: indices[name].number_of_shards for name in resolve_indices(request.indices, indices, request.options)
        }


class _SearchCoordinator(TransportAction[Request, dict[str, Any]]):
    """What search, scroll and clear-scroll share on the coordinating node: the shard calls (children of the
    coordinating task, left to their bans when it is cancelled), the fetch phase and the response body."""

    def __init__(self, services: NodeServices) -> None:
        super().__init__(services)
        self._shard_calls = BackgroundTasks(self.name, log)

    async def close(self) -> None:
        await self._shard_calls.close()

    # ---- the fetch phase and the response ---------------------------------------------------------------------

    def _select_page(
        self, targets: Sequence[ShardTarget], results: Mapping[int, Mapping[str, Any]], offset: int, size: int
    ) -> dict[int, list[str]]:
        """The documents of the page, per shard: equal scores, so lower shards first (ES's tie-break)."""
        ordered = [(i, doc_id) for i in sorted(results) for doc_id in results[i].get("ids", [])]
        page = ordered[offset : offset + size]
        selected: dict[int, list[str]] = {}
        for i, doc_id in page:
            selected.setdefault(i, []).append(doc_id)
        return selected

    async def _fetch_phase(
        self,
        task: Task,
        state: ClusterState,
        targets: Sequence[ShardTarget],
        results: Mapping[int, Mapping[str, Any]],
        selected: Mapping[int, list[str]],
        *,
        scroll: bool,
    ) -> list[dict[str, Any]]:
        """`[phase/fetch/id]` where the page has documents, `[free_context]` where it has none (non-scroll)."""
        fetches: dict[int, asyncio.Future[ShardOutcome]] = {}
        for i, result in results.items():
            node = state.nodes.get(result["node"])
            context_id = result.get("context_id")
            if node is None or not context_id:
                continue
            if i in selected:
                fetch = pb.ShardSearchRequest(
                    index=targets[i].index, index_uuid=targets[i].uuid, shard=targets[i].shard,
                    context_id=context_id, doc_ids=selected[i],
                )  # fmt: skip
                action = SEARCH_FETCH_SCROLL if scroll else SEARCH_FETCH
                fetches[i] = self._spawn(self._call(task, node, action, fetch))
            elif not scroll:
                free = pb.ShardSearchRequest(index=targets[i].index, shard=targets[i].shard, context_id=context_id)
                self._spawn(self._call(task, node, SEARCH_FREE_CONTEXT, free))
        await task.wait_unless_cancelled(fetches.values())
        hits: list[dict[str, Any]] = []
        for i in sorted(fetches):
            outcome = fetches[i].result()
            if isinstance(outcome, ElasticsearchError):
                continue  # ES reports fetch failures as shard failures; the page just lacks those hits here
            hits.extend(outcome["hits"])
        return hits

    def _render(
        self,
        targets: Sequence[ShardTarget],
        failures: Mapping[int, ElasticsearchError],
        hits: list[dict[str, Any]],
        total: int,
        request: SearchRequest,
        started: float,
    ) -> dict[str, Any]:
        shards: dict[str, Any] = {
            "total": len(targets),
            "successful": len(targets) - len(failures),
            "skipped": 0,
            "failed": len(failures),
        }
        if failures:
            shards["failures"] = [shard_failure(targets[i], failures[i]) for i in sorted(failures)]
        hits_body: dict[str, Any] = {}
        rendered_total = render_hits_total(total, request.track_total_hits, request.rest_total_hits_as_int)
        if rendered_total is not None:
            hits_body["total"] = rendered_total
        hits_body["max_score"] = 1.0 if hits else None
        if request.internal:  # a reindex worker needs each hit's shard and whether its id is tracked
            hits_body["hits"] = hits
        else:
            hits_body["hits"] = [
                {"_index": hit["_index"], "_id": hit["_id"], "_score": 1.0, "_source": {}} for hit in hits
            ]
        return {
            "took": int((time.monotonic() - started) * 1000),
            "timed_out": False,
            "_shards": shards,
            "hits": hits_body,
        }

    def _raise_all_failed(
        self, phase: str, targets: Sequence[ShardTarget], failures: Mapping[int, ElasticsearchError]
    ) -> None:
        first = failures[min(failures)] if failures else None
        error = SearchPhaseExecutionError(
            phase, "all shards failed", [shard_failure(targets[i], failures[i]) for i in sorted(failures)], first
        )
        if first is not None and first.status < 500:
            error.status = first.status
        raise error

    async def _call(
        self, parent: Task, node: DiscoveryNode, action: str, request: pb.ShardSearchRequest
    ) -> ShardOutcome:
        """One shard request, counted as an outstanding child of `parent` so a cancellation bans it there."""
        try:
            with self.task_manager.child_request(parent, node.id):
                response = await self.transport.send_request(node, action, request, parent=parent)
        except ElasticsearchError as e:
            return e
        return json.loads(response.result_json)

    def _spawn(self, coro: Coroutine[Any, Any, ShardOutcome]) -> asyncio.Future[ShardOutcome]:
        """Shard requests outlive a cancelled coordinator: they end when their tasks notice the ban."""
        return self._shard_calls.spawn(coro)


class SearchAction(_SearchCoordinator[SearchRequest]):
    """`indices:data/read/search`: the query phase on one copy of every shard, then the fetch phase."""

    name = SEARCH
    cancellable = True

    def __init__(self, services: NodeServices) -> None:
        super().__init__(services)
        self._round_robin = itertools.count()

    def targets(self, request: SearchRequest) -> list[ShardTarget]:
        """Every shard of the requested indices with the copy that serves it (ES `OperationRouting#searchShards`).

        Each search takes the next turn of a round-robin over the active copies of every shard, primary first, so a
        balanced index is searched on all its nodes (`_local`/`_only_local` prefer this node; any other preference
        string picks the same copy every time).
        """
        state = self.cluster.state()
        metadata = routing_view(state.metadata, set(state.nodes))
        indices = indices_of(metadata)
        names = resolve_indices(request.indices, indices, request.options)
        targets = []
        turn = next(self._round_robin)
        for name in names:
            index = indices[name]
            for shard, copies in enumerate(copies_of(metadata, name)):
                active = [c.node for c in copies if c.active and c.node in state.nodes]  # primary first
                targets.append(ShardTarget(name, index.uuid, shard, self._choose(active, request.preference, turn)))
        return targets

    def _choose(self, nodes: Sequence[str | None], preference: str | None, turn: int) -> str | None:
        if not nodes:
            return None
        if preference in ("_local", "_only_local", "_prefer_nodes:" + self.local_node.id):
            if self.local_node.id in nodes:
                return self.local_node.id
            return None if preference == "_only_local" else nodes[0]
        if preference is not None and not preference.startswith("_"):
            return nodes[sum(preference.encode()) % len(nodes)]
        return nodes[turn % len(nodes)]

    async def execute(self, task: Task, request: SearchRequest) -> dict[str, Any]:
        """Runs a search in `task` (the `indices:data/read/search` task); returns ES's response body.

        Raises:
            TaskCancelledError: `task` was cancelled.
            SearchPhaseExecutionError: every shard failed (`all shards failed`).
            IndexNotFoundError, IllegalArgumentError: bad indices or page.
        """
        started = time.monotonic()
        if request.from_ + request.size > MAX_RESULT_WINDOW and not request.scroll_millis:
            raise IllegalArgumentError(
                f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but "
                f"was [{request.from_ + request.size}]. See the scroll api for a more efficient way to request large "
                "data sets. This limit can be set by changing the [index.max_result_window] index level setting."
            )
        targets = self.targets(request)
        state = self.cluster.state()
        single = len(targets) == 1 and not request.scroll_millis
        keep_alive = request.scroll_millis
        calls: dict[int, asyncio.Future[ShardOutcome]] = {}
        failures: dict[int, ElasticsearchError] = {}
        for i, target in enumerate(targets):
            node = state.nodes.get(target.node_id) if target.node_id is not None else None
            if node is None:
                failures[i] = NoShardAvailableActionError(None)  # type: ignore[arg-type]  # ES renders "reason": null
                continue
            shard_request = self._query_request(target, request, keep_alive, single)
            calls[i] = self._spawn(self._call(task, node, SEARCH_QUERY, shard_request))
        await task.wait_unless_cancelled(calls.values())
        results: dict[int, dict[str, Any]] = {}
        for i, call in calls.items():
            outcome = call.result()
            if isinstance(outcome, ElasticsearchError):
                failures[i] = outcome
            else:
                results[i] = outcome
        if targets and not results:
            self._raise_all_failed("query", targets, failures)
        total = sum(r["total"] for r in results.values())
        hits: list[dict[str, Any]] = []
        contexts: list[tuple[str, str, str, str, int]] = []
        if single and results:
            hits = next(iter(results.values())).get("hits", [])
        else:
            selected = self._select_page(targets, results, request.from_, request.size)
            hits = await self._fetch_phase(task, state, targets, results, selected, scroll=bool(keep_alive))
            if keep_alive:
                contexts = [
                    (results[i]["node"], results[i]["context_id"], targets[i].index, targets[i].uuid, targets[i].shard)
                    for i in sorted(results)
                    if results[i].get("context_id")
                ]
        body: dict[str, Any] = {}
        if keep_alive:
            body["_scroll_id"] = encode_scroll_id_with_size(contexts, request.size)
        body.update(self._render(targets, failures, hits, total, request, started))
        return body

    def _query_request(
        self, target: ShardTarget, request: SearchRequest, keep_alive: int, single: bool
    ) -> pb.ShardSearchRequest:
        message = pb.ShardSearchRequest(
            index=target.index, index_uuid=target.uuid, shard=target.shard, size=request.size,
            keep_alive_millis=keep_alive, max_docs=-1, fetch=single,
        )  # fmt: skip
        setattr(message, "from", request.from_)  # `from` is a Python keyword
        if request.slice is not None:
            message.slice_id, message.slice_max = request.slice
        return message


class SearchScrollAction(_SearchCoordinator[SearchScrollRequest]):
    """`indices:data/read/scroll`: the next page of every shard context of a scroll."""

    name = SCROLL
    cancellable = True

    async def execute(self, task: Task, request: SearchScrollRequest) -> dict[str, Any]:
        """One scroll round (`indices:data/read/scroll`): the next page of every shard context.

        Raises:
            IllegalArgumentError: `Cannot parse scroll id`.
            SearchPhaseExecutionError: every context is gone (`search_context_missing_exception`).
        """
        started = time.monotonic()
        scroll_id, keep_alive_millis, internal = request.scroll_id, request.keep_alive_millis, request.internal
        contexts, size = decode_scroll_id_with_size(scroll_id)
        state = self.cluster.state()
        targets = [ShardTarget(index, uuid, shard, node_id) for node_id, _, index, uuid, shard in contexts]
        calls: dict[int, asyncio.Future[ShardOutcome]] = {}
        failures: dict[int, ElasticsearchError] = {}
        for i, (node_id, context_id, index, uuid, shard) in enumerate(contexts):
            node = state.nodes.get(node_id)
            if node is None:
                failures[i] = ShardNotFoundError(index, uuid, shard)
                continue
            round_request = pb.ShardSearchRequest(
                index=index, index_uuid=uuid, shard=shard, context_id=context_id, size=size,
                keep_alive_millis=keep_alive_millis,
            )  # fmt: skip
            calls[i] = self._spawn(self._call(task, node, SEARCH_QUERY_SCROLL, round_request))
        await task.wait_unless_cancelled(calls.values())
        results: dict[int, dict[str, Any]] = {}
        for i, call in calls.items():
            outcome = call.result()
            if isinstance(outcome, ElasticsearchError):
                failures[i] = outcome
            else:
                results[i] = {**outcome, "node": contexts[i][0], "context_id": contexts[i][1]}
        if contexts and not results:
            self._raise_all_failed("query", targets, failures)
        selected = self._select_page(targets, results, 0, size)
        hits = await self._fetch_phase(task, state, targets, results, selected, scroll=True)
        total = sum(r["total"] for r in results.values())
        body: dict[str, Any] = {"_scroll_id": scroll_id}
        body.update(self._render(targets, failures, hits, total, SearchRequest(internal=internal), started))
        return body


class ClearScrollAction(_SearchCoordinator[ClearScrollRequest]):
    """`indices:data/read/scroll/clear`: frees every context of the given scroll ids."""

    name = CLEAR_SCROLL

    async def execute(self, task: Task, request: ClearScrollRequest) -> dict[str, Any]:
        state = self.cluster.state()
        calls = []
        for scroll_id in request.scroll_ids:
            contexts, _ = decode_scroll_id_with_size(scroll_id)
            for node_id, context_id, index, _uuid, shard in contexts:
                node = state.nodes.get(node_id)
                if node is not None:
                    free = pb.ShardSearchRequest(index=index, shard=shard, context_id=context_id)
                    calls.append(self._spawn(self._call(task, node, SEARCH_FREE_CONTEXT_SCROLL, free)))
        outcomes = await asyncio.gather(*calls)
        freed = sum(1 for o in outcomes if not isinstance(o, ElasticsearchError) and o.get("freed"))
        return {"succeeded": True, "num_freed": freed}

    # ---- plumbing ---------------------------------------------------------------------------------------------


def encode_scroll_id_with_size(contexts: Sequence[tuple[str, str, str, str, int]], size: int) -> str:
    return encode_scroll_id([*contexts, ("_size", str(size), "", "", 0)])


def decode_scroll_id_with_size(scroll_id: str) -> tuple[list[tuple[str, str, str, str, int]], int]:
    contexts = decode_scroll_id(scroll_id)
    size = next((int(c[1]) for c in contexts if c[0] == "_size"), 10)
    return [c for c in contexts if c[0] != "_size"], size
