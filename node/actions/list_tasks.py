"""`cluster:monitor/tasks/lists` and its `[n]` node action (reference §6, §9; mirrors ES TransportListTasksAction)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from node.actions.names import LIST_TASKS, LIST_TASKS_NODE
from node.actions.node_selector import resolve_nodes, simple_match
from node.coordination.state import ClusterState
from node.errors import ElasticsearchTimeoutError, FailedNodeError, TaskCancelledError
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskInfo
from node.tasks.task_id import TaskId
from node.transport.convert import task_info_from_proto, task_info_to_proto
from node.transport.fan_out import fan_out
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["DEFAULT_WAIT_TIMEOUT_MILLIS", "ListTasksAction", "ListTasksRequest", "ListTasksResult", "Timeout"]

DEFAULT_WAIT_TIMEOUT_MILLIS = 30_000


@dataclass(frozen=True, slots=True)
class Timeout:
    """A request timeout: its millis and the text ES prints in messages (`30s`, `100ms`)."""

    millis: int
    text: str

    @property
    def seconds(self) -> float:
        return self.millis / 1000


@dataclass(frozen=True, slots=True)
class ListTasksRequest:
    nodes: Sequence[str] = ()
    actions: Sequence[str] = ()
    parent_task_id: TaskId = TaskId.UNSET
    detailed: bool = False
    wait_for_completion: bool = False
    timeout: Timeout | None = None


@dataclass(slots=True)
class ListTasksResult:
    """Tasks per node id (in target-node order), plus the nodes that failed."""

    tasks_by_node: dict[str, list[TaskInfo]] = field(default_factory=dict)
    node_failures: list[FailedNodeError] = field(default_factory=list)

    def all_tasks(self) -> list[TaskInfo]:
        return [info for infos in self.tasks_by_node.values() for info in infos]


def task_matches(task: Task, actions: Sequence[str], parent: TaskId) -> bool:
    """The list/cancel filters of ES `BaseTasksRequest#match`: any action pattern, and the exact parent."""
    if actions and not any(simple_match(pattern, task.action) for pattern in actions):
        return False
    return not parent.is_set or task.parent_task_id == parent


class ListTasksAction:
    """Coordinates a list-tasks request and serves its `[n]` part on every node."""

    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        transport.register_action(
            LIST_TASKS_NODE, pb.ListTasksNodeRequest, pb.ListTasksNodeResponse, self._node_operation, cancellable=True
        )

    async def execute(self, task: Task, request: ListTasksRequest) -> ListTasksResult:
        """Fans `[n]` out to the selected nodes; `task` is the caller's `cluster:monitor/tasks/lists` task."""
        state = self._cluster_state()
        node_ids = resolve_nodes(state, self._local_node_id, request.nodes)
        node_request = pb.ListTasksNodeRequest(
            actions=list(request.actions),
            parent_task_id=str(request.parent_task_id) if request.parent_task_id.is_set else "",
            detailed=request.detailed,
            wait_for_completion=request.wait_for_completion,
            timeout_millis=request.timeout.millis if request.timeout else -1,
            timeout_text=request.timeout.text if request.timeout else "",
        )
        timeout = request.timeout.seconds if request.timeout else None
        nodes = await fan_out(
            self._transport, self._task_manager, state, node_ids, LIST_TASKS_NODE, node_request,
            parent=task, timeout=timeout,
        )  # fmt: skip
        result = ListTasksResult(node_failures=nodes.failures)
        for node_id, response in nodes.responses.items():
            if response.tasks:
                result.tasks_by_node[node_id] = [task_info_from_proto(t) for t in response.tasks]
        return result

    async def _node_operation(self, task: Task, request: pb.ListTasksNodeRequest) -> pb.ListTasksNodeResponse:
        parent = TaskId.parse(request.parent_task_id) if request.parent_task_id else TaskId.UNSET
        matched = [t for t in self._task_manager.tasks() if task_matches(t, request.actions, parent)]
        if request.wait_for_completion:
            await self._wait_for(task, matched, request)
        return pb.ListTasksNodeResponse(tasks=[task_info_to_proto(t.info(detailed=request.detailed)) for t in matched])

    async def _wait_for(self, task: Task, matched: list[Task], request: pb.ListTasksNodeRequest) -> None:
        """Waits until every matched task except list requests is gone (reference §9.4, 8.9+ semantics)."""
        waiting = [t for t in matched if not t.action.startswith(LIST_TASKS)]
        if not waiting:
            return
        millis = request.timeout_millis if request.timeout_millis >= 0 else DEFAULT_WAIT_TIMEOUT_MILLIS
        text = request.timeout_text or "30s"
        removals = asyncio.gather(*(self._task_manager.wait_for_removal(t) for t in waiting))
        cancelled = asyncio.ensure_future(task.cancelled_event.wait())
        try:
            done, _ = await asyncio.wait({removals, cancelled}, timeout=millis / 1000, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if not removals.done():
                removals.cancel()
        if removals in done:
            return
        if cancelled in done:
            raise TaskCancelledError("task cancelled")
        raise ElasticsearchTimeoutError(f"timed out after [{text}/{millis}ms]")
