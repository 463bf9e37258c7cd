"""`cluster:monitor/tasks/lists` and its `[n]` (reference §6, §9; mirrors ES `TransportListTasksAction`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from node.actions.support.tasks_action import BaseTasksRequest, TransportTasksAction
from node.common.action_names import LIST_TASKS
from node.common.time_value import TimeValue
from node.errors import ElasticsearchError, ElasticsearchTimeoutError, TaskCancelledError
from node.tasks.task import Task

__all__ = ["DEFAULT_WAIT_TIMEOUT", "ListTasksAction", "ListTasksRequest"]

DEFAULT_WAIT_TIMEOUT = TimeValue(30, "s")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListTasksRequest(BaseTasksRequest):
    detailed: bool = False
    wait_for_completion: bool = False


class ListTasksAction(TransportTasksAction[ListTasksRequest]):
    """Lists the matching tasks of every selected node; with `wait_for_completion`, once they are gone."""

    name = LIST_TASKS
    request_type = ListTasksRequest

    async def process_tasks(self, node_task: Task, request: ListTasksRequest) -> list[Task]:
        matched = await super().process_tasks(node_task, request)
        if request.wait_for_completion:
            await self._wait_for(node_task, matched, request)
        return matched

    def node_timeout(self, request: ListTasksRequest) -> TimeValue | None:
        """A waiting list without a `timeout` lets each node wait its 30s and answer within the default on top."""
        default = super().node_timeout(request)
        if not request.wait_for_completion or request.timeout is not None or default is None:
            return default
        return TimeValue.of_millis(DEFAULT_WAIT_TIMEOUT.millis + default.millis)

    async def task_operations(
        self, node_task: Task, request: ListTasksRequest, tasks: list[Task]
    ) -> list[dict[str, Any] | ElasticsearchError]:
        """Every task's info at once (ES `TransportListTasksAction#taskOperation` answers synchronously)."""
        detailed = request.detailed
        return [task.info_dict(detailed=detailed) for task in tasks]

    async def _wait_for(self, node_task: Task, matched: list[Task], request: ListTasksRequest) -> None:
        """Waits until every matched task except list requests is gone (reference §9.4, 8.9+ semantics)."""
        waiting = [t for t in matched if not t.action.startswith(LIST_TASKS)]
        if not waiting:
            return
        millis = request.timeout.millis if request.timeout is not None else -1
        millis = millis if millis >= 0 else DEFAULT_WAIT_TIMEOUT.millis
        text = str(request.timeout) if request.timeout is not None else str(DEFAULT_WAIT_TIMEOUT)
        removals: asyncio.Future[list[None]] = asyncio.gather(*(self.task_manager.wait_for_removal(t) for t in waiting))
        cancelled = node_task.cancellation()
        try:
            waits: set[asyncio.Future[Any]] = {removals, cancelled}
            done, _ = await asyncio.wait(waits, timeout=millis / 1000, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if not removals.done():
                removals.cancel()  # a cancelled gather ends with a CancelledError that nobody would retrieve
                removals.add_done_callback(_retrieved)
        if removals in done:
            return
        if cancelled in done:
            raise TaskCancelledError("task cancelled")
        raise ElasticsearchTimeoutError(f"timed out after [{text}/{millis}ms]")


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Marks the outcome of a future nobody awaits as seen, so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()
