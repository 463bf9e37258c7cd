"""The static sections of nodes info a monitoring probe knows: `jvm`, `thread_pool`, `aggregations` and the
indexing buffer (mirrors ES `JvmInfo`, `ThreadPoolInfo`, `AggregationInfo` and `IndexingMemoryController`).

The `jvm` section describes the Python process in the JVM's shape, with the same numbers node stats report (`heap
max` is what ES would size on this machine, `jvm_probe.heap_max_bytes`). Thread pools are ES 9's executors with
the sizes ES derives from the allocated processors (`ThreadPool` and `DefaultBuiltInExecutorBuilders`); the
indexing buffer is ES's default `indices.memory.index_buffer_size`, 10% of the heap.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from node.monitor.jvm_probe import heap_max_bytes
from node.monitor.sections import THREAD_POOLS

__all__ = ["aggregations_info", "jvm_info", "thread_pool_info", "total_indexing_buffer"]


def total_indexing_buffer() -> int:
    """ES `IndexingMemoryController`: `indices.memory.index_buffer_size` defaults to 10% of the heap."""
    return heap_max_bytes() // 10


def jvm_info(started_at_millis: int) -> dict[str, Any]:
    """ES `JvmInfo#toXContent` (without `human`): what runs the node, its memory limits, collectors and pools."""
    heap_max = heap_max_bytes()
    version = platform.python_version()
    return {
        "pid": os.getpid(),
        "version": version,
        "vm_name": platform.python_implementation(),
        "vm_version": sys.version.split()[0],
        "vm_vendor": "Python Software Foundation",
        "bundled_jdk": False,
        "using_bundled_jdk": None,
        "start_time_in_millis": started_at_millis,
        "mem": {
            "heap_init_in_bytes": heap_max,
            "heap_max_in_bytes": heap_max,
            "non_heap_init_in_bytes": 0,
            "non_heap_max_in_bytes": 0,
            "direct_max_in_bytes": 0,
        },
        "gc_collectors": ["young", "old"],
        "memory_pools": ["young", "old", "survivor"],
        "using_compressed_ordinary_object_pointers": "true",
        # ES lists the JVM's flags; a node's command line names key files, so none are listed here.
        "input_arguments": [],
    }


def _half(processors: int, limit: int) -> int:
    return max(1, min(limit, processors // 2))


def _pools(processors: int) -> dict[str, tuple[str, int, int, str | None, int]]:
    """Every executor: type, core (or size), max, keep-alive and queue size (-1: unbounded), as ES 9 sizes them."""
    search = processors * 3 // 2 + 1
    return {
        "analyze": ("fixed", 1, 1, None, 16),
        "fetch_shard_started": ("scaling", 1, 2 * processors, "5m", -1),
        "fetch_shard_store": ("scaling", 1, 2 * processors, "5m", -1),
        "flush": ("scaling", 1, _half(processors, 5), "5m", -1),
        "force_merge": ("fixed", max(1, processors // 8), max(1, processors // 8), None, -1),
        "generic": ("scaling", 4, max(128, 4 * processors), "30s", -1),
        "get": ("fixed", search, search, None, 1000),
        "management": ("scaling", 1, max(1, min(5, processors)), "5m", -1),
        "refresh": ("scaling", 1, _half(processors, 10), "5m", -1),
        "search": ("fixed", search, search, None, 1000),
        "search_coordination": ("fixed", max(1, processors // 2), max(1, processors // 2), None, 1000),
        "search_throttled": ("fixed", 1, 1, None, 100),
        "snapshot": ("scaling", 1, _half(processors, 5), "5m", -1),
        "snapshot_meta": ("scaling", 1, min(50, 3 * processors), "30s", -1),
        "system_critical_read": ("fixed", _half(processors, 5), _half(processors, 5), None, 2000),
        "system_critical_write": ("fixed", _half(processors, 5), _half(processors, 5), None, 1500),
        "system_read": ("fixed", _half(processors, 5), _half(processors, 5), None, 2000),
        "system_write": ("fixed", _half(processors, 5), _half(processors, 5), None, 1000),
        "warmer": ("scaling", 1, _half(processors, 5), "5m", -1),
        "write": ("fixed", processors, processors, None, 10000),
    }


def thread_pool_info(processors: int | None = None) -> dict[str, Any]:
    """ES `ThreadPool.Info#toXContent` for each executor: `type`, then `core`/`max` (scaling) or `size` (fixed),
    `keep_alive` when it has one, `queue_size`."""
    pools = _pools(processors or os.cpu_count() or 1)
    out: dict[str, Any] = {}
    for name in THREAD_POOLS:
        kind, core, maximum, keep_alive, queue = pools[name]
        entry: dict[str, Any] = {"type": kind}
        if kind == "scaling":
            entry["core"] = core
            entry["max"] = maximum
        else:
            entry["size"] = maximum
        if keep_alive is not None:
            entry["keep_alive"] = keep_alive
        entry["queue_size"] = queue
        out[name] = entry
    return out


_NUMERIC = ["boolean", "date", "numeric"]
_VALUES = ["boolean", "date", "ip", "keyword", "numeric"]

# ES `AggregationInfo`: each aggregation of the default modules with the value-source types it accepts.
_AGGREGATIONS: dict[str, list[str]] = {
    "adjacency_matrix": ["other"],
    "avg": _NUMERIC,
    "cardinality": [*_VALUES, "geopoint", "range"],
    "composite": ["other"],
    "date_histogram": ["boolean", "date", "numeric", "range"],
    "date_range": ["boolean", "date", "numeric"],
    "extended_stats": _NUMERIC,
    "filter": ["other"],
    "filters": ["other"],
    "global": ["other"],
    "histogram": ["boolean", "date", "numeric", "range"],
    "max": _NUMERIC,
    "min": _NUMERIC,
    "missing": [*_VALUES, "geopoint", "range"],
    "nested": ["other"],
    "percentiles": _NUMERIC,
    "range": _NUMERIC,
    "sampler": ["other"],
    "significant_terms": _VALUES,
    "stats": _NUMERIC,
    "sum": _NUMERIC,
    "terms": _VALUES,
    "top_hits": ["other"],
    "value_count": [*_VALUES, "geopoint", "range"],
}


def aggregations_info() -> dict[str, Any]:
    """ES `AggregationInfo#toXContent`: `{"<aggregation>": {"types": [...]}}`, by name."""
    return {name: {"types": sorted(types)} for name, types in sorted(_AGGREGATIONS.items())}
