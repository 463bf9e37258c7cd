"""Background asyncio work that a component owns and must stop with it.

ES runs such work on its thread pools and stops them with the node; here every component that starts work it does
not await (a reindex with `wait_for_completion=false`, the bans of a closed channel, shard recoveries, elections)
holds one `BackgroundTasks`. It keeps strong references (asyncio keeps only weak ones), logs what failed, starts
nothing once closed, and cancels and awaits everything on `close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["BackgroundTasks"]

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
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s: background work [%s] failed", self._owner, task.get_name(), exc_info=task.exception())
