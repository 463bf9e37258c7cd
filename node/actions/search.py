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

The query phase reads each shard through its `ShardIterator` (`node.actions.support.shard_copies`): a copy that
fails — its node killed or gone, the shard not there — hands the request to the next copy, and `_shards.failed`
counts only shards whose every copy failed (ES `AbstractSearchAsyncAction#onShardFailure`). The fetch phase and
scroll rounds go to the copy holding the search context, so a failure there fails that shard, as in ES.

Every shard request may take its phase's simulated time plus the default per-node timeout
(`--node-request-timeout`); a copy that takes longer (its node paused) counts as failed, and the query phase moves
on to the next copy.

Each shard phase spends its simulated time (`sim.search.shard_query_time`, `sim.search.shard_fetch_time`,
`sim.scroll.batch_time`) in steps and notices cancellation at its checks. The coordinator fails with
`task_cancelled_exception` as soon as its own task is cancelled; the shard requests still running are banned
(their tasks are listed `cancelled: true` until they notice), as ES does.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from node.actions.support.services import NodeServices
from node.actions.support.shard_copies import CopyAnswer, shard_iterator, try_copies
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
from node.data.errors import NoShardAvailableActionError, SearchPhaseExecutionError
from node.data.index_metadata import indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.data.search_request import (
    MAX_RESULT_WINDOW,
    SearchRequest,
    check_shard_search,
    decode_scroll_id,
    encode_scroll_id,
    render_hits_total,
)
from node.data.search_sort import SortClause, compare_keys, display_values
from node.data.shard_iterator import CopyFailure, ShardIterator, is_shard_not_available
from node.errors import ElasticsearchError, IllegalArgumentError, IllegalStateError
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
    "ShardSearchFailure",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

ShardOutcome = dict[str, Any] | ElasticsearchError


