"""Cancelling a task and its descendants on every node (reference §11.3, §12; mirrors ES TaskCancellationService).

Cancelling marks the task, refuses its new children, and bans its children on every node where it has outstanding
child requests (`internal:admin/tasks/ban`, acknowledged). A node receiving a ban cancels the banned parent's
children the same way, recursively, so grandchildren on a third node are reached too. Once all child requests of
the task have completed, the bans are lifted again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from node.cluster.service import ClusterService
from node.common.action_names import BAN_PARENT
from node.common.background import BackgroundTasks
from node.errors import ElasticsearchError, IllegalArgumentError
from node.tasks.manager import Ban
from node.tasks.task import Task
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["CHANNEL_CLOSED", "TaskCancellationService"]

log = logging.getLogger(__name__)

CHANNEL_CLOSED = "channel was closed"
_BAN_TIMEOUT_S = 30.0


class TaskCancellationService:
    def __init__(self, transport: TransportService, cluster: ClusterService) -> None:
        self._task_manager = transport.task_manager
        self._transport = transport
        self._cluster = cluster
        self._background = BackgroundTasks("task cancellation", log)
        transport.register_action(BAN_PARENT, pb.BanParentRequest, pb.BanParentResponse, self._handle_ban)

    async def cancel_task_and_descendants(self, task: Task, reason: str, wait_for_completion: bool) -> None:
        """Cancels `task` here and bans its children wherever they run.

        Returns once the bans are acknowledged; with `wait_for_completion`, also once the task and all its child
        requests have finished (no upper bound, as in ES).

        Raises:
            IllegalArgumentError: the task is not cancellable.
            ElasticsearchError: a ban could not be delivered (the task is cancelled locally all the same).
        """
        if not task.cancellable:
            raise IllegalArgumentError(f"task [{task.task_id}] doesn't support cancellation")
        child_nodes, completed = self._begin(task, reason)
        await self._set_bans(task, child_nodes, reason, wait_for_completion)
        if wait_for_completion:
            await asyncio.shield(completed)

    def cancel_in_background(self, task: Task, reason: str) -> None:
        """Cancels now and bans children in the background, for callers that cannot wait (a closed channel, a
        departed node). The ban targets are taken now, before the caller goes on to unregister the task."""
        if task.cancellable and not task.cancelled:
            child_nodes, _ = self._begin(task, reason)
            self._spawn(self._set_bans_quietly(task, child_nodes, reason))

    def _begin(self, task: Task, reason: str) -> tuple[list[str], asyncio.Future[None]]:
        """Mirrors the synchronous part of ES `cancelTaskAndDescendants`: ban children, mark the task, and arrange
        for the bans to be lifted once the task and all its child requests have completed."""
        tm = self._task_manager
        child_nodes = tm.start_ban_on_children(task, reason)
        tm.cancel(task, reason)
        completed = self._spawn(self._completion(task))
        completed.add_done_callback(
            lambda done: None if done.cancelled() else self._spawn(self._remove_bans(task.task_id, child_nodes))
        )
        return child_nodes, completed

    def cancel_children_of_departed(self, node_id: str) -> None:
        """ES cancels tasks received over a channel that closed; here: children of tasks on a departed node."""
        for task in self._task_manager.tasks():
            if task.cancellable and task.parent_task_id.is_set and task.parent_task_id.node_id == node_id:
                self.cancel_in_background(task, CHANNEL_CLOSED)

    async def stop(self) -> None:
        await self._background.close()

    async def _completion(self, task: Task) -> None:
        await asyncio.gather(self._task_manager.wait_for_removal(task), self._task_manager.wait_for_children(task))

    async def _set_bans(self, task: Task, node_ids: list[str], reason: str, wait_for_completion: bool) -> None:
        request = pb.BanParentRequest(
            parent_task_id=str(task.task_id), ban=True, reason=reason, wait_for_completion=wait_for_completion
        )
        await self._send_to_nodes(node_ids, request, timeout=None if wait_for_completion else _BAN_TIMEOUT_S)

    async def _remove_bans(self, parent: TaskId, node_ids: list[str]) -> None:
        request = pb.BanParentRequest(parent_task_id=str(parent), ban=False)
        try:
            await self._send_to_nodes(node_ids, request, timeout=_BAN_TIMEOUT_S)
        except ElasticsearchError as e:  # ES only logs failed unbans: a departed node drops the ban anyway
            log.debug("failed to remove the ban on children of [%s]: %s", parent, e)

    async def _send_to_nodes(self, node_ids: list[str], request: pb.BanParentRequest, timeout: float | None) -> None:
        state = self._cluster.state()
        targets = [state.nodes[n] for n in node_ids if n in state.nodes]
        results = await asyncio.gather(
            *(self._transport.send_request(n, BAN_PARENT, request, timeout=timeout) for n in targets),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _handle_ban(self, task: Task, request: pb.BanParentRequest) -> pb.BanParentResponse:
        """A node receiving a ban cancels the banned parent's children here, each with its own descendants."""
        parent = TaskId.parse(request.parent_task_id)
        if not request.ban:
            self._task_manager.remove_ban(parent)
            return pb.BanParentResponse()
        origin = parent.node_id
        children = self._task_manager.set_ban(Ban(parent, request.reason, origin))
        await asyncio.gather(
            *(self.cancel_task_and_descendants(c, request.reason, request.wait_for_completion) for c in children)
        )
        return pb.BanParentResponse()

    async def _set_bans_quietly(self, task: Task, child_nodes: list[str], reason: str) -> None:
        try:
            await self._set_bans(task, child_nodes, reason, wait_for_completion=False)
        except ElasticsearchError as e:
            log.debug("failed to ban the children of [%s]: %s", task.task_id, e)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return self._background.spawn(coro)
