"""`TransportTasksAction`: an operation on every selected task of the selected nodes (mirrors ES
`TransportTasksAction`; reference §6, §11.2).

The coordinating task sends `<name>[n]` to the node of the target task id, or to every node the `nodes` selector
picks. Each node selects its tasks (`process_tasks`: the target task, or every task matching the `actions` and
`parent_task_id` filters), runs `task_operation` on each, and answers their `TaskInfo`s and the per-task failures.
The response keeps the three apart, as ES's `BaseTasksResponse` does: tasks per node, `task_failures`, and
`node_failures`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from node.actions.support.nodes_action import TransportNodesAction
from node.actions.support.wire import request_from_json, request_to_json
from node.cluster.node_selector import resolve_nodes
from node.cluster.state import ClusterState
from node.common.regex import simple_match
from node.common.time_value import TimeValue
from node.errors import ElasticsearchError, FailedNodeError, IllegalArgumentError, ResourceNotFoundError
from node.tasks.task import Task, TaskInfo, TaskInfos
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb

__all__ = ["BaseTasksRequest", "TaskFailure", "TasksResponse", "TransportTasksAction"]

TasksRequest = TypeVar("TasksRequest", bound="BaseTasksRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseTasksRequest:
    """ES `BaseTasksRequest`: which tasks an operation applies to, and how long each node may take."""

    target_task_id: TaskId = TaskId.UNSET
    nodes: Sequence[str] = ()
    actions: Sequence[str] = ()
    parent_task_id: TaskId = TaskId.UNSET
    timeout: TimeValue | None = None

    def match(self, task: Task) -> bool:
        """ES `BaseTasksRequest#match`: any of the action patterns, and the exact parent when one is given."""
        if self.actions and not any(simple_match(pattern, task.action) for pattern in self.actions):
            return False
        return not self.parent_task_id.is_set or task.parent_task_id == self.parent_task_id


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """ES `TaskOperationFailure`: one task whose operation failed on its node."""

    task_id: int
    node_id: str
    error: ElasticsearchError


@dataclass(slots=True)
class TasksResponse:
    """ES `BaseTasksResponse`: task infos per node id (in target-node order), task failures, node failures."""

    tasks_by_node: dict[str, Sequence[TaskInfo]] = field(default_factory=dict)
    task_failures: list[TaskFailure] = field(default_factory=list)
    node_failures: list[FailedNodeError] = field(default_factory=list)

    def all_tasks(self) -> list[TaskInfo]:
        return [info for infos in self.tasks_by_node.values() for info in infos]


class TransportTasksAction(
    TransportNodesAction[TasksRequest, TasksResponse, pb.TasksNodeRequest, pb.TasksNodeResponse],
    Generic[TasksRequest],
):
    """Runs `task_operation` on every task the request selects, on every node that holds one.

    Subclasses set `name` and `request_type` and implement `task_operation`; they may refine `process_tasks` (the
    selection, and waiting) and `missing_task` (the error for an unknown target id).
    """

    request_type: ClassVar[type[BaseTasksRequest]]
    node_request_type = pb.TasksNodeRequest
    node_response_type = pb.TasksNodeResponse

    # ---- what a subclass states -------------------------------------------------------------------------------

    async def task_operation(self, node_task: Task, request: TasksRequest, task: Task) -> TaskInfo:
        raise NotImplementedError

    async def task_operations(
        self, node_task: Task, request: TasksRequest, tasks: list[Task]
    ) -> list[dict[str, Any] | ElasticsearchError]:
        """Runs `task_operation` on every selected task at once; each outcome is the TaskInfo's ES form
        (`TaskInfo.to_dict()`) or the task's failure. An action whose operation answers at once may do all in one
        pass instead, without a coroutine per task."""
        outcomes = await asyncio.gather(
            *(self.task_operation(node_task, request, t) for t in tasks), return_exceptions=True
        )
        results: list[dict[str, Any] | ElasticsearchError] = []
        for outcome in outcomes:
            if isinstance(outcome, ElasticsearchError):
                results.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results.append(outcome.to_dict())
        return results

    # ---- what a subclass may refine ---------------------------------------------------------------------------

    async def process_tasks(self, node_task: Task, request: TasksRequest) -> list[Task]:
        """ES `processTasks`: the target task (which must match the filters), or every matching task.

        Raises:
            ElasticsearchError: the target task is missing or does not match; the whole node part fails.
        """
        if request.target_task_id.is_set:
            found = self.task_manager.get(request.target_task_id.id)
            if found is None:
                raise self.missing_task(request.target_task_id)
            if not request.match(found):
                raise IllegalArgumentError(f"task [{request.target_task_id}] doesn't support this operation")
            return [found]
        return [t for t in self.task_manager.tasks() if request.match(t)]

    def missing_task(self, task_id: TaskId) -> ElasticsearchError:
        return ResourceNotFoundError(f"task [{task_id}] is missing")

    # ---- the coordinating node --------------------------------------------------------------------------------

    def resolve_nodes(self, request: TasksRequest, state: ClusterState) -> list[str]:
        """A target task id addresses its own node only; otherwise the `nodes` selectors decide."""
        if request.target_task_id.is_set:
            return [request.target_task_id.node_id]
        return resolve_nodes(state, self.local_node.id, request.nodes)

    def new_node_request(self, request: TasksRequest) -> pb.TasksNodeRequest:
        return pb.TasksNodeRequest(request_json=request_to_json(request))

    def new_response(
        self, request: TasksRequest, responses: Mapping[str, pb.TasksNodeResponse], failures: list[FailedNodeError]
    ) -> TasksResponse:
        out = TasksResponse(node_failures=failures)
        for node_id, response in responses.items():
            tasks = json.loads(response.tasks_json) if response.tasks_json else []
            if tasks:
                out.tasks_by_node[node_id] = TaskInfos(tasks)
            for failure in response.failures:
                error = ElasticsearchError.from_wire(json.loads(failure.error_json))
                out.task_failures.append(TaskFailure(failure.task_id, failure.node_id, error))
        return out

    # ---- each node --------------------------------------------------------------------------------------------

    async def node_operation(self, task: Task, request: pb.TasksNodeRequest) -> pb.TasksNodeResponse:
        tasks_request: TasksRequest = request_from_json(self.request_type, request.request_json)  # type: ignore[assignment]
        selected = await self.process_tasks(task, tasks_request)
        outcomes = await self.task_operations(task, tasks_request, selected)
        response = pb.TasksNodeResponse()
        infos: list[dict[str, Any]] = []
        for selected_task, outcome in zip(selected, outcomes, strict=True):
            if isinstance(outcome, ElasticsearchError):
                response.failures.append(
                    pb.TaskFailureMessage(
                        task_id=selected_task.id,
                        node_id=selected_task.node_id,
                        error_json=json.dumps(outcome.to_wire()),
                    )
                )
            else:
                infos.append(outcome)
        response.tasks_json = json.dumps(infos, separators=(",", ":"))
        return response
