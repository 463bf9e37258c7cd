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
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from node.actions.support.nodes_action import TransportNodesAction, fan_out
from node.actions.support.services import NodeServices
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.action_names import TEST_TASK, TEST_TASK_NODE, TEST_TASK_NODE_CHILD
from node.common.background import BackgroundTasks
from node.errors import (
    ElasticsearchError,
    FailedNodeError,
    IllegalStateError,
    NoSuchNodeError,
    TaskCancelledError,
    TransportError,
)
from node.tasks.task import StatusProvider, Task
from node.transport.pb import transport_pb2 as pb

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
class _ChildWork:
    """A child's work as its request asked for it, and its `status`: how long it has run, for how long it should,
    and how often it checked."""

    duration_millis: int
    check_interval_millis: int
    fail: bool
    depth: int
    cancellable: bool
    started_ns: int = field(default_factory=time.monotonic_ns)
    checks: int = 0
    phase: str = "running"

    @classmethod
    def of(cls, request: pb.TestTaskNodeRequest) -> _ChildWork:
        return cls(
            request.duration_millis, request.check_interval_millis, request.fail, request.depth, request.cancellable
        )

    def grandchild_request(self) -> pb.TestTaskNodeRequest:
        return pb.TestTaskNodeRequest(
            duration_millis=self.duration_millis, cancellable=self.cancellable, fail=self.fail,
            check_interval_millis=self.check_interval_millis, depth=1,
        )  # fmt: skip

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


