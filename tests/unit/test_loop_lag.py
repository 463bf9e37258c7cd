"""The event-loop lag monitor: a held loop shows up as a late tick, and the loop thread's own work as busy time."""

from __future__ import annotations

import asyncio
import time

from node.loop_lag import LoopLagMonitor, LoopLagStats


def _hold_the_loop_for_cpu_seconds(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


def test_a_held_loop_is_seen_as_a_late_and_busy_tick() -> None:
    async def scenario() -> LoopLagStats:
        monitor = LoopLagMonitor(interval_s=0.005)
        monitor.start()
        await asyncio.sleep(0.02)
        _hold_the_loop_for_cpu_seconds(0.06)
        while monitor.stats.max_busy_ms < 60:  # noqa: ASYNC110 - the monitor's own tick has no event to wait on
            await asyncio.sleep(0.005)
        monitor.stop()
        return monitor.stats

    stats = asyncio.run(scenario())
    assert stats.max_lag_ms >= 55
    assert stats.max_busy_ms >= 60
    assert sum(stats.buckets) == stats.ticks


def test_a_reset_starts_the_counters_again() -> None:
    monitor = LoopLagMonitor()
    monitor.stats.record(120.0, 110.0)
    assert monitor.stats.to_dict(monitor.interval_s)["ticks_by_lag"]["le_250ms"] == 1
    monitor.reset()
    assert monitor.stats.to_dict(monitor.interval_s) == {
        "interval_ms": 100.0,
        "ticks": 0,
        "max_lag_ms": 0.0,
        "max_busy_ms": 0.0,
        "mean_lag_ms": 0.0,
        "ticks_by_lag": {
            "le_5ms": 0, "le_10ms": 0, "le_25ms": 0, "le_50ms": 0, "le_100ms": 0, "le_250ms": 0, "le_1000ms": 0,
            "gt_1000ms": 0,
        },
    }  # fmt: skip
