"""The node-stats sections whose work a simulated node does not do, or does in its own terms, in ES's shape.

`thread_pool` maps the node's tasks onto the ES executor that would run them (`pool_of`): a pool's `active` is the
tasks of its actions running now, `completed` those finished since the process started. `breakers` take their limits
from the heap ES would size (`jvm` section) and the parent breaker's estimate is the heap in use, as ES's real-memory
parent breaker's is. `script`, `discovery`, `ingest`, `indexing_pressure` and the rest report an idle node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["THREAD_POOLS", "breakers", "idle_sections", "pool_of", "thread_pools"]

# The executors of an ES 9 node with the default modules, by name (ES `ThreadPool.Names`).
THREAD_POOLS = (
    "analyze",
    "fetch_shard_started",
    "fetch_shard_store",
    "flush",
    "force_merge",
    "generic",
    "get",
    "management",
    "refresh",
    "search",
    "search_coordination",
    "search_throttled",
    "snapshot",
    "snapshot_meta",
    "system_critical_read",
    "system_critical_write",
    "system_read",
    "system_write",
    "warmer",
    "write",
)

_POOL_PREFIXES = (
    ("indices:data/read/search[", "search"),
    ("indices:data/read/scroll", "search"),
    ("indices:data/read/get", "get"),
    ("indices:data/write/", "write"),
    ("indices:admin/refresh", "refresh"),
    ("internal:sim/tasks/store_result", "system_write"),
    ("internal:sim/tasks/get_result", "system_read"),
    ("internal:sim/tasks/", "system_write"),
    ("cluster:monitor/", "management"),
    ("indices:monitor/", "management"),
    ("internal:coordination/fault_detection/", "system_critical_read"),
    ("internal:cluster/coordination/", "system_critical_write"),
)


def pool_of(action: str) -> str:
    """The ES executor an action's handler runs on (`generic` for the rest, as ES's default)."""
    for prefix, pool in _POOL_PREFIXES:
        if action.startswith(prefix):
            return pool
    return "search_coordination" if action == "indices:data/read/search" else "generic"


def thread_pools(running_actions: Iterable[str], completed: Mapping[str, int]) -> dict[str, Any]:
    active: dict[str, int] = dict.fromkeys(THREAD_POOLS, 0)
    done: dict[str, int] = dict.fromkeys(THREAD_POOLS, 0)
    for action in running_actions:
        active[pool_of(action)] += 1
    for action, count in completed.items():
        done[pool_of(action)] += count
    return {
        name: {
            "threads": active[name],
            "queue": 0,
            "active": active[name],
            "rejected": 0,
            "largest": active[name],
            "completed": done[name],
        }
        for name in THREAD_POOLS
    }


def _byte_size(size: int) -> str:
    """ES `ByteSizeValue#toString`: the largest unit with a value of at least one, one decimal truncated, `.0`
    dropped (`307.1mb`)."""
    for unit, factor in (("pb", 1 << 50), ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if size >= factor:
            whole, tenths = divmod(size * 10 // factor, 10)
            return f"{whole}.{tenths}{unit}" if tenths else f"{whole}{unit}"
    return f"{size}b"


def _breaker(limit: int, estimated: int, overhead: float) -> dict[str, Any]:
    return {
        "limit_size_in_bytes": limit,
        "limit_size": _byte_size(limit),
        "estimated_size_in_bytes": estimated,
        "estimated_size": _byte_size(estimated),
        "overhead": overhead,
        "tripped": 0,
    }


def breakers(heap_max: int, heap_used: int) -> dict[str, Any]:
    """ES's default circuit breakers: request 60 %, fielddata 40 %, in-flight requests 100 %, parent 95 % of heap."""
    return {
        "request": _breaker(heap_max * 60 // 100, 0, 1.0),
        "fielddata": _breaker(heap_max * 40 // 100, 0, 1.03),
        "in_flight_requests": _breaker(heap_max, 0, 2.0),
        "parent": _breaker(heap_max * 95 // 100, heap_used, 1.0),
    }


def idle_sections(heap_max: int) -> dict[str, Any]:
    """`script`, `discovery`, `ingest`, `adaptive_selection`, `script_cache`, `indexing_pressure`, `repositories`."""
    pressure = {
        "combined_coordinating_and_primary_in_bytes": 0,
        "coordinating_in_bytes": 0,
        "primary_in_bytes": 0,
        "replica_in_bytes": 0,
        "all_in_bytes": 0,
    }
    return {
        "script": {"compilations": 0, "cache_evictions": 0, "compilation_limit_triggered": 0},
        "discovery": {
            "cluster_state_queue": {"total": 0, "pending": 0, "committed": 0},
            "published_cluster_states": {"full_states": 0, "incompatible_diffs": 0, "compatible_diffs": 0},
        },
        "ingest": {"total": {"count": 0, "time_in_millis": 0, "current": 0, "failed": 0}, "pipelines": {}},
        "adaptive_selection": {},
        "script_cache": {
            "sum": {"compilations": 0, "cache_evictions": 0, "compilation_limit_triggered": 0},
            "contexts": [],
        },
        "indexing_pressure": {
            "memory": {
                "current": dict(pressure),
                "total": {**pressure, "coordinating_rejections": 0, "primary_rejections": 0, "replica_rejections": 0},
                "limit_in_bytes": heap_max // 10,
            }
        },
        "repositories": {},
    }
