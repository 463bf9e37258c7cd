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
   `[s]`, `[s][p]`, `[s][r]` descendants): reindex writes to `dest`, update-by-query rewrites and
   delete-by-query deletes in the source;
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
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from node.actions.bulk import BulkAction, BulkOptions, ItemOutcome
from node.actions.names import (
    BULK,
    CLEAR_SCROLL,
    DELETE_BY_QUERY,
    REINDEX,
    SCROLL,
    SEARCH,
    SEARCH_SHARDS,
    UPDATE_BY_QUERY,
)
from node.actions.search import SearchAction
from node.coordination.state import ClusterState
from node.data.bulk_by_scroll import (
    AUTO_SLICE_CEILING,
    AUTO_SLICES,
    UNLIMITED,
    BulkByScrollStatus,
    SliceResult,
    f32,
    java_float,
    render_response,
    rescheduled_delay_nanos,
    throttle_wait_nanos,
)
from node.data.bulk_request import BulkItem
from node.data.cluster_settings import SimCosts
from node.data.index_metadata import indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.data.search_request import TRACK_ALL, SearchRequest
from node.data.simulated_work import simulate
from node.errors import ActionRequestValidationError, ElasticsearchError, IllegalArgumentError
from node.human import format_duration_nanos
from node.storage.task_results import TaskResult, TaskResultsService
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskInfo, TaskType

__all__ = ["BULK_BY_SCROLL_ACTIONS", "BulkByScrollRequest", "LeaderState", "ReindexAction", "WorkerState"]

log = logging.getLogger(__name__)

BULK_BY_SCROLL_ACTIONS = (REINDEX, UPDATE_BY_QUERY, DELETE_BY_QUERY)
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
        """ES `ReindexRequest#validate`, `DeleteByQueryRequest#validate` and the shared checks."""
        problems = []
        if self.action == REINDEX and not self.source:
            problems.append("use _all if you really want to copy from all existing indexes")
        if self.action == DELETE_BY_QUERY and self.query is None:
            problems.append("query is missing")
        if self.max_docs != -1 and self.max_docs <= 0:
            problems.append(
                "maxDocs should be greater than 0 if the request is limited to some number of documents or -1 if it "
                f"isn't but it was [{self.max_docs}]"
            )
        if self.slice is not None and self.slices != 1:
            problems.append("can't specify both manual and automatic slicing at the same time")
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
        source["version"] = False
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


@dataclass(slots=True)
class _Delayed:
    """ES `DelayedPrepareBulkRequest`: a scheduled batch, its delay and the rate it was scheduled at."""

    deadline_ns: int
    delay_ns: int
    requests_per_second: float


