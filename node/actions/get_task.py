"""`cluster:monitor/task/get` (reference §10; mirrors ES `TransportGetTaskAction`).

The coordinating node runs the request itself when it owns the task, forwards it (same action, as a child of its
own get task) when the owner is in the cluster, and otherwise looks for a stored result, wrapping a miss in ES's
"isn't part of the cluster" error. The owner answers from its registry — a registered task is always reported as
running, even if a stale stored result exists (§20.22) — optionally waiting for it to finish, and falls back to
the stored results. Neither get task is cancellable.

Forwarding waits for the owner as long as the request's `timeout` says (ES `TransportRequestOptions.timeout`) and
relays a `receive_timeout_transport_exception` when it runs out. Without a `timeout`, ES waits until the owner
answers or fault detection removes it, and then — the owner unreachable — treats it like a node that left the
cluster (recent 9.x falls back to the stored results on a connect failure). Here the default per-node timeout
(`--node-request-timeout`, plus the 30s a `wait_for_completion` may wait on the owner) stands in for fault
detection and ends the same way: the stored result, or ES's "isn't part of the cluster" 404.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from node.actions.list_tasks import DEFAULT_WAIT_TIMEOUT
from node.actions.support.transport_action import TransportAction
from node.actions.support.wire import request_from_json, request_to_json
from node.common.action_names import GET_TASK
from node.common.time_value import TimeValue
from node.errors import (
    ActionRequestValidationError,
    ConnectTransportError,
    ElasticsearchTimeoutError,
    IndexNotFoundError,
    ReceiveTimeoutTransportError,
    ResourceNotFoundError,
)
from node.storage.task_results import TASKS_INDEX, TaskResult
from node.tasks.task import Task
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb

__all__ = [
    "GetTaskAction",
    "GetTaskRequest",
    "task_not_found",
    "task_of_departed_node",
]


@dataclass(frozen=True, slots=True)
class GetTaskRequest:
    """ES `GetTaskRequest`: the task id, whether to wait for it, and the bound of that wait and of forwarding."""

    task_id: TaskId = TaskId.UNSET
    wait_for_completion: bool = False
    timeout: TimeValue | None = None

    def validate(self) -> None:
        """Raises `Validation Failed: 1: task id is required;` for the unset id (`unset`, `x:-1`)."""
        if not self.task_id.is_set:
            raise ActionRequestValidationError("task id is required")


def task_not_found(task_id: TaskId, *, index_exists: bool) -> ResourceNotFoundError:
    """ES's miss in `.tasks`: caused by `index_not_found_exception` while the index does not exist yet."""
    cause = None if index_exists else IndexNotFoundError(TASKS_INDEX)
    return ResourceNotFoundError(f"task [{task_id}] isn't running and hasn't stored its results", cause=cause)


def task_of_departed_node(task_id: TaskId, cause: ResourceNotFoundError) -> ResourceNotFoundError:
    """The miss for a task whose node is not in the cluster; the YAML test `tasks.get/10_basic` matches it."""
    return ResourceNotFoundError(
        f"task [{task_id}] belongs to the node [{task_id.node_id}] which isn't part of the cluster "
        "and there is no record of the task",
        cause=cause,
    )


def _own_timeout(request: GetTaskRequest) -> TimeValue | None:
    """The bound the caller set on forwarding (a negative `timeout` sets none)."""
    return request.timeout if request.timeout is not None and request.timeout.millis >= 0 else None


class GetTaskAction(TransportAction[GetTaskRequest, TaskResult]):
    """Coordinates a get-task request and serves the forwarded one on the owning node."""

    name = GET_TASK

    def register(self) -> None:
        self.transport.register_action(GET_TASK, pb.GetTaskRequest, pb.GetTaskResponse, self._handle_forwarded)

    async def execute(self, task: Task, request: GetTaskRequest) -> TaskResult:
        """Runs the get on behalf of `task`, the caller's `cluster:monitor/task/get` task.

        Raises:
            ActionRequestValidationError: the task id is unset.
            ResourceNotFoundError: neither running nor stored (with ES's causes).
            ElasticsearchTimeoutError: `wait_for_completion` did not see the task finish in time.
            ElasticsearchError: the owner's error, relayed unwrapped, or a transport error reaching it.
        """
        request.validate()
        if request.task_id.node_id == self.local_node.id:
            return await self._get_on_owner(task, request)
        owner = self.cluster.state().nodes.get(request.task_id.node_id)
        if owner is not None:
            timeout = self._forward_timeout(request)
            try:
                response = await self.transport.send_request(
                    owner, GET_TASK, pb.GetTaskRequest(request_json=request_to_json(request)), parent=task,
                    timeout=timeout.seconds if timeout is not None else None,
                )  # fmt: skip
            except ConnectTransportError:
                # Recent 9.x: an owner that cannot be reached is treated like one that left the cluster.
                pass
            except ReceiveTimeoutTransportError:
                if _own_timeout(request) is not None:  # the caller's own bound: ES relays the timeout
                    raise
            else:
                return TaskResult.from_dict(json.loads(response.result_json))
        try:
            return await self._get_finished(task, request.task_id)
        except ResourceNotFoundError as e:
            raise task_of_departed_node(request.task_id, e) from None

    def _forward_timeout(self, request: GetTaskRequest) -> TimeValue | None:
        """The request's `timeout`; without one, the default per-node timeout, after the owner's 30s wait."""
        own = _own_timeout(request)
        if own is not None:
            return own
        default = self.cluster.node_request_timeout
        if default is None or not request.wait_for_completion:
            return default
        return TimeValue.of_millis(DEFAULT_WAIT_TIMEOUT.millis + default.millis)

    async def _handle_forwarded(self, task: Task, request: pb.GetTaskRequest) -> pb.GetTaskResponse:
        result = await self._get_on_owner(task, request_from_json(GetTaskRequest, request.request_json))
        return pb.GetTaskResponse(result_json=json.dumps(result.to_dict(), separators=(",", ":")))

    async def _get_on_owner(self, task: Task, request: GetTaskRequest) -> TaskResult:
        """ES `getRunningTaskFromNode`: the registry first, the stored results once the task is gone."""
        owned = request.task_id.node_id == self.local_node.id
        running = self.task_manager.get(request.task_id.id) if owned else None
        if running is None:
            return await self._get_finished(task, request.task_id)
        if not request.wait_for_completion:
            return TaskResult(completed=False, task=running.info(detailed=True))
        timeout = request.timeout or DEFAULT_WAIT_TIMEOUT
        try:
            await asyncio.wait_for(self.task_manager.wait_for_removal(running), timeout.seconds)
        except TimeoutError:
            raise ElasticsearchTimeoutError(f"timed out after [{timeout}/{timeout.millis}ms]") from None
        snapshot = running.info(detailed=True)  # taken as it finished, so `running_time_in_nanos` is its run time
        try:
            return await self._get_finished(task, request.task_id)
        except ResourceNotFoundError:
            # Nothing stored: ES answers with the finished task itself, without `response` (reference §10.2 c).
            return TaskResult(completed=True, task=snapshot)

    async def _get_finished(self, task: Task, task_id: TaskId) -> TaskResult:
        """ES `getFinishedTaskFromIndex`: the stored result, or the not-found error with ES's causes."""
        results = self.services.task_results
        stored = await results.lookup(task_id, parent=task)
        if stored is None:
            raise task_not_found(task_id, index_exists=results.index_exists())
        return stored
