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
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from node.actions.names import (
    SEARCH_FETCH,
    SEARCH_FETCH_SCROLL,
    SEARCH_FREE_CONTEXT,
    SEARCH_FREE_CONTEXT_SCROLL,
    SEARCH_QUERY,
    SEARCH_QUERY_SCROLL,
)
from node.coordination.state import ClusterState, DiscoveryNode
from node.data.allocation import copies_of, routing_view
from node.data.cluster_settings import SimCosts
from node.data.errors import NoShardAvailableActionError, SearchPhaseExecutionError, ShardNotFoundError
from node.data.index_metadata import indices_of
from node.data.index_resolver import resolve_indices
from node.data.local_shards import LocalShards
from node.data.search_contexts import SearchContexts
from node.data.search_request import (
    MAX_RESULT_WINDOW,
    SearchRequest,
    ShardTarget,
    check_keep_alive,
    check_shard_search,
    decode_scroll_id,
    encode_scroll_id,
    render_hits_total,
    slice_range,
)
from node.data.simulated_work import simulate
from node.errors import ElasticsearchError, IllegalArgumentError
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["MAX_RESULT_WINDOW", "SearchAction", "shard_failure"]

ShardOutcome = dict[str, Any] | ElasticsearchError


def shard_failure(target: ShardTarget, error: ElasticsearchError) -> dict[str, Any]:
    """An element of `_shards.failures` (ES `ShardSearchFailure#toXContent`)."""
    return {"shard": target.shard, "index": target.index, "node": target.node_id, "reason": error.to_dict()}


def _response(body: Mapping[str, Any]) -> pb.ShardSearchResponse:
    return pb.ShardSearchResponse(result_json=json.dumps(body, separators=(",", ":")))


