"""Work of tasks that are not cancellable: a caller that goes away stops waiting, the work does not stop."""

from __future__ import annotations

import asyncio

import pytest

from node.common.background import UnstoppableWork


async def test_a_cancelled_caller_stops_waiting_and_the_work_runs_to_its_end() -> None:
    work = UnstoppableWork()
    release = asyncio.Event()
    applied = asyncio.Event()

    async def write() -> str:
        await release.wait()
        applied.set()
        return "ok"

    caller = asyncio.ensure_future(work.run(write(), name="write"))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert len(work) == 1 and not applied.is_set()
    release.set()
    await asyncio.wait_for(applied.wait(), 5)


async def test_the_outcome_reaches_a_caller_that_waited() -> None:
    work = UnstoppableWork()

    async def fail() -> None:
        raise ValueError("no")

    async def answer() -> int:
        return 7

    assert await work.run(answer(), name="answer") == 7
    with pytest.raises(ValueError):
        await work.run(fail(), name="fail")


async def test_close_stops_what_is_still_running() -> None:
    work = UnstoppableWork()
    never = asyncio.Event()
    caller = asyncio.ensure_future(work.run(never.wait(), name="forever"))
    await asyncio.sleep(0)
    await work.close()
    assert len(work) == 0
    with pytest.raises(asyncio.CancelledError):
        await caller
