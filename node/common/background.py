"""Background asyncio work that a component owns and must stop with it.

ES runs such work on its thread pools and stops them with the node; here every component that starts work it does
not await (a reindex with `wait_for_completion=false`, the bans of a closed channel, shard recoveries, elections)
holds one `BackgroundTasks`. It keeps strong references (asyncio keeps only weak ones), logs what failed, starts
nothing once closed, and cancels and awaits everything on `close`.

`UnstoppableWork` is for work a caller awaits but must not interrupt by going away: the work of a task that is not
cancellable (ES never interrupts one when its caller's channel closes). The caller's cancellation reaches the caller
only; the work runs on, and only its owner's `close` stops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["BackgroundTasks", "UnstoppableWork"]

T = TypeVar("T")


class BackgroundTasks:
    """A supervised set of asyncio tasks.

    Args:
        owner: names the owner in the log line of a failed task (`coordination`, `reindex`, ...).
        logger: where failures are logged; the owner's module logger, so the log says who failed.
    """

    def __init__(self, owner: str, logger: logging.Logger) -> None:
        self._owner = owner
        self._log = logger
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Starts `coro` in the background; once closed, the returned task is already cancelled."""
        task = asyncio.ensure_future(coro)
        if name is not None:
            task.set_name(name)
        if self._closed:  # stopping: start nothing new (the coroutine is closed by the cancellation)
            task.cancel()
            return task
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def join(self) -> None:
        """Waits until every task running now, and any it starts meanwhile, has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancels every running task and waits until all of them have ended."""
        self._closed = True
        await _cancel_all(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s: background work [%s] failed", self._owner, task.get_name(), exc_info=task.exception())


class UnstoppableWork:
    """Work awaited by callers that may go away before it ends, shielded from their cancellation."""

    def __init__(self) -> None:
        self._runs: set[asyncio.Task[Any]] = set()

    async def run(self, coro: Coroutine[Any, Any, T], name: str) -> T:
        """Runs `coro` to its end and returns its outcome; a cancelled caller stops waiting, `coro` does not stop.

        Raises:
            asyncio.CancelledError: the caller was cancelled (the work goes on), or `close` stopped the work.
        """
        work = asyncio.ensure_future(coro)
        work.set_name(name)
        self._runs.add(work)
        work.add_done_callback(self._done)
        return await asyncio.shield(work)

    async def close(self) -> None:
        """Cancels the work still running and waits until it has ended."""
        await _cancel_all(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def _done(self, work: asyncio.Task[Any]) -> None:
        self._runs.discard(work)
        if not work.cancelled():
            work.exception()  # retrieved: a caller that went away leaves the outcome to nobody


async def _cancel_all(tasks: set[asyncio.Task[Any]]) -> None:
    pending = list(tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
