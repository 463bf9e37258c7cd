"""The task registry of one node (reference §1.1; mirrors ES `TaskManager`).

`TaskManager` is the only owner of the registry. Ids start at 1 per process start and every registration consumes
one, so they are never reused while the process lives. Other components read immutable `TaskInfo` snapshots, or
follow the registry as it changes through a `TaskListener`.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from node.errors import IllegalArgumentError, TaskCancelledError
from node.tasks.task import StatusProvider, Task
from node.tasks.task_id import TaskId

__all__ = ["MAX_TASK_HEADERS_BYTES", "Ban", "ChildRequest", "TaskListener", "TaskManager"]

# ES bounds the copied task headers by `http.max_header_size` (16kb in 8.x/9.x).
MAX_TASK_HEADERS_BYTES = 16 * 1024
_MAX_HEADERS_TEXT = "16kb"


@dataclass(frozen=True, slots=True)
class Ban:
    """A ban on the children of a cancelled parent task, set by `internal:admin/tasks/ban`.

    `origin_node_id` is the node that sent it: the ban is dropped when that node leaves the cluster, as ES drops
    bans whose channel closed.
    """

    parent: TaskId
    reason: str
    origin_node_id: str


class TaskListener(Protocol):
    """Follows the registry as it changes (the points where ES's `TaskManager` calls its `Tracer`: `startTrace` on
    register, `stopTrace` on unregister). Called synchronously on the registering code path, so it must be cheap and
    must not raise."""

    def on_task_registered(self, task: Task) -> None: ...

    def on_task_cancelled(self, task: Task) -> None: ...

    def on_task_unregistered(self, task: Task, failure: BaseException | None) -> None: ...


class ChildRequest:
    """An outstanding child request, counted from `TaskManager.child_request` until the end of its `with` block (a
    class, not a generator: a node holds one for every child request it has in flight)."""

    __slots__ = ("_manager", "_parent", "_target")

    def __init__(self, manager: TaskManager, parent: Task, target_node_id: str) -> None:
        self._manager = manager
        self._parent = parent
        self._target = target_node_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._manager._child_request_done(self._parent, self._target)


class TaskManager:
    """Registers, lists and unregisters the tasks of one node."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self._ids = itertools.count(1)
        self._tasks: dict[int, Task] = {}
        self._removal_waiters: dict[int, list[asyncio.Future[None]]] = defaultdict(list)
        self._bans: dict[TaskId, Ban] = {}
        # Outstanding child requests per parent task and target node: bans go only where children are.
        self._child_requests: dict[int, dict[str, int]] = {}
        # Parents whose children are banned (ES CancellableTaskHolder#banChildren), and who waits for them to finish.
        self._children_banned: dict[int, str] = {}
        self._children_waiters: dict[int, list[asyncio.Future[None]]] = defaultdict(list)
        # Finished tasks per action: the `completed` count of node stats' thread pools.
        self.completed: Counter[str] = Counter()
        self._listeners: list[TaskListener] = []

    def add_listener(self, listener: TaskListener) -> None:
        self._listeners.append(listener)

    # ---- registration -------------------------------------------------------------------------------------

    def register(
        self,
        *,
        type: str,
        action: str,
        description: str = "",
        parent: TaskId = TaskId.UNSET,
        headers: Mapping[str, str] | None = None,
        cancellable: bool = False,
        status_provider: StatusProvider | None = None,
    ) -> Task:
        """Registers a task; mirrors ES `TaskManager#register`.

        Raises:
            IllegalArgumentError: the copied headers exceed the task-header size limit.
            TaskCancelledError: a cancellable child of a banned parent (the id is consumed all the same).
        """
        headers = dict(headers or {})
        size = sum(2 * (len(k) + len(v)) for k, v in headers.items())
        if size > MAX_TASK_HEADERS_BYTES:
            raise IllegalArgumentError(f"Request exceeded the maximum size of task headers {_MAX_HEADERS_TEXT}")
        task = Task(
            node_id=self.node_id,
            id=next(self._ids),
            type=type,
            action=action,
            description=description,
            parent_task_id=parent,
            headers=headers,
            cancellable=cancellable,
            status_provider=status_provider,
        )
        if cancellable and parent.is_set:
            ban = self._bans.get(parent)
            if ban is not None:
                raise TaskCancelledError(f"task cancelled before starting [{ban.reason}]")
        self._tasks[task.id] = task
        for listener in self._listeners:
            listener.on_task_registered(task)
        return task

    def unregister(self, task: Task, failure: BaseException | None = None) -> None:
        """Removes a task from the registry (a no-op if it already was).

        Args:
            failure: what the task failed with, for listeners. By default the exception in flight: every path that
                registers a task unregisters it in the `finally` of the block that ran it.
        """
        if self._tasks.pop(task.id, None) is None:
            return
        self.completed[task.action] += 1
        if self._listeners:
            failure = failure or sys.exc_info()[1]
            for listener in self._listeners:
                listener.on_task_unregistered(task, failure)
        # Child requests may outlive their parent (a cancelled parent fails at once); they keep being counted until
        # they complete, as ES's CancellableTaskHolder does, so bans are lifted only after the last child.
        if not self._child_requests.get(task.id):
            self._forget_children(task.id)
        for waiter in self._removal_waiters.pop(task.id, ()):
            if not waiter.done():
                waiter.set_result(None)

    @contextmanager
    def registered(self, **kwargs: object) -> Iterator[Task]:
        """Registers a task for the duration of a block and always unregisters it."""
        task = self.register(**kwargs)  # type: ignore[arg-type]
        try:
            yield task
        finally:
            self.unregister(task)

    # ---- lookups ------------------------------------------------------------------------------------------

    def get(self, task_id: int) -> Task | None:
        return self._tasks.get(task_id)

    def tasks(self) -> list[Task]:
        """Every registered task, oldest first."""
        return list(self._tasks.values())

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait_for_removal(self, task: Task) -> None:
        """Returns once the task is unregistered (at once if it already is)."""
        if task.id not in self._tasks:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._removal_waiters[task.id].append(waiter)
        try:
            await waiter
        finally:
            waiters = self._removal_waiters.get(task.id)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)

    # ---- cancellation and bans ----------------------------------------------------------------------------

    def cancel(self, task: Task, reason: str) -> bool:
        """Marks a cancellable task cancelled; returns False if it already was (a no-op, as in ES)."""
        if not task.cancellable:
            raise IllegalArgumentError(f"task [{task.task_id}] doesn't support cancellation")
        if task.cancelled:
            return False
        task.mark_cancelled(reason)
        for listener in self._listeners:
            listener.on_task_cancelled(task)
        return True

    def set_ban(self, ban: Ban) -> list[Task]:
        """Bans new children of `ban.parent` and returns the running cancellable children to cancel."""
        self._bans[ban.parent] = ban
        return [t for t in self._tasks.values() if t.cancellable and t.parent_task_id == ban.parent]

    def remove_ban(self, parent: TaskId) -> None:
        self._bans.pop(parent, None)

    def bans(self) -> list[Ban]:
        return list(self._bans.values())

    def drop_bans_from(self, node_id: str) -> None:
        """Drops the bans a departed node had set (ES: the ban's channel closed)."""
        for parent in [p for p, b in self._bans.items() if b.origin_node_id == node_id]:
            del self._bans[parent]

    # ---- outstanding child requests ----------------------------------------------------------------------

    def child_request(self, parent: Task, target_node_id: str) -> ChildRequest:
        """Counts a child request of `parent` to `target_node_id` while it is outstanding (a context manager).

        Raises:
            TaskCancelledError: the parent was cancelled, so it may not start new children (ES
                `registerChildConnection`: `parent task was cancelled [reason]`).
        """
        banned = self._children_banned.get(parent.id)
        if banned is not None:
            raise TaskCancelledError(f"parent task was cancelled [{banned}]")
        counts = self._child_requests.setdefault(parent.id, {})
        counts[target_node_id] = counts.get(target_node_id, 0) + 1
        return ChildRequest(self, parent, target_node_id)

    def _child_request_done(self, parent: Task, target_node_id: str) -> None:
        counts = self._child_requests.get(parent.id)
        if counts is None:
            return
        counts[target_node_id] -= 1
        if counts[target_node_id] == 0:
            del counts[target_node_id]
        if not counts:
            self._release_children_waiters(parent.id)
            if parent.id not in self._tasks:
                self._forget_children(parent.id)

    def nodes_with_children(self, parent: Task) -> list[str]:
        return sorted(self._child_requests.get(parent.id, {}))

    def start_ban_on_children(self, parent: Task, reason: str) -> list[str]:
        """Refuses new children of `parent` from now on; returns the nodes where children are outstanding."""
        if parent.id in self._tasks or parent.id in self._child_requests:
            self._children_banned[parent.id] = reason
        return self.nodes_with_children(parent)

    async def wait_for_children(self, parent: Task) -> None:
        """Returns once `parent` has no outstanding child requests (or is unregistered)."""
        if not self._child_requests.get(parent.id):
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._children_waiters[parent.id].append(waiter)
        await waiter

    def _forget_children(self, parent_id: int) -> None:
        self._child_requests.pop(parent_id, None)
        self._children_banned.pop(parent_id, None)
        self._release_children_waiters(parent_id)

    def _release_children_waiters(self, parent_id: int) -> None:
        for waiter in self._children_waiters.pop(parent_id, ()):
            if not waiter.done():
                waiter.set_result(None)
