"""`cluster:admin/reindex/rethrottle` and its `[n]` node action (mirrors ES `TransportRethrottleAction`, a tasks
action; reference §14.6).

It targets one task id (its node only) or, as a leader does for its running slices, every task with a given parent
on every node. Each selected task must be a reindex, update-by-query or delete-by-query task, else the node fails
(`task [X] doesn't support this operation`); a missing task id fails its node with `task [X] is missing`. A worker
changes its rate at once (a current throttle wait that gets shorter is rescheduled); a leader with running slices
divides the new rate among them through a rethrottle of its own (a new top-level task here, as ES's node client
runs it) and answers with its TaskInfo carrying the slices' fresh statuses. The answer is a ListTasksResponse of
detailed TaskInfos.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from node.actions.names import RETHROTTLE, RETHROTTLE_NODE
from node.actions.reindex import BULK_BY_SCROLL_ACTIONS, LeaderState, ReindexAction, WorkerState
from node.coordination.state import ClusterState
from node.data.bulk_by_scroll import BulkByScrollStatus, f32, java_float
from node.errors import ElasticsearchError, FailedNodeError, IllegalArgumentError, ResourceNotFoundError
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskInfo, TaskType
from node.tasks.task_id import TaskId
from node.transport.convert import task_info_from_proto, task_info_to_proto
from node.transport.fan_out import fan_out
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["RethrottleAction", "RethrottleResult"]


@dataclass(slots=True)
class RethrottleResult:
    tasks_by_node: dict[str, list[TaskInfo]] = field(default_factory=dict)
    task_failures: list[tuple[int, str, ElasticsearchError]] = field(default_factory=list)
    node_failures: list[FailedNodeError] = field(default_factory=list)


class RethrottleAction:
    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
        reindex: ReindexAction,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        self._reindex = reindex
        transport.register_action(
            RETHROTTLE_NODE, pb.RethrottleNodeRequest, pb.RethrottleNodeResponse, self._node_operation,
            cancellable=True,
        )  # fmt: skip

    async def execute(
        self, task: Task, requests_per_second: float, *, target: TaskId = TaskId.UNSET, parent: TaskId = TaskId.UNSET
    ) -> RethrottleResult:
        """Rethrottles the target task (on its node), or every child of `parent` (on every node)."""
        state = self._cluster_state()
        node_ids = [target.node_id] if target.is_set else [n.id for n in state.nodes_sorted()]
        request = pb.RethrottleNodeRequest(
            target_task_id=str(target) if target.is_set else "",
            parent_task_id=str(parent) if parent.is_set else "",
            requests_per_second=requests_per_second,
        )
        nodes = await fan_out(
            self._transport, self._task_manager, state, node_ids, RETHROTTLE_NODE, request, parent=task, timeout=None
        )
        result = RethrottleResult(node_failures=nodes.failures)
        for node_id, response in nodes.responses.items():
            if response.tasks:
                result.tasks_by_node[node_id] = [task_info_from_proto(t) for t in response.tasks]
            for failure in response.failures:
                error = ElasticsearchError.from_wire(json.loads(failure.error_json))
                result.task_failures.append((failure.task_id, failure.node_id, error))
        return result

    def _select(self, request: pb.RethrottleNodeRequest) -> list[Task]:
        if request.target_task_id:
            target = TaskId.parse(request.target_task_id)
            found = self._task_manager.get(target.id)
            if found is None:
                raise ResourceNotFoundError(f"task [{target}] is missing")
            if found.action not in BULK_BY_SCROLL_ACTIONS:
                raise IllegalArgumentError(f"task [{target}] doesn't support this operation")
            return [found]
        parent = TaskId.parse(request.parent_task_id)
        return [
            t for t in self._task_manager.tasks() if t.parent_task_id == parent and t.action in BULK_BY_SCROLL_ACTIONS
        ]

    async def _node_operation(self, task: Task, request: pb.RethrottleNodeRequest) -> pb.RethrottleNodeResponse:
        rps = java_float(request.requests_per_second) if not math.isinf(request.requests_per_second) else math.inf
        selected = self._select(request)
        outcomes = await asyncio.gather(*(self._rethrottle(t, rps) for t in selected), return_exceptions=True)
        response = pb.RethrottleNodeResponse()
        for selected_task, outcome in zip(selected, outcomes, strict=True):
            if isinstance(outcome, ElasticsearchError):
                response.failures.append(
                    pb.TaskFailureMessage(
                        task_id=selected_task.id,
                        node_id=selected_task.node_id,
                        error_json=json.dumps(outcome.to_wire()),
                    )
                )
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                response.tasks.append(task_info_to_proto(outcome))
        return response

    async def _rethrottle(self, task: Task, requests_per_second: float) -> TaskInfo:
        state = self._reindex.rethrottle_target(task)
        if isinstance(state, WorkerState):
            state.rethrottle(requests_per_second)
            return task.info(detailed=True)
        assert isinstance(state, LeaderState)
        running = state.running()
        if running == 0:
            return task.info(detailed=True)
        per_slice = (
            requests_per_second if math.isinf(requests_per_second) else java_float(f32(requests_per_second) / running)
        )
        with self._task_manager.registered(type=TaskType.TRANSPORT, action=RETHROTTLE, headers=task.headers) as own:
            result = await self.execute(own, per_slice, parent=task.task_id)
        if result.node_failures or result.task_failures:  # ES `rethrowFailures("Rethrottle")`
            failure = result.node_failures[0] if result.node_failures else result.task_failures[0][2]
            raise ElasticsearchError("Rethrottle failed", cause=failure)
        fresh = {}
        for info in (i for infos in result.tasks_by_node.values() for i in infos):
            status = BulkByScrollStatus.from_dict(info.status or {})
            if status.slice_id is not None:
                fresh[status.slice_id] = status
        return self._reindex.leader_info(task, fresh)