class TestTasksAction(
    TransportNodesAction[TestTasksRequest, dict[str, Any], pb.TestTaskNodeRequest, pb.TestTaskNodeResponse]
):
    """Runs test-task parents and serves their `[n]` and `[n][n]` children."""

    __test__ = False

    name = TEST_TASK
    node_request_type = pb.TestTaskNodeRequest
    node_response_type = pb.TestTaskNodeResponse

    def __init__(self, services: NodeServices) -> None:
        super().__init__(services)
        self._grandchildren = BackgroundTasks("test tasks", log)

    def register(self) -> None:
        for action in (TEST_TASK_NODE, TEST_TASK_NODE_CHILD):
            self.transport.register_action(
                action, pb.TestTaskNodeRequest, pb.TestTaskNodeResponse, self.node_operation,
                cancellable=lambda request: request.cancellable, describe=self.node_description,
            )  # fmt: skip

    def is_cancellable(self, request: TestTasksRequest) -> bool:
        return request.cancellable

    def describe(self, request: TestTasksRequest) -> str:
        """`test task on [node-1, node-2]`: the selected nodes by name (a malformed selector fails here, before the
        task is registered, as the tasks APIs fail)."""
        state = self.cluster.state()
        nodes = [state.nodes[i] for i in self.resolve_nodes(request, state)]
        return f"test task on [{', '.join(n.name for n in nodes)}]"

    def node_description(self, request: pb.TestTaskNodeRequest) -> str:
        return f"test task on [{self.local_node.name}]"

    def new_node_request(self, request: TestTasksRequest) -> pb.TestTaskNodeRequest:
        return request.to_proto()

    async def close(self) -> None:
        await self._grandchildren.close()

    # ---- the parent ---------------------------------------------------------------------------------------------

    async def execute(self, task: Task, request: TestTasksRequest) -> dict[str, Any]:
        """Runs the parent in `task` until every child answered; returns the response body.

        Raises:
            TaskCancelledError: `task` was cancelled.
            ElasticsearchError: the first failure of a child that failed by itself, in node-name order.
        """
        state = self.cluster.state()
        node_ids = self.resolve_nodes(request, state)
        progress = _ChildrenProgress(len(node_ids))
        _report_status(task, progress.status)
        try:
            nodes = await fan_out(
                self.transport, state, node_ids, TEST_TASK_NODE, request.to_proto(), parent=task, timeout=None,
                on_node_done=progress.child_done,
            )  # fmt: skip
        except TaskCancelledError:
            progress.phase = "cancelled"
            raise
        own_failures = [f.cause for f in nodes.failures if f.cause is not None and not is_node_failure(f.cause)]
        if own_failures:
            progress.phase = "failed"
            raise own_failures[0]
        progress.phase = "finished"
        answers = {node_id: json.loads(r.result_json) for node_id, r in nodes.responses.items()}
        return render_test_tasks(self.cluster.cluster_name, answers, nodes.failures)

    # ---- the children -------------------------------------------------------------------------------------------

    def node_operation(
        self, task: Task, request: pb.TestTaskNodeRequest
    ) -> Coroutine[Any, Any, pb.TestTaskNodeResponse]:
        """A `[n]` or `[n][n]` task: work, start the grandchild if asked, and answer once both are done.

        Not a coroutine itself: the request's fields are read here, so that nothing keeps the request message (and
        the buffers it was parsed from) while the child works, for minutes maybe, among thousands of others.
        """
        return self._child(task, _ChildWork.of(request))

    async def _child(self, task: Task, work: _ChildWork) -> pb.TestTaskNodeResponse:
        """Sleeps in `check_interval` steps for `duration`, then waits for the grandchild, checking for
        cancellation at the same interval; fails when asked to (`fail`), with the grandchild's failure otherwise.

        Raises:
            TaskCancelledError: noticed at a check, so up to one interval after the cancellation.
        """
        _report_status(task, work.status)
        grandchild: asyncio.Task[ChildOutcome] | None = None
        if work.depth >= 2:
            target = next_node(self.cluster.state(), self.local_node)
            grandchild = self._grandchildren.spawn(self._send_child(task, target, work.grandchild_request()))
        loop = asyncio.get_running_loop()
        interval = work.check_interval_millis / 1000
        try:
            while True:
                work.checks += 1
                if task.cancelled:
                    raise _cancelled(task)
                remaining = work.remaining_seconds()
                if remaining is not None and remaining <= 0:
                    break
                # asyncio.sleep without a coroutine of its own: thousands of children wait here at once.
                woken: asyncio.Future[None] = loop.create_future()
                timer = loop.call_later(interval if remaining is None else min(interval, remaining), _wake, woken)
                try:
                    await woken
                finally:
                    timer.cancel()
            failure: ElasticsearchError | None = None
            if work.fail:
                failure = IllegalStateError(f"simulated failure of task [{task.task_id}]")
            if grandchild is not None:
                work.phase = "waiting_for_children"
                await self._join(task, grandchild, work.check_interval_millis)
                outcome = grandchild.result()
                if failure is None and isinstance(outcome, ElasticsearchError):
                    failure = outcome
        except TaskCancelledError:
            work.phase = "cancelled"
            raise
        except asyncio.CancelledError:
            # The request itself went away (its sender stopped): take the grandchild down with it.
            if grandchild is not None:
                grandchild.cancel()
            raise
        if failure is not None:
            work.phase = "failed"
            raise failure
        work.phase = "finished"
        result = {
            "name": self.local_node.name,
            "task": str(task.task_id),
            "running_time_in_nanos": time.monotonic_ns() - task.start_nanos,
        }
        return pb.TestTaskNodeResponse(result_json=json.dumps(result, separators=(",", ":")))

    async def _send_child(self, parent: Task, node: DiscoveryNode, request: pb.TestTaskNodeRequest) -> ChildOutcome:
        """The grandchild request, counted as outstanding on `node` so a cancellation bans it there."""
        try:
            with self.task_manager.child_request(parent, node.id):
                response: pb.TestTaskNodeResponse = await self.transport.send_request(
                    node, TEST_TASK_NODE_CHILD, request, parent=parent
                )
                return response
        except ElasticsearchError as e:
            return e

    async def _join(self, task: Task, call: asyncio.Future[Any], check_interval_millis: int) -> None:
        """Waits for `call`, checking `task` for cancellation every `check_interval`."""
        while True:
            if task.cancelled:
                raise _cancelled(task)
            if call.done():
                return
            await asyncio.wait({call}, timeout=check_interval_millis / 1000)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
