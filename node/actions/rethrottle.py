"""`cluster:admin/reindex/rethrottle` and its `[n]` (mirrors ES `TransportRethrottleAction`, a tasks action;
reference §14.6).

It targets one task id (its node only) or, as a leader does for its running slices, every task with a given parent
on every node. The request only ever matches reindex, update-by-query and delete-by-query tasks (ES sets their
names as its `actions`), so a target of another kind fails its node with `task [X] doesn't support this
operation`, a missing one with `task [X] is missing`. A worker changes its rate at once (a current throttle wait
that gets shorter is rescheduled); a leader with running slices divides the new rate among them through a
rethrottle of its own (a new top-level task here, as ES's node client runs it) and answers with its TaskInfo
carrying the slices' fresh statuses. The answer is a ListTasksResponse of detailed TaskInfos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from node.actions.reindex import BULK_BY_SCROLL_ACTIONS
from node.actions.support.tasks_action import BaseTasksRequest, TransportTasksAction
from node.common.action_names import RETHROTTLE
from node.data.bulk_by_scroll import UNLIMITED, BulkByScrollStatus, LeaderState, WorkerState, f32, java_float
from node.errors import ElasticsearchError
from node.tasks.task import Task, TaskInfo

__all__ = ["RethrottleAction", "RethrottleRequest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RethrottleRequest(BaseTasksRequest):
    """ES `RethrottleRequest`: the new rate; it matches bulk-by-scroll tasks only."""

    requests_per_second: float = UNLIMITED
    actions: tuple[str, ...] = tuple(BULK_BY_SCROLL_ACTIONS)


class RethrottleAction(TransportTasksAction[RethrottleRequest]):
    name = RETHROTTLE
    request_type = RethrottleRequest
    cancellable = False

    async def task_operation(self, node_task: Task, request: RethrottleRequest, task: Task) -> TaskInfo:
        rps = request.requests_per_second
        rps = rps if math.isinf(rps) else java_float(rps)
        state = self.services.bulk_by_scroll.rethrottle_target(task)
        if isinstance(state, WorkerState):
            state.rethrottle(rps)
            return task.info(detailed=True)
        assert isinstance(state, LeaderState)
        running = state.running()
        if running == 0:
            return task.info(detailed=True)
        per_slice = rps if math.isinf(rps) else java_float(f32(rps) / running)
        slices = RethrottleRequest(parent_task_id=task.task_id, requests_per_second=per_slice)
        result = await self.client.execute(RethrottleAction, slices, headers=task.headers)
        if result.node_failures or result.task_failures:  # ES `rethrowFailures("Rethrottle")`
            failure = result.node_failures[0] if result.node_failures else result.task_failures[0].error
            raise ElasticsearchError("Rethrottle failed", cause=failure)
        fresh = {}
        for info in result.all_tasks():
            status = BulkByScrollStatus.from_dict(info.status or {})
            if status.slice_id is not None:
                fresh[status.slice_id] = status
        return self.services.bulk_by_scroll.leader_info(task, fresh)
