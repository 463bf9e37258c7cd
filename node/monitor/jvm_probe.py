"""The `jvm` section of node stats for a Python process (mirrors the shape of ES `JvmStats`).

A node has no JVM, so its memory is reported in the JVM's terms from what the kernel says about the process: the
heap is the anonymous resident memory (`RssAnon`: Python's objects live there), non-heap the resident mapped files
(`RssFile` + `RssShmem`: the interpreter and libraries), and the heap's maximum is what ES would size a heap on this
machine (half the memory, at most 31 GB). Garbage collection is Python's: generation 0 and 1 collections count as
the `young` collector, generation 2 as `old`, timed by a `gc` callback. Threads are the process's OS threads (gRPC
and executor threads included); classes are loaded modules.
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

from node.monitor.proc import now_millis, read_key_values

__all__ = ["JvmProbe", "heap_max_bytes"]

_MAX_AUTO_HEAP = 31 * 1024**3


def heap_max_bytes() -> int:
    """ES's automatic heap size: half the machine's memory, capped below the compressed-oops limit."""
    total = read_key_values("/proc/meminfo").get("MemTotal", 0)
    return min(total // 2, _MAX_AUTO_HEAP) if total else _MAX_AUTO_HEAP


class JvmProbe:
    def __init__(self, started_at_millis: int) -> None:
        self._started_at_millis = started_at_millis
        self._gc_time_ns = [0, 0]  # young, old
        self._gc_started: int | None = None
        self._peak_threads = 0
        self._modules_seen = len(sys.modules)
        gc.callbacks.append(self._on_gc)

    def close(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter_ns()
        elif self._gc_started is not None:
            self._gc_time_ns[1 if info.get("generation") == 2 else 0] += time.perf_counter_ns() - self._gc_started
            self._gc_started = None

    def stats(self) -> dict[str, Any]:
        status = read_key_values("/proc/self/status")
        heap_used = status.get("RssAnon", 0)
        non_heap = status.get("RssFile", 0) + status.get("RssShmem", 0)
        heap_max = heap_max_bytes()
        threads = status.get("Threads", 1)
        self._peak_threads = max(self._peak_threads, threads)
        modules = len(sys.modules)
        self._modules_seen = max(self._modules_seen, modules)
        generations = gc.get_stats()
        young_count = sum(g["collections"] for g in generations[:2])
        old_count = generations[2]["collections"] if len(generations) > 2 else 0
        return {
            "timestamp": now_millis(),
            "uptime_in_millis": now_millis() - self._started_at_millis,
            "mem": {
                "heap_used_in_bytes": heap_used,
                "heap_used_percent": round(100 * heap_used / heap_max) if heap_max else 0,
                "heap_committed_in_bytes": heap_used,
                "heap_max_in_bytes": heap_max,
                "non_heap_used_in_bytes": non_heap,
                "non_heap_committed_in_bytes": non_heap,
                "pools": {
                    "young": {"used_in_bytes": 0, "max_in_bytes": 0, "peak_used_in_bytes": 0, "peak_max_in_bytes": 0},
                    "old": {
                        "used_in_bytes": heap_used,
                        "max_in_bytes": heap_max,
                        "peak_used_in_bytes": status.get("VmHWM", heap_used),
                        "peak_max_in_bytes": heap_max,
                    },
                    "survivor": {
                        "used_in_bytes": 0,
                        "max_in_bytes": 0,
                        "peak_used_in_bytes": 0,
                        "peak_max_in_bytes": 0,
                    },
                },
            },
            "threads": {"count": threads, "peak_count": self._peak_threads},
            "gc": {
                "collectors": {
                    "young": {
                        "collection_count": young_count,
                        "collection_time_in_millis": self._gc_time_ns[0] // 1_000_000,
                    },
                    "old": {
                        "collection_count": old_count,
                        "collection_time_in_millis": self._gc_time_ns[1] // 1_000_000,
                    },
                }
            },
            "buffer_pools": {
                "mapped": {"count": 0, "used_in_bytes": 0, "total_capacity_in_bytes": 0},
                "direct": {"count": 0, "used_in_bytes": 0, "total_capacity_in_bytes": 0},
            },
            "classes": {
                "current_loaded_count": modules,
                "total_loaded_count": self._modules_seen,
                "total_unloaded_count": self._modules_seen - modules,
            },
        }
