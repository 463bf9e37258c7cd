"""`indices:data/write/reindex`, `indices:data/write/update/byquery` and `indices:data/write/delete/byquery`
(mirrors ES `Reindexer`, `TransportUpdateByQueryAction`, `TransportDeleteByQueryAction`,
`AbstractAsyncBulkByScrollAction`, `BulkByScrollParallelizationHelper` and the leader/worker task states;
reference §14).

One request is a *worker* (`slices=1`) or a *leader* of N workers (`slices=N`, or `auto`: the smallest shard count
of the source indices, at most 20, found with an `indices:admin/shards/search_shards` child). Workers are children
of the leader on the same node with the same action and description, type `transport`, each reading slice i of N
with `requests_per_second / N`. A worker loops, as ES's does:

1. a scroll search of its source (`indices:data/read/search`, then `indices:data/read/scroll` per batch), each a
   child task whose shard phases run on the nodes holding the shards;
2. the throttle wait before each batch (`last_batch_start + batch_size / rps - now`), which a rethrottle rescales;
3. `sim.reindex.batch_time` of simulated work, then the batch as an `indices:data/write/bulk` child (with its
   `[s]`, `[s][p]`, `[s][r]` descendants): reindex writes each hit's `_source` to `dest` (after the script, with the
   hit's routing unless `dest.routing` says otherwise, and with its version under `dest.version_type: external`),
   update-by-query rewrites and delete-by-query deletes each hit in place, conditioned on the `_seq_no` and
   `_primary_term` the search saw (a document changed meanwhile is a version conflict, as in ES);
4. an `indices:data/read/scroll/clear` child at the end.

Its `status` counts as it goes (field for field ES's, `node.data.bulk_by_scroll`). A cancelled worker stops at
its next check and answers normally with `canceled: "by user request"`; a cancelled leader's workers are cancelled
through bans. With `wait_for_completion=false` the task runs in the background and its result is stored
(`TaskResultsService`); only the top-level task (a leader or an unsliced worker) stores one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from node.actions.bulk import BulkAction, BulkOptions, BulkRequest, ItemOutcome
from node.actions.search import (
    ClearScrollAction,
    ClearScrollRequest,
    SearchAction,
    SearchScrollAction,
    SearchScrollRequest,
    SearchShardsAction,
    SearchShardsRequest,
)
from node.actions.support.transport_action import TransportAction
from node.common.action_names import DELETE_BY_QUERY, REINDEX, UPDATE_BY_QUERY
from node.data.bulk_by_scroll import (
    AUTO_SLICE_CEILING,
    AUTO_SLICES,
    UNLIMITED,
    BulkByScrollStatus,
    LeaderState,
    SliceResult,
    WorkerState,
    f32,
    java_float,
    render_response,
    search_failures,
    throttle_wait_nanos,
)
from node.data.bulk_request import BulkItem
from node.data.doc_versioning import VersionType, WriteConditions
from node.data.errors import VersionConflictEngineError
from node.data.index_resolver import IndicesOptions
from node.data.search_request import TRACK_ALL, SearchRequest
from node.data.source_filter import SourceFilter
from node.data.update_scripts import run_script
from node.errors import ActionRequestValidationError, ElasticsearchError
from node.human import format_duration_nanos
from node.indices.simulated_work import simulate
from node.tasks.task import Task

__all__ = [
    "BULK_BY_SCROLL_ACTIONS",
    "BulkByScrollAction",
    "BulkByScrollRequest",
    "DeleteByQueryAction",
    "ReindexAction",
    "UpdateByQueryAction",
]

log = logging.getLogger(__name__)

DEFAULT_SCROLL_MILLIS = 300_000  # ES AbstractBulkByScrollRequest.DEFAULT_SCROLL_TIMEOUT, 5m


@dataclass(frozen=True, slots=True)
class BulkByScrollRequest:
    """A reindex, update-by-query or delete-by-query request (ES `AbstractBulkByScrollRequest` and subclasses)."""

    action: str
    source: tuple[str, ...]
    dest: str | None = None
    query: Mapping[str, Any] | None = None
    batch_size: int | None = None  # None: `sim.reindex.batch_size`
    max_docs: int = -1
    requests_per_second: float = UNLIMITED
    slices: int | str = 1
    slice: tuple[int, int] | None = None  # this worker's (slice id, slices)
    conflicts: str = "abort"
    scroll_millis: int = DEFAULT_SCROLL_MILLIS
    script: Mapping[str, Any] | None = None
    op_type: str = "index"
    options: IndicesOptions = field(default_factory=IndicesOptions)
    timeout_millis: int = 60_000
    source_filter: SourceFilter = field(default_factory=SourceFilter)  # reindex: `source._source`
    dest_routing: str = "keep"  # reindex: `keep`, `discard` or `=<value>`
    dest_version_type: VersionType = VersionType.INTERNAL
    # What the source's search body set that a bulk-by-scroll refuses (ES `AbstractBulkByScrollRequest#validate`,
    # `ReindexRequest#validate`): `from`, `stored_fields`, `_source: false`.
    search_from: bool = False
    stored_fields: bool = False
    fetch_source_false: bool = False

    def description(self) -> str:
        """ES `ReindexRequest#getDescription` and friends: `reindex from [src] to [dest]`."""
        searched = f"[{', '.join(self.source)}]" if self.source else "[all indices]"
        if self.action == REINDEX:
            return f"reindex from {searched} to [{self.dest}]"
        if self.action == UPDATE_BY_QUERY:
            text = f"update-by-query {searched}"
            if self.script is not None:
                text += f" updated with {_script_text(self.script)}"
            return text
        return f"delete-by-query {searched}"

    def validate(self) -> None:
        """ES `ReindexRequest#validate`, `DeleteByQueryRequest#validate` and the shared checks, in ES's order: the
        shared ones (`AbstractBulkByScrollRequest#validate`) first, then the subclass's."""
        problems = []
        if self.search_from:
            problems.append("from is not supported in this context")
        if self.stored_fields:
            problems.append("stored_fields is not supported in this context")
        if self.max_docs != -1 and self.max_docs <= 0:
            problems.append(
                "maxDocs should be greater than 0 if the request is limited to some number of documents or -1 if it "
                f"isn't but it was [{self.max_docs}]"
            )
        if self.slice is not None and self.slices != 1:
            problems.append("can't specify both manual and automatic slicing at the same time")
        if self.action == REINDEX and not self.source:
            problems.append("use _all if you really want to copy from all existing indexes")
        if self.action == REINDEX and self.fetch_source_false:
            problems.append("_source:false is not supported in this context")
        if self.action == DELETE_BY_QUERY and self.query is None:
            problems.append("query is missing")
        if self.action == REINDEX and self.dest is None:
            problems.append("index must be specified")
        if problems:
            raise ActionRequestValidationError(*problems)
        if self.action == REINDEX and self.dest in self.source:
            raise ActionRequestValidationError(f"reindex cannot write into an index its reading from [{self.dest}]")

    def search_source(self, batch_size: int) -> dict[str, Any]:
        """The source of the worker's scroll search, for its task description (ES `prepareSearchRequest`)."""
        source: dict[str, Any] = {"size": batch_size}
        if self.query is not None:
            source["query"] = self.query
        if self.source_filter.filters:
            source["_source"] = {"includes": list(self.source_filter.includes),
                                 "excludes": list(self.source_filter.excludes)}  # fmt: skip
        source["version"] = self.action == REINDEX and self.dest_version_type is not VersionType.INTERNAL
        source["seq_no_primary_term"] = self.action != REINDEX
        source["sort"] = [{"_doc": {"order": "asc"}}]
        if self.slice is not None:
            source["slice"] = {"field": "_id", "id": self.slice[0], "max": self.slice[1]}
        return source

    def for_slice(self, slice_id: int, slices: int) -> BulkByScrollRequest:
        """ES `request.forSlice`: slice i of N, `rps / N`, and `max_docs` split among the slices."""
        max_docs = self.max_docs
        if max_docs != -1:
            max_docs = max_docs // slices + (1 if slice_id < max_docs % slices else 0)
        rps = (
            self.requests_per_second
            if math.isinf(self.requests_per_second)
            else java_float(f32(self.requests_per_second) / slices)
        )
        return replace(self, slice=(slice_id, slices), slices=1, requests_per_second=rps, max_docs=max_docs)


