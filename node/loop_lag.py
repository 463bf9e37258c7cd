"""How long the node's event loop was held: a periodic callback measures how late it runs (DESIGN §1).

Everything a node does runs on one event loop, so a request that computes for 200 ms delays every other request,
every gRPC call and every fault-detection check by as much (a long enough stall gets the node removed from the
cluster). A callback scheduled every `interval` seconds cannot run while the loop is held, so its lateness is the
length of the stall it waited behind. On a busy machine the lateness also counts time the process was not
scheduled at all; the CPU time the loop's thread spent between two callbacks (`max_busy_ms`) counts only the node's
own work, so it tells a stall the node caused from one it suffered. The cost is one small callback per interval,
and a loop iteration to run it: every 100 ms, because at every 10 ms those wake-ups alone were 0.7 % of a core per
idle node (70 % for a 100-node cluster). A stall of 100 ms or more is always measured whole; a shorter one only
when it holds the loop over a tick's due time.

`GET /_sim/loop_lag` reports the counters; `POST /_sim/loop_lag/_reset` starts them again, so a benchmark can
measure one phase at a time.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STALL_BUCKETS_MS", "LoopLagMonitor", "LoopLagStats"]

log = logging.getLogger(__name__)

STALL_BUCKETS_MS: tuple[int, ...] = (5, 10, 25, 50, 100, 250, 1000)  # upper bounds of the lateness histogram
_WARN_MS = 250


@dataclass(slots=True)
class LoopLagStats:
    """Counters since the last reset: ticks, the worst lateness, and a histogram of lateness per tick."""

    ticks: int = 0
    max_lag_ms: float = 0.0
    max_busy_ms: float = 0.0
    total_lag_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(STALL_BUCKETS_MS) + 1))

    def record(self, lag_ms: float, busy_ms: float) -> None:
        self.ticks += 1
        self.total_lag_ms += lag_ms
        self.max_lag_ms = max(self.max_lag_ms, lag_ms)
        self.max_busy_ms = max(self.max_busy_ms, busy_ms)
        self.buckets[bisect.bisect_left(STALL_BUCKETS_MS, lag_ms)] += 1

    def to_dict(self, interval_s: float) -> dict[str, Any]:
        labels = [f"le_{bound}ms" for bound in STALL_BUCKETS_MS] + [f"gt_{STALL_BUCKETS_MS[-1]}ms"]
        return {
            "interval_ms": round(interval_s * 1000, 3),
            "ticks": self.ticks,
            "max_lag_ms": round(self.max_lag_ms, 3),
            "max_busy_ms": round(self.max_busy_ms, 3),
            "mean_lag_ms": round(self.total_lag_ms / self.ticks, 3) if self.ticks else 0.0,
            "ticks_by_lag": dict(zip(labels, self.buckets, strict=True)),
        }


class LoopLagMonitor:
    """Measures the lateness of a callback the running loop schedules every `interval_s` seconds."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.stats = LoopLagStats()
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._due = 0.0
        self._cpu = 0.0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._cpu = time.thread_time()
        self._due = self._loop.time() + self.interval_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def reset(self) -> None:
        self.stats = LoopLagStats()

    def _tick(self) -> None:
        assert self._loop is not None
        now, cpu = self._loop.time(), time.thread_time()
        lag_ms = max(0.0, now - self._due) * 1000
        busy_ms = (cpu - self._cpu) * 1000
        self.stats.record(lag_ms, busy_ms)
        self._cpu = cpu
        if lag_ms >= _WARN_MS:  # a paused or starved process shows little busy time, a stall it caused much
            log.warning("the event loop was held for %.0fms, %.0fms of it busy with this node's work", lag_ms, busy_ms)
        self._due = now + self.interval_s
        self._handle = self._loop.call_at(self._due, self._tick)
