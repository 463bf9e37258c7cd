"""`cluster:admin/tasks/test` and its `[n]` / `[n][n]` children: the task trees of `POST /_sim/tasks`.

The simulator's counterpart of ES's test-task plugin (`TestTaskPlugin`, which `TasksIT` drives): a parent task on
the receiving node sends one `[n]` child to every selected node; with `depth=2` each child also starts a `[n][n]`
grandchild on the next node in node-name order. Children "work" for `duration` (or until cancelled), noticing
cancellation only at their checks, every `check_interval` — so, as in ES, a cancelled task stays listed with
`cancelled: true` until its code notices. The parent notices its own cancellation at the same interval and fails
at once (ES 8.9+ `CancellableFanOut`); its children run on until they notice their bans.

A child failing for its node's sake (unreachable, gone) becomes a `_nodes.failures` entry of the response; a
child failing by itself (`fail=true`, cancelled, refused because its parent is banned) fails the parent with that
error. With `wait_for_completion=false` the parent runs in a background asyncio task held here and stores its
result (`TaskResultsService`) before it is unregistered, as ES's `TaskResultStoringActionListener` does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from node.actions.names import TEST_TASK, TEST_TASK_NODE, TEST_TASK_NODE_CHILD
from node.actions.node_selector import resolve_nodes
from node.coordination.state import ClusterState, DiscoveryNode
from node.errors import (
    ElasticsearchError,
    FailedNodeError,
    IllegalStateError,
    NoSuchNodeError,
    TaskCancelledError,
    TransportError,
)
from node.storage.task_results import TaskResult, TaskResultsService
from node.tasks.manager import TaskManager
from node.tasks.task import StatusProvider, Task, TaskType
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["TestTasksAction", "TestTasksRequest", "is_node_failure", "next_node", "render_test_tasks"]

log = logging.getLogger(__name__)

T = TypeVar("T")
ChildOutcome = pb.TestTaskNodeResponse | ElasticsearchError


@dataclass(frozen=True, slots=True)
class TestTasksRequest:
    """What `POST /_sim/tasks` asks for; `duration_millis=-1` runs until cancelled."""

    __test__ = False  # not a pytest test class, despite its name

    nodes: Sequence[str] = ()
    duration_millis: int = -1
    depth: int = 1
    cancellable: bool = True
    fail: bool = False
    check_interval_millis: int = 100

    def to_proto(self) -> pb.TestTaskNodeRequest:
        return pb.TestTaskNodeRequest(
            duration_millis=self.duration_millis,
            cancellable=self.cancellable,
            fail=self.fail,
            check_interval_millis=self.check_interval_millis,
            depth=self.depth,
        )


def is_node_failure(error: ElasticsearchError) -> bool:
    """Whether a child failed because of its node (transport failure, node gone) rather than by itself."""
    return isinstance(error, TransportError | NoSuchNodeError)


def render_test_tasks(
    cluster_name: str, nodes: Mapping[str, Mapping[str, Any]], failures: Sequence[FailedNodeError]
) -> dict[str, Any]:
    """The response body, shaped like an ES nodes response (`_nodes` header, `cluster_name`, `nodes`)."""
    header: dict[str, Any] = {"total": len(nodes) + len(failures), "successful": len(nodes), "failed": len(failures)}
    if failures:
        header["failures"] = [f.to_dict() for f in failures]
    return {"_nodes": header, "cluster_name": cluster_name, "nodes": {k: dict(v) for k, v in nodes.items()}}


def next_node(state: ClusterState, local: DiscoveryNode) -> DiscoveryNode:
    """The node after `local` in node-name order, wrapping; `local` itself in a one-node cluster."""
    ring = state.nodes_sorted()
    ids = [n.id for n in ring]
    if local.id not in ids:
        return local
    return ring[(ids.index(local.id) + 1) % len(ring)]


@dataclass(slots=True)
class _WorkProgress:
    """The `status` of a child: how long it has run, for how long it should, and how often it checked."""

    duration_millis: int
    started_ns: int = field(default_factory=time.monotonic_ns)
    checks: int = 0
    phase: str = "running"

    def remaining_seconds(self) -> float | None:
        if self.duration_millis < 0:
            return None
        return self.duration_millis / 1000 - (time.monotonic_ns() - self.started_ns) / 1e9

    def status(self) -> dict[str, Any]:
        elapsed = (time.monotonic_ns() - self.started_ns) // 1_000_000
        return {
            "phase": self.phase,
            "elapsed_millis": elapsed,
            "duration_millis": self.duration_millis,
            "checks": self.checks,
        }


@dataclass(slots=True)
class _ChildrenProgress:
    """The `status` of the parent: how many children it started and how many have answered."""

    children: int
    completed: int = 0
    phase: str = "waiting_for_children"

    def child_done(self) -> None:
        self.completed += 1

    def status(self) -> dict[str, Any]:
        return {"phase": self.phase, "children": self.children, "completed": self.completed}


def _report_status(task: Task, provider: StatusProvider) -> None:
    # The transport layer registers `[n]` tasks before their handler runs and takes no status provider, so the
    # handler attaches one, as an ES task class overriding `getStatus()` would provide it.
    task.status_provider = provider


def _cancelled(task: Task) -> TaskCancelledError:
    return TaskCancelledError(f"task cancelled [{task.cancel_reason}]")


class TestTasksAction:
    """Runs test-task parents (in the caller's task or in the background) and serves their children."""

    __test__ = False

    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node: Callable[[], DiscoveryNode],
        task_results: TaskResultsService,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node = local_node
        self._task_results = task_results
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False
        for action in (TEST_TASK_NODE, TEST_TASK_NODE_CHILD):
            transport.register_action(
                action, pb.TestTaskNodeRequest, pb.TestTaskNodeResponse, self._node_operation,
                cancellable=lambda request: request.cancellable,
                describe=lambda _request: f"test task on [{self._local_node().name}]",
            )  # fmt: skip

    def select_nodes(self, request: TestTasksRequest) -> list[DiscoveryNode]:
        """The target nodes, by node-name order (raises on a malformed selector, as the tasks APIs do)."""
        state = self._cluster_state()
        return [state.nodes[i] for i in resolve_nodes(state, self._local_node().id, request.nodes)]

    @staticmethod
    def describe(nodes: Iterable[DiscoveryNode]) -> str:
        return f"test task on [{', '.join(n.name for n in nodes)}]"

    async def execute(self, task: Task, request: TestTasksRequest, nodes: Sequence[DiscoveryNode]) -> dict[str, Any]:
        """Runs the parent in `task` until every child answered; returns the response body.

        Raises:
            TaskCancelledError: `task` was cancelled (noticed at a check).
            ElasticsearchError: the first failure of a child that failed by itself, in node-name order.
        """
        progress = _ChildrenProgress(len(nodes))
        _report_status(task, progress.status)
        node_request = request.to_proto()
        calls = [
            self._spawn(self._send_child(task, node, TEST_TASK_NODE, node_request, progress.child_done))
            for node in nodes
        ]
        try:
            await self._join(task, calls, request.check_interval_millis)
        except TaskCancelledError:
            progress.phase = "cancelled"
            raise
        answers: dict[str, Mapping[str, Any]] = {}
        node_failures: list[FailedNodeError] = []
        own_failures: list[ElasticsearchError] = []
        for node, call in zip(nodes, calls, strict=True):
            outcome = call.result()
            if not isinstance(outcome, ElasticsearchError):
                answers[node.id] = json.loads(outcome.result_json)
            elif is_node_failure(outcome):
                node_failures.append(FailedNodeError(node.id, outcome))
            else:
                own_failures.append(outcome)
        if own_failures:
            progress.phase = "failed"
            raise own_failures[0]
        progress.phase = "finished"
        return render_test_tasks(self._cluster_state().cluster_name, answers, node_failures)

    def start(self, request: TestTasksRequest, nodes: Sequence[DiscoveryNode], headers: Mapping[str, str]) -> Task:
        """Registers a parent that outlives the REST request (`wait_for_completion=false`) and starts it."""
        task = self._task_manager.register(
            type=TaskType.TRANSPORT,
            action=TEST_TASK,
            description=self.describe(nodes),
            headers=headers,
            cancellable=request.cancellable,
        )
        self._spawn(self._run_and_store(task, request, nodes))
        return task

    async def close(self) -> None:
        """Cancels every background parent and child request; called when the node stops."""
        self._closed = True
        pending = list(self._background)
        for background in pending:
            background.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # ---- the parent ---------------------------------------------------------------------------------------------

    async def _run_and_store(self, task: Task, request: TestTasksRequest, nodes: Sequence[DiscoveryNode]) -> None:
        try:
            try:
                body = await self.execute(task, request, nodes)
            except ElasticsearchError as e:
                result = TaskResult.of_error(task.info(detailed=True), e)
            else:
                result = TaskResult.of_response(task.info(detailed=True), body)
            try:
                await self._task_results.store_result(result)
            except ElasticsearchError as e:  # ES only logs a failed store of a wait_for_completion=false task
                log.warning("failed to store the result of task [%s]: %s", task.task_id, e)
        finally:
            self._task_manager.unregister(task)

    async def _send_child(
        self,
        parent: Task,
        node: DiscoveryNode,
        action: str,
        request: pb.TestTaskNodeRequest,
        on_done: Callable[[], None],
    ) -> ChildOutcome:
        """One child request, counted as outstanding on `node` so a cancellation bans it there."""
        try:
            with self._task_manager.child_request(parent, node.id):
                response: pb.TestTaskNodeResponse = await self._transport.send_request(
                    node, action, request, parent=parent
                )
                return response
        except ElasticsearchError as e:
            return e
        finally:
            on_done()

    async def _join(self, task: Task, calls: Sequence[asyncio.Future[Any]], check_interval_millis: int) -> None:
        """Waits for every call, checking `task` for cancellation every `check_interval`."""
        pending = set(calls)
        while True:
            if task.cancelled:
                raise _cancelled(task)
            if not pending:
                return
            _, pending = await asyncio.wait(pending, timeout=check_interval_millis / 1000)

    # ---- the children -------------------------------------------------------------------------------------------

    async def _node_operation(self, task: Task, request: pb.TestTaskNodeRequest) -> pb.TestTaskNodeResponse:
        """A `[n]` or `[n][n]` task: work, start the grandchild if asked, and answer once both are done."""
        progress = _WorkProgress(request.duration_millis)
        _report_status(task, progress.status)
        grandchild: asyncio.Task[ChildOutcome] | None = None
        if request.depth >= 2:
            grandchild_request = pb.TestTaskNodeRequest()
            grandchild_request.CopyFrom(request)
            grandchild_request.depth = 1
            target = next_node(self._cluster_state(), self._local_node())
            grandchild = self._spawn(
                self._send_child(task, target, TEST_TASK_NODE_CHILD, grandchild_request, lambda: None)
            )
        try:
            failure = await self._work(task, request, progress)
            if grandchild is not None:
                progress.phase = "waiting_for_children"
                await self._join(task, [grandchild], request.check_interval_millis)
                outcome = grandchild.result()
                if failure is None and isinstance(outcome, ElasticsearchError):
                    failure = outcome
        except TaskCancelledError:
            progress.phase = "cancelled"
            raise
        except asyncio.CancelledError:
            # The request itself went away (its sender stopped): take the grandchild down with it.
            if grandchild is not None:
                grandchild.cancel()
            raise
        if failure is not None:
            progress.phase = "failed"
            raise failure
        progress.phase = "finished"
        result = {
            "name": self._local_node().name,
            "task": str(task.task_id),
            "running_time_in_nanos": time.monotonic_ns() - task.start_nanos,
        }
        return pb.TestTaskNodeResponse(result_json=json.dumps(result, separators=(",", ":")))

    async def _work(
        self, task: Task, request: pb.TestTaskNodeRequest, progress: _WorkProgress
    ) -> ElasticsearchError | None:
        """Sleeps in `check_interval` steps for `duration`; returns the simulated failure when asked to fail.

        Raises:
            TaskCancelledError: noticed at a check, so up to one interval after the cancellation.
        """
        interval = request.check_interval_millis / 1000
        while True:
            progress.checks += 1
            if task.cancelled:
                raise _cancelled(task)
            remaining = progress.remaining_seconds()
            if remaining is not None and remaining <= 0:
                break
            await asyncio.sleep(interval if remaining is None else min(interval, remaining))
        if request.fail:
            return IllegalStateError(f"simulated failure of task [{task.task_id}]")
        return None

    # ---- background asyncio tasks -------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        background = asyncio.ensure_future(coro)
        if self._closed:  # the node is stopping: start nothing new
            background.cancel()
            return background
        self._background.add(background)
        background.add_done_callback(self._background_done)
        return background

    def _background_done(self, background: asyncio.Task[Any]) -> None:
        self._background.discard(background)
        if not background.cancelled() and background.exception() is not None:
            log.error("test task work failed", exc_info=background.exception())
