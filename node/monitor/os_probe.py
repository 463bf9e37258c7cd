"""The `os` section of node stats (mirrors ES `OsProbe` / `OsStats`): CPU, load, memory and swap of the machine."""

from __future__ import annotations

import os
from typing import Any

from node.monitor.proc import now_millis, read_key_values, read_text

__all__ = ["OsProbe"]


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from the first line of `/proc/stat`."""
    fields = read_text("/proc/stat").split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields if v.isdigit()]
    if len(values) < 4:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole > 0 else 0


class OsProbe:
    """CPU percent is the machine's load since the previous call (since boot on the first), as ES's
    `OperatingSystemMXBean#getCpuLoad` is "recent" load; memory comes from `/proc/meminfo`, free being MemAvailable
    as in ES 8+."""

    def __init__(self) -> None:
        self._last_cpu = _cpu_times()

    def cpu_percent(self) -> int:
        busy, total = _cpu_times()
        last_busy, last_total = self._last_cpu
        self._last_cpu = (busy, total)
        if total - last_total <= 0:
            return _percent(busy, total)
        return _percent(busy - last_busy, total - last_total)

    @staticmethod
    def memory() -> dict[str, int]:
        info = read_key_values("/proc/meminfo")
        total = info.get("MemTotal", 0)
        free = info.get("MemAvailable", info.get("MemFree", 0))
        return {
            "total_in_bytes": total,
            "adjusted_total_in_bytes": total,
            "free_in_bytes": free,
            "used_in_bytes": total - free,
            "free_percent": _percent(free, total),
            "used_percent": _percent(total - free, total),
        }

    def stats(self) -> dict[str, Any]:
        try:
            one, five, fifteen = os.getloadavg()
        except OSError:
            one = five = fifteen = 0.0
        info = read_key_values("/proc/meminfo")
        swap_total = info.get("SwapTotal", 0)
        swap_free = info.get("SwapFree", 0)
        return {
            "timestamp": now_millis(),
            "cpu": {
                "percent": self.cpu_percent(),
                "load_average": {"1m": round(one, 2), "5m": round(five, 2), "15m": round(fifteen, 2)},
            },
            "mem": self.memory(),
            "swap": {"total_in_bytes": swap_total, "free_in_bytes": swap_free, "used_in_bytes": swap_total - swap_free},
        }
