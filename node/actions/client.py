"""The way in to every action of a node (mirrors ES `NodeClient`).

`execute` registers the action's task — a top-level task with the caller's headers (a REST request), or a child
of a local parent task (a reindex worker's searches and bulks, the `[s]` of a write) — runs the action in it and
unregisters it, whatever happens. `start` does the same in the background and stores the result in `.tasks`
(ES `TaskResultStoringActionListener`), for `wait_for_completion=false`.

A task that is not cancellable (a write, its `[s]`, a get-task) runs to its end even when its caller stops waiting
(an HTTP client hangs up and aiohttp cancels the handler): ES never interrupts such a task, so a bulk is never left
applied on a primary and missing on its replicas. The caller gets `CancelledError` at once; the answer is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from node.actions.support.transport_action import Request, Response, TransportAction
from node.common.background import BackgroundTasks, UnstoppableWork
from node.errors import ElasticsearchError
from node.storage.task_results import TaskResult
from node.tasks.cancellation import TaskCancellationService
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskType

if TYPE_CHECKING:
    from node.actions.task_results import TaskResultsService

__all__ = ["NodeClient"]

log = logging.getLogger(__name__)

A = TypeVar("A", bound=TransportAction[Any, Any])


class NodeClient:
    """Runs the actions registered on this node, each in a task of its own."""

    def __init__(self, task_manager: TaskManager, cancellation: TaskCancellationService) -> None:
        self._task_manager = task_manager
        self._cancellation = cancellation
        self._task_results: TaskResultsService | None = None
        self._actions: dict[type[TransportAction[Any, Any]], TransportAction[Any, Any]] = {}
        self._background = BackgroundTasks("node client", log)
        self._unstoppable = UnstoppableWork()

    def store_results_with(self, task_results: TaskResultsService) -> None:
        """Where `start` stores results (ES `TaskManager#setTaskResultsService`: the service writes through this
        client, so it is built after it)."""
        self._task_results = task_results

    def register(self, action: TransportAction[Any, Any]) -> None:
        if type(action) in self._actions:
            raise ValueError(f"action [{action.name}] is already registered")
        self._actions[type(action)] = action

    def action(self, action_type: type[A]) -> A:
        """The registered instance of `action_type` (for what an action exposes beyond `execute`)."""
        return self._actions[action_type]  # type: ignore[return-value]

    def actions(self) -> list[TransportAction[Any, Any]]:
        return list(self._actions.values())

    async def execute(
        self,
        action_type: type[TransportAction[Request, Response]],
        request: Request,
        *,
        parent: Task | None = None,
        headers: Mapping[str, str] | None = None,
        track_as_child: bool = True,
        cancel_reason_on_exit: str | None = None,
    ) -> Response:
        """Runs `request` in a new task and returns the action's response.

        Args:
            parent: the local task this one is a child of (its headers are copied); a cancelled parent's new
                cancellable children are refused. `track_as_child=False` registers the child without counting it as
                an outstanding child request, for clean-up work that must run after the parent was cancelled.
            headers: the task headers of a top-level task (a REST request's `X-Opaque-Id`, trace id, ...).
            cancel_reason_on_exit: when set, a caller that goes away (its coroutine cancelled, as aiohttp does when
                the HTTP client hangs up) cancels the task and, through bans, its descendants — ES's
                `RestCancellableNodeClient`. Tasks that are not cancellable run on.

        Raises:
            ElasticsearchError: the action's failure, or `TaskCancelledError` when the parent refuses children.
        """
        action = self._actions[action_type]
        if not action.is_cancellable(request):
            # ES interrupts only a `CancellableTask` when its caller goes away: this one runs on, registered until
            # its work is done, and the caller's cancellation stops only the caller's wait.
            async def run_to_the_end() -> Response:
                with self._registered(action, request, parent, headers, track_as_child) as task:
                    return await action.execute(task, request)

            return await self._unstoppable.run(run_to_the_end(), name=action.name)
        with self._registered(action, request, parent, headers, track_as_child) as task:
            try:
                return await action.execute(task, request)
            except asyncio.CancelledError:
                if cancel_reason_on_exit is not None:
                    self._cancellation.cancel_in_background(task, cancel_reason_on_exit)
                raise

    def start(
        self,
        action_type: type[TransportAction[Request, Response]],
        request: Request,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Task:
        """Registers the task and runs it in the background; its result is stored before it is unregistered.

        Raises:
            ElasticsearchError: the task could not be registered (oversized headers).
        """
        action = self._actions[action_type]
        task = self._task_manager.register(
            type=TaskType.TRANSPORT,
            action=action.name,
            description=action.describe(request),
            headers=headers,
            cancellable=action.is_cancellable(request),
        )
        self._background.spawn(self._run_and_store(action, task, request), name=f"{action.name}[{task.id}]")
        return task

    async def close(self) -> None:
        """Cancels the background runs, then stops every action's own background work."""
        await self._background.close()
        await self._unstoppable.close()
        for action in self._actions.values():
            await action.close()

    @contextmanager
    def _registered(
        self,
        action: TransportAction[Any, Any],
        request: Any,
        parent: Task | None,
        headers: Mapping[str, str] | None,
        track_as_child: bool,
    ) -> Iterator[Task]:
        fields: dict[str, Any] = {
            "type": TaskType.TRANSPORT,
            "action": action.name,
            "description": action.describe(request),
            "cancellable": action.is_cancellable(request),
        }
        if parent is None:
            with self._task_manager.registered(headers=headers, **fields) as task:
                yield task
            return
        fields.update(parent=parent.task_id, headers=parent.headers)
        if not track_as_child:
            with self._task_manager.registered(**fields) as task:
                yield task
            return
        with (
            self._task_manager.child_request(parent, self._task_manager.node_id),
            self._task_manager.registered(**fields) as task,
        ):
            yield task

    async def _run_and_store(self, action: TransportAction[Any, Any], task: Task, request: Any) -> None:
        failure: BaseException | None = None
        try:
            try:
                response = await action.execute(task, request)
                result = TaskResult.of_response(task.info(detailed=True), action.response_document(response))
            except ElasticsearchError as e:
                failure = e
                result = TaskResult.of_error(task.info(detailed=True), e)
            except Exception as e:  # a bug: stored as ES stores any failure, and logged with its traceback
                failure = e
                log.exception("task [%s] of [%s] failed", task.task_id, action.name)
                result = TaskResult.of_error(task.info(detailed=True), ElasticsearchError(f"{type(e).__name__}: {e}"))
            try:
                if self._task_results is None:
                    raise ElasticsearchError("no task results service to store the result with")
                await self._task_results.store_result(result)
            except ElasticsearchError as e:  # ES only logs a failed store of a wait_for_completion=false task
                log.warning("failed to store the result of task [%s]: %s", task.task_id, e)
        finally:
            self._task_manager.unregister(task, failure)