@dataclass(frozen=True, slots=True)
class ShardSearchFailure:
    """ES `ShardSearchFailure`: a shard that failed, the copy it failed on last, and why.

    `shard` is None for a failure of a scroll round's query phase, where ES knows only the context's node, not its
    shard (`"shard": -1, "index": null`). A copy that was merely not available is reported as ES 9 reports it, as
    `no_shard_available_action_exception` with the copy's message (`NoShardAvailableActionException
    #forOnShardFailureWrapper`).
    """

    error: ElasticsearchError
    shard: ShardIterator | None = None
    node_id: str | None = None

    @classmethod
    def of(cls, shard: ShardIterator, failure: CopyFailure) -> ShardSearchFailure:
        error = failure.error
        if is_shard_not_available(error) and not isinstance(error, NoShardAvailableActionError):
            error = NoShardAvailableActionError(error.reason)
        return cls(error, shard, failure.node_id)

    def to_dict(self) -> dict[str, Any]:
        """An element of `_shards.failures` and `failed_shards` (ES `ShardSearchFailure#toXContent`)."""
        if self.shard is None:
            return {"shard": -1, "index": None, "reason": self.error.to_dict()}
        return {
            "shard": self.shard.shard,
            "index": self.shard.index,
            "node": self.node_id,
            "reason": self.error.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class SearchScrollRequest:
    """ES `SearchScrollRequest`: the scroll id and how long its contexts stay open after this round."""

    scroll_id: str
    keep_alive_millis: int = 0
    keep_alive_text: str | None = None  # as ES prints it (`5m`); None: the request set none
    internal: bool = False  # a reindex worker's scroll

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
        self, results: Mapping[int, Mapping[str, Any]], offset: int, size: int, sort: Sequence[SortClause]
    ) -> list[tuple[int, str]]:
        """The page: the shards' top hits merged (ES `SearchPhaseController#sortDocs`) by the sort, else by score;
        ties go to the lower shard, then to the shard's own order. Returns `(shard, id)` in page order."""
        candidates = [(i, rank, ref) for i in sorted(results) for rank, ref in enumerate(results[i].get("hits", []))]
        if sort:
            compare = compare_keys(sort)

            def by_key(a: tuple[int, int, list[Any]], b: tuple[int, int, list[Any]]) -> int:
                return compare(a[2][1], b[2][1]) or (a[0] > b[0]) - (a[0] < b[0]) or (a[1] > b[1]) - (a[1] < b[1])

            candidates.sort(key=functools.cmp_to_key(by_key))
        else:
            candidates.sort(key=lambda c: (-(c[2][2] or 0.0), c[0], c[1]))
        return [(i, ref[0]) for i, _, ref in candidates[offset : offset + size]]

    async def _fetch_phase(
        self,
        task: Task,
        state: ClusterState,
        targets: Sequence[ShardIterator],
        results: Mapping[int, Mapping[str, Any]],
        page: Sequence[tuple[int, str]],
        failures: dict[int, ShardSearchFailure],
        *,
        scroll: bool,
    ) -> list[dict[str, Any]]:
        """`[phase/fetch/id]` where the page has documents, `[free_context]` where it has none (non-scroll); the
        fetched hits in page order.

        A fetch goes to the copy that holds the shard's search context; when it fails, the shard is a failure of
        the response and its hits are missing (ES `FetchSearchPhase`: no other copy has the context).
        """
        selected: dict[int, list[str]] = {}
        for i, doc_id in page:
            selected.setdefault(i, []).append(doc_id)
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
                fetches[i] = self._spawn(self._try_call(task, node, action, fetch, self.cluster.costs().shard_fetch))
            elif not scroll:
                free = pb.ShardSearchRequest(index=targets[i].index, shard=targets[i].shard, context_id=context_id)
                self._spawn(self._try_call(task, node, SEARCH_FREE_CONTEXT, free, 0.0))
        await task.wait_unless_cancelled(fetches.values())
        fetched: dict[tuple[int, str], dict[str, Any]] = {}
        for i in sorted(fetches):
            outcome = fetches[i].result()
            if isinstance(outcome, ElasticsearchError):
                failures[i] = ShardSearchFailure.of(targets[i], CopyFailure(results[i]["node"], outcome))
                continue
            for hit in outcome["hits"]:
                fetched[(i, hit["_id"])] = hit
        return [fetched[entry] for entry in page if entry in fetched]

    def _render(
        self,
        targets: Sequence[ShardIterator],
        failures: Mapping[int, ShardSearchFailure],
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
            shards["failures"] = [failures[i].to_dict() for i in sorted(failures)]
        hits_body: dict[str, Any] = {}
        rendered_total = render_hits_total(total, request.track_total_hits, request.rest_total_hits_as_int)
        if rendered_total is not None:
            hits_body["total"] = rendered_total
        scores = [hit["_score"] for hit in hits if hit.get("_score") is not None]
        hits_body["max_score"] = max(scores) if scores else None
        hits_body["hits"] = hits
        return {
            "took": int((time.monotonic() - started) * 1000),
            "timed_out": False,
            "_shards": shards,
            "hits": hits_body,
        }

    def _raise_all_failed(self, phase: str, failures: Mapping[int, ShardSearchFailure]) -> None:
        first = failures[min(failures)].error if failures else None
        error = SearchPhaseExecutionError(
            phase, "all shards failed", [failures[i].to_dict() for i in sorted(failures)], first
        )
        if first is not None and first.status < 500:
            error.status = first.status
        raise error

    async def _call(
        self, parent: Task, node: DiscoveryNode, action: str, request: pb.ShardSearchRequest, work: float
    ) -> dict[str, Any]:
        """One shard request, counted as an outstanding child of `parent` so a cancellation bans it there; it may
        take its simulated `work` (seconds) plus the default per-node timeout.

        Raises:
            ElasticsearchError: the shard's failure, or the transport's in reaching it.
        """
        default = self.cluster.node_request_timeout
        timeout = default.seconds + work if default is not None else None
        with self.task_manager.child_request(parent, node.id):
            response = await self.transport.send_request(node, action, request, parent=parent, timeout=timeout)
        result: dict[str, Any] = json.loads(response.result_json)
        return result

    async def _try_call(
        self, parent: Task, node: DiscoveryNode, action: str, request: pb.ShardSearchRequest, work: float
    ) -> ShardOutcome:
        """`_call`, with its failure as the outcome."""
        try:
            return await self._call(parent, node, action, request, work)
        except ElasticsearchError as e:
            return e

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        """Shard requests outlive a cancelled coordinator: they end when their tasks notice the ban."""
        return self._shard_calls.spawn(coro)


class SearchAction(_SearchCoordinator[SearchRequest]):
    """`indices:data/read/search`: the query phase on one copy of every shard, then the fetch phase."""

    name = SEARCH
    cancellable = True

    def __init__(self, services: NodeServices) -> None:
        super().__init__(services)
        self._round_robin = itertools.count()

    def shard_iterators(self, state: ClusterState, request: SearchRequest) -> list[ShardIterator]:
        """Every shard of the requested indices with its copies in the order to try them (ES
        `OperationRouting#searchShards`).

        Each search takes the next turn of a round-robin over the active copies of every shard, so a balanced index
        is searched on all its nodes; a `preference` orders them as `node.data.shard_iterator` says.
        """
        metadata = routing_view(state.metadata, set(state.nodes))
        indices = indices_of(metadata)
        names = resolve_indices(request.indices, indices, request.options)
        turn = next(self._round_robin)
        return [
            shard_iterator(state, indices[name], shard, copies, request.preference, self.local_node.id, turn)
            for name in names
            for shard, copies in enumerate(copies_of(metadata, name))
        ]

    def check_shard_limits(self, request: SearchRequest) -> None:
        """Raises what every shard would answer `request` for its limits (`check_shard_search`), without asking
        them: a reindex leader checks its slices' search this way before it starts thousands of slice workers.

        Raises:
            SearchPhaseExecutionError: `all shards failed`, each with the limit's `illegal_argument_exception`.
        """
        try:
            slice_max = request.slice[1] if request.slice is not None else 0
            check_shard_search(request.from_, request.size, request.scroll_millis, slice_max)
        except IllegalArgumentError as e:
            shards = self.shard_iterators(self.cluster.state(), request)
            if shards:
                self._raise_all_failed("query", {i: ShardSearchFailure(e, s) for i, s in enumerate(shards)})

    async def execute(self, task: Task, request: SearchRequest) -> dict[str, Any]:
        """Runs a search in `task` (the `indices:data/read/search` task); returns ES's response body.

        Raises:
            TaskCancelledError: `task` was cancelled.
            SearchPhaseExecutionError: every shard failed (`all shards failed`).
            IndexNotFoundError, IllegalArgumentError: bad indices or page.
        """
        started = time.monotonic()
        if not request.scroll_millis:
            check_shard_search(request.from_, request.size, 0, 0)  # the result window, before any shard is asked
        state = self.cluster.state()
        targets = self.shard_iterators(state, request)
        single = len(targets) == 1 and not request.scroll_millis
        keep_alive = request.scroll_millis
        calls: dict[int, asyncio.Future[CopyAnswer[dict[str, Any]] | CopyFailure]] = {}
        for i, target in enumerate(targets):
            shard_request = self._query_request(target, request, keep_alive, single)
            costs = self.cluster.costs()
            work = costs.shard_query + (costs.shard_fetch if single else 0.0)
            query = functools.partial(self._call, task, action=SEARCH_QUERY, request=shard_request, work=work)
            calls[i] = self._spawn(try_copies(target, state, query))
        await task.wait_unless_cancelled(calls.values())
        results: dict[int, dict[str, Any]] = {}
        failures: dict[int, ShardSearchFailure] = {}
        for i, call in calls.items():
            outcome = call.result()
            if isinstance(outcome, CopyFailure):
                failures[i] = ShardSearchFailure.of(targets[i], outcome)
            else:
                results[i] = outcome.response
        if targets and not results:
            self._raise_all_failed("query", failures)
        total = sum(r["total"] for r in results.values())
        hits: list[dict[str, Any]] = []
        contexts: list[tuple[str, str, str, str, int]] = []
        if single and results:
            hits = next(iter(results.values())).get("fetched", [])[: request.size]
        else:
            page = self._select_page(results, request.from_, request.size, request.sort)
            hits = await self._fetch_phase(task, state, targets, results, page, failures, scroll=bool(keep_alive))
            _index_wide_sort_values(hits, results, targets, request.sort)
            if targets and len(failures) == len(targets):
                self._raise_all_failed("fetch", failures)
            if keep_alive:
                contexts = [
                    (results[i]["node"], results[i]["context_id"], targets[i].index, targets[i].uuid, targets[i].shard)
                    for i in sorted(results)
                    if results[i].get("context_id")
                ]
        body: dict[str, Any] = {}
        if keep_alive:
            body["_scroll_id"] = encode_scroll_id_with_size(contexts, request.size, request.sort)
        body.update(self._render(targets, failures, hits, total, request, started))
        return body

    def _query_request(
        self, target: ShardIterator, request: SearchRequest, keep_alive: int, single: bool
    ) -> pb.ShardSearchRequest:
        spec = {
            "query": request.query,
            "sort": [c.to_dict() for c in request.sort],
            "track_scores": request.track_scores,
            "search_after": list(request.search_after) if request.search_after is not None else None,
        }
        message = pb.ShardSearchRequest(
            index=target.index, index_uuid=target.uuid, shard=target.shard, size=request.size,
            keep_alive_millis=keep_alive, max_docs=-1, fetch=single,
            query_json=json.dumps(spec, separators=(",", ":")),
            fetch_json=json.dumps(request.fetch_options(), separators=(",", ":")),
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
        contexts, size, sort = decode_scroll_id_with_size(scroll_id)
        state = self.cluster.state()
        # A scroll's contexts live on one copy each: a round has no other copy to turn to (ES
        # `SearchScrollAsyncAction`), so a context whose node is gone or fails fails that shard for the round.
        targets = [ShardIterator(index, uuid, shard, (node_id,)) for node_id, _, index, uuid, shard in contexts]
        calls: dict[int, asyncio.Future[ShardOutcome]] = {}
        failures: dict[int, ShardSearchFailure] = {}
        for i, (node_id, context_id, index, uuid, shard) in enumerate(contexts):
            node = state.nodes.get(node_id)
            if node is None:
                failures[i] = ShardSearchFailure(IllegalStateError(f"node [{node_id}] is not available"))
                continue
            round_request = pb.ShardSearchRequest(
                index=index, index_uuid=uuid, shard=shard, context_id=context_id, size=size,
                keep_alive_millis=keep_alive_millis,
            )  # fmt: skip
            calls[i] = self._spawn(
                self._try_call(task, node, SEARCH_QUERY_SCROLL, round_request, self.cluster.costs().scroll_batch)
            )
        await task.wait_unless_cancelled(calls.values())
        results: dict[int, dict[str, Any]] = {}
        for i, call in calls.items():
            outcome = call.result()
            if isinstance(outcome, ElasticsearchError):
                failures[i] = ShardSearchFailure(outcome)
            else:
                results[i] = {**outcome, "node": contexts[i][0], "context_id": contexts[i][1]}
        if contexts and not results:
            self._raise_all_failed("query", failures)
        page = self._select_page(results, 0, size, sort)
        hits = await self._fetch_phase(task, state, targets, results, page, failures, scroll=True)
        _index_wide_sort_values(hits, results, targets, sort)
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
            contexts, _, _ = decode_scroll_id_with_size(scroll_id)
            for node_id, context_id, index, _uuid, shard in contexts:
                node = state.nodes.get(node_id)
                if node is not None:
                    free = pb.ShardSearchRequest(index=index, shard=shard, context_id=context_id)
                    calls.append(self._spawn(self._try_call(task, node, SEARCH_FREE_CONTEXT_SCROLL, free, 0.0)))
        outcomes = await asyncio.gather(*calls)
        freed = sum(1 for o in outcomes if not isinstance(o, ElasticsearchError) and o.get("freed"))
        return {"succeeded": True, "num_freed": freed}

    # ---- plumbing ---------------------------------------------------------------------------------------------


def _index_wide_sort_values(
    hits: Sequence[dict[str, Any]],
    results: Mapping[int, Mapping[str, Any]],
    targets: Sequence[ShardIterator],
    sort: Sequence[SortClause],
) -> None:
    """A missing value shows as ES shows it for the field's type in the index (`Long.MAX_VALUE`/`MIN_VALUE` for a
    number), which one shard alone may not know: a clause is numeric when any shard's hit has a number there."""
    if not sort or not hits:
        return
    keys = {(targets[i].index, ref[0]): ref[1] for i, result in results.items() for ref in result.get("hits", [])}
    numeric = [
        any(key[i][0] == 0 and isinstance(key[i][1], int | float) for key in keys.values())
        or c.field in ("_score", "_doc")
        for i, c in enumerate(sort)
    ]
    for hit in hits:
        key = keys.get((hit["_index"], hit["_id"]))
        if key is not None and "sort" in hit:
            hit["sort"] = display_values(sort, key, numeric)


def encode_scroll_id_with_size(
    contexts: Sequence[tuple[str, str, str, str, int]], size: int, sort: Sequence[SortClause] = ()
) -> str:
    """A scroll id: the shard contexts, the batch size and the sort its rounds merge by."""
    extra = [("_size", str(size), "", "", 0)]
    if sort:
        extra.append(("_sort", json.dumps([c.to_dict() for c in sort], separators=(",", ":")), "", "", 0))
    return encode_scroll_id([*contexts, *extra])


def decode_scroll_id_with_size(
    scroll_id: str,
) -> tuple[list[tuple[str, str, str, str, int]], int, tuple[SortClause, ...]]:
    contexts = decode_scroll_id(scroll_id)
    size = next((int(c[1]) for c in contexts if c[0] == "_size"), 10)
    sort_text = next((c[1] for c in contexts if c[0] == "_sort"), "[]")
    try:
        sort = tuple(SortClause.from_dict(c) for c in json.loads(sort_text))
    except (ValueError, TypeError, KeyError):
        raise IllegalArgumentError("Cannot parse scroll id") from None
    return [c for c in contexts if c[0] not in ("_size", "_sort")], size, sort