class SearchAction:
    """Coordinates searches, scrolls and clear-scrolls, and serves the shard phases on every node."""

    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
        shards: LocalShards,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        self._shards = shards
        self.contexts = SearchContexts()
        self._round_robin = itertools.count()
        self._background: set[asyncio.Future[Any]] = set()

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

    def costs(self) -> SimCosts:
        return SimCosts.from_metadata(self._cluster_state().metadata)

    async def close(self) -> None:
        pending = list(self._background)
        for background in pending:
            background.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # ---- coordinating node --------------------------------------------------------------------------------------

    def targets(self, request: SearchRequest) -> list[ShardTarget]:
        """Every shard of the requested indices with the copy that serves it (ES `OperationRouting#searchShards`).

        Each search takes the next turn of a round-robin over the active copies of every shard, primary first, so a
        balanced index is searched on all its nodes (`_local`/`_only_local` prefer this node; any other preference
        string picks the same copy every time).
        """
        state = self._cluster_state()
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
        if preference in ("_local", "_only_local", "_prefer_nodes:" + self._local_node_id):
            if self._local_node_id in nodes:
                return self._local_node_id
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
        if not request.scroll_millis:
            check_shard_search(request.from_, request.size, 0, 0)  # the result window, before any shard is asked
        targets = self.targets(request)
        state = self._cluster_state()
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
        await self._wait_unless_cancelled(task, calls.values())
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
            targets = self.targets(request)
            if targets:
                self._raise_all_failed("query", targets, dict.fromkeys(range(len(targets)), e))

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
        await self._wait_unless_cancelled(task, fetches.values())
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

    # ---- scroll and clear-scroll ------------------------------------------------------------------------------

    async def scroll(
        self, task: Task, scroll_id: str, keep_alive_millis: int, *, internal: bool = False
    ) -> dict[str, Any]:
        """One scroll round (`indices:data/read/scroll`): the next page of every shard context.

        Raises:
            IllegalArgumentError: `Cannot parse scroll id`.
            SearchPhaseExecutionError: every context is gone (`search_context_missing_exception`).
        """
        started = time.monotonic()
        contexts, size = decode_scroll_id_with_size(scroll_id)
        state = self._cluster_state()
        targets = [ShardTarget(index, uuid, shard, node_id) for node_id, _, index, uuid, shard in contexts]
        calls: dict[int, asyncio.Future[ShardOutcome]] = {}
        failures: dict[int, ElasticsearchError] = {}
        for i, (node_id, context_id, index, uuid, shard) in enumerate(contexts):
            node = state.nodes.get(node_id)
            if node is None:
                failures[i] = ShardNotFoundError(index, uuid, shard)
                continue
            request = pb.ShardSearchRequest(
                index=index, index_uuid=uuid, shard=shard, context_id=context_id, size=size,
                keep_alive_millis=keep_alive_millis,
            )  # fmt: skip
            calls[i] = self._spawn(self._call(task, node, SEARCH_QUERY_SCROLL, request))
        await self._wait_unless_cancelled(task, calls.values())
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

    async def clear_scroll(self, task: Task, scroll_ids: Iterable[str]) -> dict[str, Any]:
        """`indices:data/read/scroll/clear`: frees every context of the given scroll ids."""
        state = self._cluster_state()
        calls = []
        for scroll_id in scroll_ids:
            contexts, _ = decode_scroll_id_with_size(scroll_id)
            for node_id, context_id, index, _uuid, shard in contexts:
                node = state.nodes.get(node_id)
                if node is not None:
                    request = pb.ShardSearchRequest(index=index, shard=shard, context_id=context_id)
                    calls.append(self._spawn(self._call(task, node, SEARCH_FREE_CONTEXT_SCROLL, request)))
        outcomes = await asyncio.gather(*calls)
        freed = sum(1 for o in outcomes if not isinstance(o, ElasticsearchError) and o.get("freed"))
        return {"succeeded": True, "num_freed": freed}

    # ---- shard phases (on the node holding the copy) ------------------------------------------------------------

    def _check_copy(self, request: pb.ShardSearchRequest) -> None:
        state = self._cluster_state()
        index = indices_of(state.metadata).get(request.index)
        copies = copies_of(state.metadata, request.index) if index is not None else ()
        if (
            index is None
            or index.uuid != request.index_uuid
            or request.shard >= len(copies)
            or not any(c.node == self._local_node_id and c.active for c in copies[request.shard])
        ):
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)

    async def _on_query(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        self._check_copy(request)
        check_shard_search(getattr(request, "from"), request.size, request.keep_alive_millis, request.slice_max)
        costs = self.costs()
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
            return _response({"total": end - start, "ids": ids, "node": self._local_node_id, "context_id": context.id})
        docs = await self._shards.count(key)
        start, end = slice_range(docs, request.slice_id, request.slice_max) if request.slice_max else (0, docs)
        wanted = min(offset + request.size, end - start)
        ids = await self._shards.document_ids(key, start, wanted) if wanted > 0 else []
        body: dict[str, Any] = {"total": end - start, "ids": ids, "node": self._local_node_id}
        if request.fetch:
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
        costs = self.costs()
        await simulate(task, costs.scroll_batch, costs.check_interval)
        ids = context.page(context.position, request.size or context.size)
        return _response({"total": context.total, "ids": ids, "node": self._local_node_id})

    async def _on_fetch(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        context = self.contexts.get(request.context_id)
        costs = self.costs()
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

    # ---- plumbing ---------------------------------------------------------------------------------------------

    async def _call(
        self, parent: Task, node: DiscoveryNode, action: str, request: pb.ShardSearchRequest
    ) -> ShardOutcome:
        """One shard request, counted as an outstanding child of `parent` so a cancellation bans it there."""
        try:
            with self._task_manager.child_request(parent, node.id):
                response = await self._transport.send_request(node, action, request, parent=parent)
        except ElasticsearchError as e:
            return e
        return json.loads(response.result_json)  # type: ignore[no-any-return]

    def _spawn(self, coro: Coroutine[Any, Any, ShardOutcome]) -> asyncio.Future[ShardOutcome]:
        """Shard requests outlive a cancelled coordinator: they end when their tasks notice the ban."""
        future = asyncio.ensure_future(coro)
        self._background.add(future)
        future.add_done_callback(self._background.discard)
        return future

    async def _wait_unless_cancelled(self, task: Task, futures: Iterable[asyncio.Future[Any]]) -> None:
        """Waits for every future; raises `task cancelled [reason]` at once if `task` is cancelled meanwhile."""
        pending = {f for f in futures if not f.done()}
        if not pending:
            task.ensure_not_cancelled()
            return
        cancelled = asyncio.ensure_future(task.cancelled_event.wait())
        try:
            while pending:
                done, _ = await asyncio.wait(pending | {cancelled}, return_when=asyncio.FIRST_COMPLETED)
                if cancelled in done:
                    task.ensure_not_cancelled()
                pending -= done
        finally:
            cancelled.cancel()


def encode_scroll_id_with_size(contexts: Sequence[tuple[str, str, str, str, int]], size: int) -> str:
    return encode_scroll_id([*contexts, ("_size", str(size), "", "", 0)])


def decode_scroll_id_with_size(scroll_id: str) -> tuple[list[tuple[str, str, str, str, int]], int]:
    contexts = decode_scroll_id(scroll_id)
    size = next((int(c[1]) for c in contexts if c[0] == "_size"), 10)
    return [c for c in contexts if c[0] != "_size"], size
