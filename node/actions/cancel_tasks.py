"""`cluster:admin/tasks/cancel` and its `[n]` node action (reference §11; mirrors ES TransportCancelTasksAction)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from node.actions.list_tasks import task_matches
from node.actions.names import CANCEL_TASKS_NODE
from node.actions.node_selector import resolve_nodes
from node.coordination.state import ClusterState
from node.errors import (
    ActionRequestValidationError,
    ElasticsearchError,
    FailedNodeError,
    IllegalArgumentError,
    ResourceNotFoundError,
)
from node.tasks.cancellation import TaskCancellationService
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskInfo
from node.tasks.task_id import TaskId
from node.transport.convert import task_info_from_proto, task_info_to_proto
from node.transport.fan_out import fan_out
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["BY_USER_REQUEST", "CancelTasksAction", "CancelTasksRequest", "CancelTasksResult", "TaskFailure"]

BY_USER_REQUEST = "by user request"


@dataclass(frozen=True, slots=True)
class CancelTasksRequest:
    target_task_id: TaskId = TaskId.UNSET
    nodes: Sequence[str] = ()
    actions: Sequence[str] = ()
    parent_task_id: TaskId = TaskId.UNSET
    wait_for_completion: bool = False

    def validate(self) -> None:
        if self.target_task_id.is_set and self.nodes:
            raise ActionRequestValidationError("task id cannot be used together with node ids")

    def description(self) -> str:
        """ES `CancelTasksRequest#getDescription` (the 8.x wording)."""
        return (
            f"reason[{BY_USER_REQUEST}], waitForCompletion[{str(self.wait_for_completion).lower()}], "
            f"targetTaskId[{self.target_task_id}], targetParentTaskId[{self.parent_task_id}], "
            f"nodes[{', '.join(self.nodes)}], actions[{', '.join(self.actions)}]"
        )


@dataclass(frozen=True, slots=True)
class TaskFailure:
    task_id: int
    node_id: str
    error: ElasticsearchError


@dataclass(slots=True)
class CancelTasksResult:
    tasks_by_node: dict[str, list[TaskInfo]] = field(default_factory=dict)
    task_failures: list[TaskFailure] = field(default_factory=list)
    node_failures: list[FailedNodeError] = field(default_factory=list)


class CancelTasksAction:
    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cancellation: TaskCancellationService,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cancellation = cancellation
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        transport.register_action(
            CANCEL_TASKS_NODE, pb.CancelTasksNodeRequest, pb.CancelTasksNodeResponse, self._node_operation,
            cancellable=True,
        )  # fmt: skip

    async def execute(self, task: Task, request: CancelTasksRequest) -> CancelTasksResult:
        """Cancels on every target node; a path task id targets only its own node."""
        state = self._cluster_state()
        if request.target_task_id.is_set:
            node_ids = [request.target_task_id.node_id]
        else:
            node_ids = resolve_nodes(state, self._local_node_id, request.nodes)
        node_request = pb.CancelTasksNodeRequest(
            target_task_id=str(request.target_task_id) if request.target_task_id.is_set else "",
            actions=list(request.actions),
            parent_task_id=str(request.parent_task_id) if request.parent_task_id.is_set else "",
            wait_for_completion=request.wait_for_completion,
            reason=BY_USER_REQUEST,
            cancel_task_id=str(task.task_id),
        )
        nodes = await fan_out(
            self._transport, self._task_manager, state, node_ids, CANCEL_TASKS_NODE, node_request,
            parent=task, timeout=None,
        )  # fmt: skip
        result = CancelTasksResult(node_failures=nodes.failures)
        for node_id, response in nodes.responses.items():
            if response.tasks:
                result.tasks_by_node[node_id] = [task_info_from_proto(t) for t in response.tasks]
            for failure in response.failures:
                error = ElasticsearchError.from_wire(json.loads(failure.error_json))
                result.task_failures.append(TaskFailure(failure.task_id, failure.node_id, error))
        return result

    def _select(self, task: Task, request: pb.CancelTasksNodeRequest) -> list[Task]:
        """ES `TransportCancelTasksAction#processTasks`; selection errors fail the node's whole part."""
        parent = TaskId.parse(request.parent_task_id) if request.parent_task_id else TaskId.UNSET
        if request.target_task_id:
            target = TaskId.parse(request.target_task_id)
            found = self._task_manager.get(target.id)
            if found is None:
                raise ResourceNotFoundError(f"task [{target}] is not found")
            if not found.cancellable:
                raise IllegalArgumentError(f"task [{target}] doesn't support cancellation")
            if not task_matches(found, request.actions, parent):
                raise IllegalArgumentError(f"task [{target}] doesn't support this operation")
            return [found]
        own = TaskId.parse(request.cancel_task_id)
        return [
            t
            for t in self._task_manager.tasks()
            # The cancel request's own [n] tasks would otherwise match a filterless cancel (reference §11.2).
            if t.cancellable and t.parent_task_id != own and t is not task and task_matches(t, request.actions, parent)
        ]

    async def _node_operation(self, task: Task, request: pb.CancelTasksNodeRequest) -> pb.CancelTasksNodeResponse:
        selected = self._select(task, request)
        outcomes = await asyncio.gather(
            *(
                self._cancellation.cancel_task_and_descendants(t, request.reason, request.wait_for_completion)
                for t in selected
            ),
            return_exceptions=True,
        )
        response = pb.CancelTasksNodeResponse()
        for selected_task, outcome in zip(selected, outcomes, strict=True):
            if isinstance(outcome, ElasticsearchError):
                response.failures.append(
                    pb.TaskFailureMessage(
                        task_id=selected_task.id, node_id=selected_task.node_id, error_json=json.dumps(outcome.to_wire())
                    )
                )
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                response.tasks.append(task_info_to_proto(selected_task.info(detailed=False)))
        return response