class WorkerState:
    """ES `WorkerBulkByScrollTaskState`: the counters, the rate and the current throttle wait of one worker."""

    def __init__(self, task: Task, slice_id: int | None, requests_per_second: float) -> None:
        self.task = task
        self.slice_id = slice_id
        self.requests_per_second = requests_per_second
        self.total = self.created = self.updated = self.deleted = 0
        self.batches = self.version_conflicts = self.noops = 0
        self.throttled_nanos = 0
        self._delayed: _Delayed | None = None
        self._wake = asyncio.Event()

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.deleted

    def status(self) -> BulkByScrollStatus:
        rps = UNLIMITED if self.task.cancelled else self.requests_per_second  # ES handleCancel rethrottles to -1
        until = max(0, self._delayed.deadline_ns - time.monotonic_ns()) if self._delayed is not None else 0
        return BulkByScrollStatus(
            slice_id=self.slice_id, total=self.total, updated=self.updated, created=self.created,
            deleted=self.deleted, batches=self.batches, version_conflicts=self.version_conflicts, noops=self.noops,
            throttled_nanos=self.throttled_nanos, requests_per_second=rps, canceled=self.task.cancel_reason,
            throttled_until_nanos=until,
        )  # fmt: skip

    async def delay_prepare(self, last_batch_start_ns: int, last_batch_size: int) -> None:
        """Waits the throttle delay before the next batch; a rethrottle reschedules it, a cancel ends it."""
        delay = throttle_wait_nanos(last_batch_start_ns, time.monotonic_ns(), last_batch_size, self.requests_per_second)
        self._delayed = _Delayed(time.monotonic_ns() + delay, delay, self.requests_per_second)
        while True:
            if self.task.cancelled:
                self.rethrottle(UNLIMITED)
            delayed = self._delayed
            remaining = delayed.deadline_ns - time.monotonic_ns()
            if remaining <= 0:
                break
            self._wake.clear()
            waiters = [
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(self.task.cancelled_event.wait()),
            ]
            try:
                await asyncio.wait(waiters, timeout=remaining / 1e9, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        self.throttled_nanos += self._delayed.delay_ns  # ES counts the delay of the wait that ran

    def rethrottle(self, requests_per_second: float) -> None:
        """ES `WorkerBulkByScrollTaskState#rethrottle`: faster takes effect now, slower at the next batch."""
        self.requests_per_second = requests_per_second
        delayed = self._delayed
        if delayed is None or requests_per_second < delayed.requests_per_second:
            return
        remaining = delayed.deadline_ns - time.monotonic_ns()
        if remaining <= 0:
            return  # already ran
        delay = rescheduled_delay_nanos(remaining, delayed.requests_per_second, requests_per_second)
        self._delayed = _Delayed(time.monotonic_ns() + delay, delay, delayed.requests_per_second)
        self._wake.set()


class LeaderState:
    """ES `LeaderBulkByScrollTaskState`: the slices' results as they finish."""

    def __init__(self, task: Task, slices: int) -> None:
        self.task = task
        self.slices = slices
        self.results: list[SliceResult | None] = [None] * slices

    def running(self) -> int:
        return sum(1 for r in self.results if r is None)

    def finished_statuses(self) -> list[BulkByScrollStatus | Mapping[str, Any] | None]:
        out: list[BulkByScrollStatus | Mapping[str, Any] | None] = []
        for result in self.results:
            if result is None:
                out.append(None)
            elif result.error is not None:
                out.append({"type": result.error.es_type, "reason": result.error.reason})
            else:
                out.append(result.status)
        return out

    def status(self, running: Mapping[int, BulkByScrollStatus] | None = None) -> BulkByScrollStatus:
        """The merged status; `running` adds fresh statuses of slices still running (a rethrottle's answer)."""
        statuses = self.finished_statuses()
        for slice_id, status in (running or {}).items():
            if statuses[slice_id] is None:
                statuses[slice_id] = status
        return BulkByScrollStatus.merge(statuses, self.task.cancel_reason)


class ReindexAction:
    """Runs reindex-family tasks (leaders and workers) and rethrottles them."""

    def __init__(
        self,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
        search: SearchAction,
        bulk: BulkAction,
        task_results: TaskResultsService,
    ) -> None:
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        self._search = search
        self._bulk = bulk
        self._task_results = task_results
        self._states: dict[int, WorkerState | LeaderState] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False

    def costs(self) -> SimCosts:
        return SimCosts.from_metadata(self._cluster_state().metadata)

    # ---- entry points ---------------------------------------------------------------------------------------------

    async def execute(self, task: Task, request: BulkByScrollRequest) -> SliceResult:
        """Runs `request` in `task` (a leader or an unsliced worker) until done; the result, or its error."""
        slices = request.slices
        if slices == AUTO_SLICES:
            slices = await self._auto_slices(task, request)
        assert isinstance(slices, int)
        if slices > 1:
            first = request.for_slice(0, slices)  # every slice's search meets the same shard limits
            batch_size = first.batch_size or self.costs().reindex_batch_size
            self._search.check_shard_limits(self._worker_search(first, batch_size))
            return await self._lead(task, request, slices)
        state = WorkerState(task, None, request.requests_per_second)
        self._states[task.id] = state
        task.status_provider = lambda: state.status().to_dict()
        try:
            return await self._work(task, request, state)
        finally:
            self._states.pop(task.id, None)

    def start(self, request: BulkByScrollRequest, headers: Mapping[str, str]) -> Task:
        """`wait_for_completion=false`: registers the task, runs it in the background and stores its result."""
        task = self._task_manager.register(
            type=TaskType.TRANSPORT, action=request.action, description=request.description(), headers=headers,
            cancellable=True,
        )  # fmt: skip
        self._spawn(self._run_and_store(task, request))
        return task

    async def close(self) -> None:
        self._closed = True
        pending = list(self._background)
        for background in pending:
            background.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def rethrottle_target(self, task: Task) -> WorkerState | LeaderState:
        """The state a rethrottle acts on (ES `TransportRethrottleAction#rethrottle`).

        Raises:
            IllegalArgumentError: the task has not become a leader or a worker yet.
        """
        state = self._states.get(task.id)
        if state is None:
            raise IllegalArgumentError(
                f"task [{task.id}] has not yet been initialized to the point where it knows how to rethrottle itself"
            )
        return state

    def leader_info(self, task: Task, running: Mapping[int, BulkByScrollStatus] | None) -> TaskInfo:
        """ES `BulkByScrollTask#taskInfoGivenSubtaskInfo`: the leader's TaskInfo with its slices' fresh statuses."""
        state = self._states.get(task.id)
        info = task.info(detailed=True)
        if not isinstance(state, LeaderState):
            return info
        status = state.status(running).to_dict()
        return TaskInfo(
            info.node, info.id, info.type, info.action, status, info.description, info.start_time_in_millis,
            info.running_time_in_nanos, info.cancellable, info.cancelled, info.parent_task_id, info.headers,
        )  # fmt: skip

    # ---- leader -------------------------------------------------------------------------------------------------

    async def _auto_slices(self, task: Task, request: BulkByScrollRequest) -> int:
        """ES asks for the search shards first: the smallest shard count of the sources, capped at 20."""
        async with self._child(task, SEARCH_SHARDS, "", cancellable=False):
            indices = indices_of(self._cluster_state().metadata)
            names = resolve_indices(request.source, indices, request.options)
        counts = [indices[name].number_of_shards for name in names]
        return min(min(counts), AUTO_SLICE_CEILING) if counts else 1

    async def _lead(self, task: Task, request: BulkByScrollRequest, slices: int) -> SliceResult:
        started = time.monotonic_ns()
        leader = LeaderState(task, slices)
        self._states[task.id] = leader
        task.status_provider = lambda: leader.status().to_dict()
        try:
            await asyncio.gather(*(self._run_slice(task, request, i, slices, leader) for i in range(slices)))
        finally:
            self._states.pop(task.id, None)
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
        sliced = request.for_slice(slice_id, slices)
        try:
            async with self._child(leader_task, request.action, request.description(), cancellable=True) as task:
                state = WorkerState(task, slice_id, sliced.requests_per_second)
                self._states[task.id] = state
                task.status_provider = lambda: state.status().to_dict()
                try:
                    leader.results[slice_id] = await self._work(task, sliced, state)
                finally:
                    self._states.pop(task.id, None)
        except ElasticsearchError as e:
            leader.results[slice_id] = SliceResult(error=e)

    # ---- worker -------------------------------------------------------------------------------------------------

    async def _work(self, task: Task, request: BulkByScrollRequest, state: WorkerState) -> SliceResult:
        """ES `AbstractAsyncBulkByScrollAction`: search, throttle, bulk, scroll, ... until no hits are left."""
        started = time.monotonic_ns()
        costs = self.costs()
        batch_size = request.batch_size or costs.reindex_batch_size
        failures: list[dict[str, Any]] = []
        scroll_id: str | None = None
        try:
            response = await self._initial_search(task, request, batch_size)
            scroll_id = response.get("_scroll_id")
            last_start, last_size = started, 0
            while not task.cancelled:
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
                await simulate(task, self.costs().reindex_batch, self.costs().check_interval)
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
        return SliceResult(time.monotonic_ns() - started, False, state.status(), failures)

    @staticmethod
    def _worker_search(request: BulkByScrollRequest, batch_size: int) -> SearchRequest:
        return SearchRequest(
            indices=request.source, options=request.options, size=batch_size, track_total_hits=TRACK_ALL,
            source=request.search_source(batch_size), scroll_millis=request.scroll_millis,
            scroll_text=format_duration_nanos(request.scroll_millis * 1_000_000), slice=request.slice, internal=True,
        )  # fmt: skip

    async def _initial_search(self, task: Task, request: BulkByScrollRequest, batch_size: int) -> dict[str, Any]:
        search_request = self._worker_search(request, batch_size)
        async with self._child(task, SEARCH, search_request.description(), cancellable=True) as search_task:
            return await self._search.execute(search_task, search_request)

    async def _scroll(
        self, task: Task, request: BulkByScrollRequest, scroll_id: str, extra_keep_alive_ns: int
    ) -> dict[str, Any]:
        keep_alive_ns = request.scroll_millis * 1_000_000 + extra_keep_alive_ns
        description = f"scrollId[{scroll_id}], scroll[Scroll{{keepAlive={format_duration_nanos(keep_alive_ns)}}}]"
        async with self._child(task, SCROLL, description, cancellable=True) as scroll_task:
            return await self._search.scroll(scroll_task, scroll_id, keep_alive_ns // 1_000_000, internal=True)

    async def _clear_scroll(self, task: Task, scroll_id: str) -> None:
        try:
            async with self._child(task, CLEAR_SCROLL, "", cancellable=False, ignore_ban=True) as clear_task:
                await self._search.clear_scroll(clear_task, [scroll_id])
        except ElasticsearchError as e:  # ES only logs a failed clear-scroll
            log.debug("failed to clear scroll of [%s]: %s", task.task_id, e)

    def _items(self, request: BulkByScrollRequest, hits: Sequence[Mapping[str, Any]]) -> list[BulkItem]:
        """The bulk of one batch: tracked ids by id, untracked documents as counts (to their shard in place)."""
        items = []
        for hit in hits:
            counted = not hit.get("_tracked", False)
            if request.action == REINDEX:
                action = "create" if request.op_type == "create" else "index"
                items.append(BulkItem(action, request.dest, hit["_id"], counted=counted))
            elif request.action == UPDATE_BY_QUERY:
                items.append(BulkItem("index", hit["_index"], hit["_id"], counted=counted, shard=hit["_shard"]))
            else:
                items.append(BulkItem("delete", hit["_index"], hit["_id"], counted=counted, shard=hit["_shard"]))
        return items

    async def _write_batch(
        self, task: Task, request: BulkByScrollRequest, hits: Sequence[Mapping[str, Any]], state: WorkerState
    ) -> list[dict[str, Any]]:
        """Writes one batch as an `indices:data/write/bulk` child; counts its results; returns its failures."""
        items = self._items(request, hits)
        indices = sorted({i.index for i in items if i.index is not None})
        description = f"requests[{len(items)}], indices[{', '.join(indices)}]"
        async with self._child(task, BULK, description, cancellable=False) as bulk_task:
            outcomes = await self._bulk.execute(bulk_task, items, BulkOptions(request.timeout_millis))
        return self._count(request, outcomes, state)

    @staticmethod
    def _count(
        request: BulkByScrollRequest, outcomes: Sequence[ItemOutcome], state: WorkerState
    ) -> list[dict[str, Any]]:
        failures = []
        for outcome in outcomes:
            if outcome.error is not None:
                if outcome.error.es_type == "version_conflict_engine_exception":
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

    # ---- plumbing ---------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _child(
        self, parent: Task, action: str, description: str, *, cancellable: bool, ignore_ban: bool = False
    ) -> AsyncIterator[Task]:
        """A child task on this node (ES runs these through the node client: type `transport`), counted as a child
        request here so that cancelling the parent bans it."""
        if ignore_ban:
            child = self._task_manager.register(
                type=TaskType.TRANSPORT, action=action, description=description, parent=parent.task_id,
                headers=parent.headers, cancellable=cancellable,
            )  # fmt: skip
            try:
                yield child
            finally:
                self._task_manager.unregister(child)
            return
        with self._task_manager.child_request(parent, self._local_node_id):
            child = self._task_manager.register(
                type=TaskType.TRANSPORT, action=action, description=description, parent=parent.task_id,
                headers=parent.headers, cancellable=cancellable,
            )  # fmt: skip
            try:
                yield child
            finally:
                self._task_manager.unregister(child)

    async def _run_and_store(self, task: Task, request: BulkByScrollRequest) -> None:
        try:
            try:
                result = await self.execute(task, request)
            except ElasticsearchError as e:
                stored = TaskResult.of_error(task.info(detailed=True), e)
            except Exception as e:  # a bug: stored as ES would store any failure, and logged
                log.exception("reindex task [%s] failed", task.task_id)
                stored = TaskResult.of_error(task.info(detailed=True), ElasticsearchError(f"{type(e).__name__}: {e}"))
            else:
                if result.error is not None:
                    stored = TaskResult.of_error(task.info(detailed=True), result.error)
                else:
                    response = render_response(
                        result.took_nanos, result.timed_out, result.status.with_slice(None), result.failures, human=True
                    )
                    stored = TaskResult.of_response(task.info(detailed=True), response)
            try:
                await self._task_results.store_result(stored)
            except ElasticsearchError as e:
                log.warning("failed to store the result of task [%s]: %s", task.task_id, e)
        finally:
            self._task_manager.unregister(task)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        background = asyncio.ensure_future(coro)
        if self._closed:
            background.cancel()
            return
        self._background.add(background)
        background.add_done_callback(self._done)

    def _done(self, background: asyncio.Task[Any]) -> None:
        self._background.discard(background)
        if not background.cancelled() and background.exception() is not None:
            log.error("reindex work failed", exc_info=background.exception())
