"""`cluster:admin/tasks/cancel` and its `[n]` (reference §11; mirrors ES `TransportCancelTasksAction`)."""

from __future__ import annotations

from dataclasses import dataclass

from node.actions.support.tasks_action import BaseTasksRequest, TransportTasksAction
from node.common.action_names import CANCEL_TASKS
from node.common.time_value import TimeValue
from node.errors import ActionRequestValidationError, ElasticsearchError, IllegalArgumentError, ResourceNotFoundError
from node.tasks.task import Task, TaskInfo
from node.tasks.task_id import TaskId

__all__ = ["BY_USER_REQUEST", "CancelTasksAction", "CancelTasksRequest"]

BY_USER_REQUEST = "by user request"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTasksRequest(BaseTasksRequest):
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


class CancelTasksAction(TransportTasksAction[CancelTasksRequest]):
    """Cancels the selected cancellable tasks and, through bans, their descendants on every node."""

    name = CANCEL_TASKS
    request_type = CancelTasksRequest
    cancellable = False

    async def process_tasks(self, node_task: Task, request: CancelTasksRequest) -> list[Task]:
        """ES `TransportCancelTasksAction#processTasks`; selection errors fail the node's whole part."""
        if request.target_task_id.is_set:
            target = request.target_task_id
            found = self.task_manager.get(target.id)
            if found is None:
                raise self.missing_task(target)
            if not found.cancellable:
                raise IllegalArgumentError(f"task [{target}] doesn't support cancellation")
            if not request.match(found):
                raise IllegalArgumentError(f"task [{target}] doesn't support this operation")
            return [found]
        return [
            t
            for t in self.task_manager.tasks()
            # The cancel request's own [n] tasks would otherwise match a filterless cancel (reference §11.2).
            if t.cancellable
            and t is not node_task
            and t.parent_task_id != node_task.parent_task_id
            and request.match(t)
        ]

    def node_timeout(self, request: CancelTasksRequest) -> TimeValue | None:
        """With `wait_for_completion` and no `timeout`, each node waits for its cancelled tasks however long they
        take to notice, as in ES; otherwise the default per-node timeout applies."""
        if request.wait_for_completion and request.timeout is None:
            return None
        return super().node_timeout(request)

    def missing_task(self, task_id: TaskId) -> ElasticsearchError:
        return ResourceNotFoundError(f"task [{task_id}] is not found")

    async def task_operation(self, node_task: Task, request: CancelTasksRequest, task: Task) -> TaskInfo:
        await self.services.cancellation.cancel_task_and_descendants(task, BY_USER_REQUEST, request.wait_for_completion)
        return task.info(detailed=False)
