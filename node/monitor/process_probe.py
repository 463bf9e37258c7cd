"""The `process` section of node stats (mirrors ES `ProcessProbe` / `ProcessStats`): this node's own process."""

from __future__ import annotations

import os
import resource
import time
from typing import Any

from node.monitor.proc import now_millis, read_key_values

__all__ = ["ProcessProbe"]


def open_file_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def max_file_descriptors() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else -1


class ProcessProbe:
    """CPU percent is the process's share of one CPU since the previous call (ES `getProcessCpuLoad`, scaled as ES
    scales it: 100 = every allocated processor busy)."""

    def __init__(self) -> None:
        self._last = (time.process_time_ns(), time.monotonic_ns())

    def cpu_percent(self) -> int:
        cpu, wall = time.process_time_ns(), time.monotonic_ns()
        last_cpu, last_wall = self._last
        self._last = (cpu, wall)
        elapsed = (wall - last_wall) * (os.cpu_count() or 1)
        return min(100, round(100 * (cpu - last_cpu) / elapsed)) if elapsed > 0 else 0

    def stats(self) -> dict[str, Any]:
        status = read_key_values("/proc/self/status")
        return {
            "timestamp": now_millis(),
            "open_file_descriptors": open_file_descriptors(),
            "max_file_descriptors": max_file_descriptors(),
            "cpu": {"percent": self.cpu_percent(), "total_in_millis": time.process_time_ns() // 1_000_000},
            "mem": {"total_virtual_in_bytes": status.get("VmSize", 0)},
        }