def _script_text(script: Mapping[str, Any]) -> str:
    """ES `Script#toString`."""
    source = script.get("source", script.get("inline", ""))
    lang = script.get("lang", "painless")
    params = script.get("params", {})
    return f"Script{{type=inline, lang='{lang}', idOrCode='{source}', options={{}}, params={params}}}"


class BulkByScrollAction(TransportAction[BulkByScrollRequest, SliceResult]):
    """Runs bulk-by-scroll tasks: a leader of slices, or a worker (ES `Reindexer`, `AbstractAsyncBulkByScrollAction`).

    The three actions differ only in their name and in what a batch writes (`_items`).
    """

    cancellable = True

    async def execute(self, task: Task, request: BulkByScrollRequest) -> SliceResult:
        """Runs `request` in `task` (a leader, a slice or an unsliced worker) until done.

        Raises:
            ElasticsearchError: the request failed (a slice's failure fails its leader).
        """
        slices = request.slices
        if slices == AUTO_SLICES:
            slices = await self._auto_slices(task, request)
        assert isinstance(slices, int)
        if slices > 1:
            first = request.for_slice(0, slices)  # every slice's search meets the same shard limits
            batch_size = first.batch_size or self.cluster.costs().reindex_batch_size
            self.client.action(SearchAction).check_shard_limits(self._worker_search(first, batch_size))
            return await self._lead(task, request, slices)
        slice_id = request.slice[0] if request.slice is not None else None
        state = WorkerState(task, slice_id, request.requests_per_second)
        with self.services.bulk_by_scroll.running(task, state):
            return await self._work(task, request, state)

    def response_document(self, response: SliceResult) -> Mapping[str, Any]:
        """The stored response of a `wait_for_completion=false` run (with `created`/`updated`, as ES stores it)."""
        return render_response(
            response.took_nanos, response.timed_out, response.status.with_slice(None), response.failures, human=True
        )

    # ---- leader -------------------------------------------------------------------------------------------------

    async def _auto_slices(self, task: Task, request: BulkByScrollRequest) -> int:
        """ES asks for the search shards first: the smallest shard count of the sources, capped at 20."""
        shards = await self.client.execute(
            SearchShardsAction, SearchShardsRequest(request.source, request.options), parent=task
        )
        counts = list(shards.values())
        return min(min(counts), AUTO_SLICE_CEILING) if counts else 1

    async def _lead(self, task: Task, request: BulkByScrollRequest, slices: int) -> SliceResult:
        started = time.monotonic_ns()
        leader = LeaderState(task, slices)
        with self.services.bulk_by_scroll.running(task, leader):
            await asyncio.gather(*(self._run_slice(task, request, i, slices, leader) for i in range(slices)))
        failed = next((r.error for r in leader.results if r is not None and r.error is not None), None)
        if failed is not None:
            raise failed
        done = [r for r in leader.results if r is not None]
        return SliceResult(
            took_nanos=max((r.took_nanos for r in done), default=time.monotonic_ns() - started),
            timed_out=any(r.timed_out for r in done),
            status=BulkByScrollStatus.merge([r.status for r in done], task.cancel_reason),
            failures=[f for r in done for f in r.failures],
        )

    async def _run_slice(
        self, leader_task: Task, request: BulkByScrollRequest, slice_id: int, slices: int, leader: LeaderState
    ) -> None:
        """One slice: a child of the leader with the same action and description (ES `sliceIntoSubRequests`)."""
        try:
            result: SliceResult = await self.client.execute(
                type(self), request.for_slice(slice_id, slices), parent=leader_task
            )
            leader.results[slice_id] = result
        except ElasticsearchError as e:
            leader.results[slice_id] = SliceResult(error=e)

    # ---- worker -------------------------------------------------------------------------------------------------

    async def _work(self, task: Task, request: BulkByScrollRequest, state: WorkerState) -> SliceResult:
        """ES `AbstractAsyncBulkByScrollAction`: search, throttle, bulk, scroll, ... until no hits are left."""
        started = time.monotonic_ns()
        costs = self.cluster.costs()
        batch_size = request.batch_size or costs.reindex_batch_size
        failures: list[dict[str, Any]] = []
        timed_out = False
        scroll_id: str | None = None
        try:
            response = await self._initial_search(task, request, batch_size)
            scroll_id = response.get("_scroll_id")
            last_start, last_size = started, 0
            while not task.cancelled:
                # ES `AbstractAsyncBulkByScrollAction#onScrollResponse`: a round with failed shards, or one that
                # timed out, ends the job with those failures, its hits unwritten.
                failures, timed_out = search_failures(response), bool(response.get("timed_out"))
                if failures or timed_out:
                    break
                total = response["hits"]["total"]["value"]
                state.total = min(total, request.max_docs) if request.max_docs > 0 else total
                await state.delay_prepare(last_start, last_size)
                this_start = time.monotonic_ns()
                hits = response["hits"]["hits"]
                if task.cancelled or not hits:
                    break
                state.batches += 1
                if request.max_docs > 0:
                    hits = hits[: max(request.max_docs - state.processed, 0)]
                costs = self.cluster.costs()
                await simulate(task, costs.reindex_batch, costs.check_interval)
                failures = await self._write_batch(task, request, hits, state)
                if failures or (request.max_docs > 0 and state.processed >= request.max_docs):
                    break
                last_start, last_size = this_start, len(hits)
                extra = throttle_wait_nanos(last_start, time.monotonic_ns(), last_size, state.requests_per_second)
                assert scroll_id is not None
                response = await self._scroll(task, request, scroll_id, extra)
        except ElasticsearchError as e:  # a cancelled worker answers normally, with `canceled` in its status
            if not task.cancelled:
                raise
            log.debug("worker [%s] stops: cancelled (%s)", task.task_id, e.reason)
        finally:
            if scroll_id is not None:
                await self._clear_scroll(task, scroll_id)
        return SliceResult(time.monotonic_ns() - started, timed_out, state.status(), failures)

    @staticmethod
    def _worker_search(request: BulkByScrollRequest, batch_size: int) -> SearchRequest:
        return SearchRequest(
            indices=request.source, options=request.options, size=batch_size, track_total_hits=TRACK_ALL,
            source=request.search_source(batch_size), scroll_millis=request.scroll_millis,
            scroll_text=format_duration_nanos(request.scroll_millis * 1_000_000), slice=request.slice, internal=True,
            query=request.query, source_filter=request.source_filter,
        )  # fmt: skip

    async def _initial_search(self, task: Task, request: BulkByScrollRequest, batch_size: int) -> dict[str, Any]:
        search_request = self._worker_search(request, batch_size)
        return await self.client.execute(SearchAction, search_request, parent=task)

    async def _scroll(
        self, task: Task, request: BulkByScrollRequest, scroll_id: str, extra_keep_alive_ns: int
    ) -> dict[str, Any]:
        keep_alive_ns = request.scroll_millis * 1_000_000 + extra_keep_alive_ns
        scroll = SearchScrollRequest(
            scroll_id, keep_alive_ns // 1_000_000, format_duration_nanos(keep_alive_ns), internal=True
        )
        return await self.client.execute(SearchScrollAction, scroll, parent=task)

    async def _clear_scroll(self, task: Task, scroll_id: str) -> None:
        try:
            # Runs after a cancellation too: not counted as a child request, so the ban does not refuse it.
            await self.client.execute(
                ClearScrollAction, ClearScrollRequest((scroll_id,)), parent=task, track_as_child=False
            )
        except ElasticsearchError as e:  # ES only logs a failed clear-scroll
            log.debug("failed to clear scroll of [%s]: %s", task.task_id, e)

    @staticmethod
    def _items(request: BulkByScrollRequest, hits: Sequence[Mapping[str, Any]], state: WorkerState) -> list[BulkItem]:
        """The bulk of one batch (ES `Reindexer#buildRequest`, `UpdateByQuery`'s and `DeleteByQuery`'s), after the
        script (ES `ScriptApplier`): a hit whose script set `ctx.op` to `noop` is counted and not written."""
        items = []
        for hit in hits:
            routing = hit.get("_routing")
            if request.action == DELETE_BY_QUERY:
                cas = WriteConditions(if_seq_no=hit["_seq_no"], if_primary_term=hit["_primary_term"])
                items.append(BulkItem("delete", hit["_index"], hit["_id"], routing, conditions=cas))
                continue
            index = request.dest if request.action == REINDEX else hit["_index"]
            ctx: dict[str, Any] = {"_index": index, "_id": hit["_id"], "_version": hit.get("_version", -1),
                                   "_routing": routing, "_source": dict(hit.get("_source", {})), "op": "index"}  # fmt: skip
            if request.script is not None:
                run_script(request.script, ctx)
            op = str(ctx.get("op", "index")).lower()
            if op in ("noop", "none"):
                state.noops += 1
                continue
            doc_id, index, routing = str(ctx["_id"]), str(ctx["_index"]), ctx.get("_routing")
            if request.action == REINDEX:
                routing = _dest_routing(request.dest_routing, routing)
                if request.dest_version_type is VersionType.INTERNAL:
                    conditions = WriteConditions()
                else:
                    conditions = WriteConditions(hit.get("_version", -3), request.dest_version_type)
            else:
                conditions = WriteConditions(if_seq_no=hit["_seq_no"], if_primary_term=hit["_primary_term"])
            if op == "delete":
                items.append(BulkItem("delete", index, doc_id, routing, conditions=conditions))
                continue
            action = "create" if request.action == REINDEX and request.op_type == "create" else "index"
            source = ctx.get("_source") if isinstance(ctx.get("_source"), dict) else {}
            items.append(BulkItem(action, index, doc_id, routing, source, conditions=conditions))
        return items

    async def _write_batch(
        self, task: Task, request: BulkByScrollRequest, hits: Sequence[Mapping[str, Any]], state: WorkerState
    ) -> list[dict[str, Any]]:
        """Writes one batch as an `indices:data/write/bulk` child; counts its results; returns its failures."""
        items = self._items(request, hits, state)
        if not items:
            return []
        bulk = BulkRequest(tuple(items), BulkOptions(request.timeout_millis))
        outcomes = await self.client.execute(BulkAction, bulk, parent=task)
        return self._count(request, outcomes, state)

    @staticmethod
    def _count(
        request: BulkByScrollRequest, outcomes: Sequence[ItemOutcome], state: WorkerState
    ) -> list[dict[str, Any]]:
        failures = []
        for outcome in outcomes:
            if outcome.error is not None:
                if isinstance(outcome.error, VersionConflictEngineError):
                    state.version_conflicts += 1
                    if request.conflicts == "proceed":
                        continue
                failures.append(
                    {
                        "index": outcome.index,
                        "id": outcome.id,
                        "cause": outcome.error.to_dict(),
                        "status": outcome.status,
                    }
                )
                continue
            assert outcome.result is not None
            result = outcome.result["result"]
            if result == "created":
                state.created += 1
            elif result == "updated":
                state.updated += 1
            elif result == "deleted":
                state.deleted += 1
            elif result == "noop":
                state.noops += 1
            elif result == "not_found":
                state.version_conflicts += 1  # deleted meanwhile: ES sees a sequence number conflict
        return failures


def _dest_routing(mode: str, routing: str | None) -> str | None:
    """ES `Reindexer`'s `dest.routing`: `keep` the hit's routing, `discard` it, or `=<value>`."""
    if mode == "discard":
        return None
    if mode.startswith("="):
        return mode[1:]
    return routing


class ReindexAction(BulkByScrollAction):
    name = REINDEX


class UpdateByQueryAction(BulkByScrollAction):
    name = UPDATE_BY_QUERY


class DeleteByQueryAction(BulkByScrollAction):
    name = DELETE_BY_QUERY


BULK_BY_SCROLL_ACTIONS: dict[str, type[BulkByScrollAction]] = {
    REINDEX: ReindexAction,
    UPDATE_BY_QUERY: UpdateByQueryAction,
    DELETE_BY_QUERY: DeleteByQueryAction,
}
