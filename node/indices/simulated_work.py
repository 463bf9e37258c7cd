"""Simulated work: time that passes in steps, noticing cancellation only at its checks.

ES code checks `CancellableTask#ensureNotCancelled` between units of work, so a cancelled task is listed with
`cancelled: true` until its next check. Simulated work does the same: it sleeps at most one check interval
(`sim.task.check_interval`) at a time and checks its task before every step and once more at the end.
"""

from __future__ import annotations

import asyncio

from node.tasks.task import Task

__all__ = ["simulate"]


async def simulate(task: Task | None, seconds: float, check_interval: float) -> None:
    """Spends `seconds` of simulated work for `task`.

    Raises:
        TaskCancelledError: `task` is cancellable and was cancelled (`task cancelled [<reason>]`), noticed at a check.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(seconds, 0.0)
    step = max(check_interval, 0.001)
    while True:
        if task is not None and task.cancellable:
            task.ensure_not_cancelled()
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        await asyncio.sleep(min(step, remaining))
