"""What the shard copies of a node have done, and the stats sections ES renders from it (mirrors ES `CommonStats`:
`IndexingStats`, `GetStats`, `SearchStats`, ... per `IndexShard`).

`ShardOperationStats` is counted where the operations really run on this node: writes in `LocalShards` (primary and
replica alike, as ES's `InternalIndexingStats` counts every non-recovery origin), gets in `LocalShards`, the query
and fetch phases in `SearchService`. Counters live in memory and start at zero with the process, as ES's do.
Sizes are simulated (`simulated_size`: a fixed size per document, not its source's), and the sections simcluster has no
work for (merges, segments, caches, translog, ...) carry ES's fields with the values of an idle shard.

`common_stats` renders one copy in ES field order; `add_stats` sums such dicts into the `primaries` / `total` of an
index, of `_all`, or of a node.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "INDEX_METRICS",
    "ShardCounters",
    "ShardOperationStats",
    "add_stats",
    "common_stats",
    "empty_common_stats",
    "simulated_size",
]

ShardKey = tuple[str, int]  # (index uuid, shard id)

_BYTES_PER_DOC = 256
_EMPTY_SHARD_BYTES = 225
_EMPTY_TRANSLOG_BYTES = 55

# ES `CommonStatsFlags.Flag` REST names, in `CommonStats#toXContent` order, with the section each one renders.
# `merge` renders `merges` and `shard_stats` is the shard count; `mappings` exists on node stats only.
INDEX_METRICS: Mapping[str, str] = {
    "docs": "docs",
    "shard_stats": "shard_stats",
    "store": "store",
    "indexing": "indexing",
    "get": "get",
    "search": "search",
    "merge": "merges",
    "refresh": "refresh",
    "flush": "flush",
    "warmer": "warmer",
    "query_cache": "query_cache",
    "fielddata": "fielddata",
    "completion": "completion",
    "segments": "segments",
    "translog": "translog",
    "request_cache": "request_cache",
    "recovery": "recovery",
    "bulk": "bulk",
    "mappings": "mappings",
    "dense_vector": "dense_vector",
    "sparse_vector": "sparse_vector",
}

# Summing the stats of several copies: these take the largest value instead (ES `SegmentsStats#add` and friends).
_MAX_FIELDS = frozenset({"max_unsafe_auto_id_timestamp", "earliest_last_modified_age", "peak_write_load"})


def simulated_size(docs: int) -> int:
    """The store size of a copy holding `docs` documents: 256 bytes each, plus what an empty ES shard reports."""
    return _EMPTY_SHARD_BYTES + _BYTES_PER_DOC * docs


@dataclass(slots=True)
class ShardCounters:
    """One copy's operation counters; times in nanoseconds."""

    index_total: int = 0
    index_time: int = 0
    index_current: int = 0
    index_failed: int = 0
    delete_total: int = 0
    delete_time: int = 0
    delete_current: int = 0
    noop_update_total: int = 0
    get_total: int = 0
    get_time: int = 0
    get_exists_total: int = 0
    get_exists_time: int = 0
    get_missing_total: int = 0
    get_missing_time: int = 0
    get_current: int = 0
    query_total: int = 0
    query_time: int = 0
    query_current: int = 0
    fetch_total: int = 0
    fetch_time: int = 0
    fetch_current: int = 0
    bulk_operations: int = 0
    bulk_time: int = 0

    def to_json(self) -> list[int]:
        return [getattr(self, f.name) for f in fields(self)]

    @classmethod
    def from_json(cls, values: list[int]) -> ShardCounters:
        return cls(*values)


class ShardOperationStats:
    """The counters of every shard copy this node has served (ES `IndexShard`'s stats listeners)."""

    def __init__(self) -> None:
        self._shards: dict[ShardKey, ShardCounters] = {}

    def of(self, key: ShardKey) -> ShardCounters:
        counters = self._shards.get(key)
        if counters is None:
            counters = self._shards[key] = ShardCounters()
        return counters

    def get(self, key: ShardKey) -> ShardCounters:
        """The counters of a copy, zero for one that has done nothing yet (without remembering it)."""
        return self._shards.get(key) or ShardCounters()

    def forget_all_but(self, keep_uuids: set[str]) -> None:
        """Drops the counters of deleted indices (ES closes their `IndexShard`s, and their stats with them)."""
        for key in [k for k in self._shards if k[0] not in keep_uuids]:
            del self._shards[key]

    def on_write(self, key: ShardKey, indexed: int, deleted: int, failed: int, noops: int, elapsed_ns: int) -> None:
        """A primary or replica batch: `indexed`/`deleted` documents, split the batch's time between them."""
        counters = self.of(key)
        done = indexed + deleted
        counters.index_total += indexed
        counters.delete_total += deleted
        counters.index_failed += failed
        counters.noop_update_total += noops
        if done:
            counters.index_time += elapsed_ns * indexed // done
            counters.delete_time += elapsed_ns * deleted // done
        counters.bulk_operations += 1
        counters.bulk_time += elapsed_ns

    @contextmanager
    def writing(self, key: ShardKey) -> Iterator[None]:
        """Counts an in-flight write batch in `index_current`."""
        counters = self.of(key)
        counters.index_current += 1
        try:
            yield
        finally:
            counters.index_current -= 1

    def on_get(self, key: ShardKey, found: bool, elapsed_ns: int) -> None:
        counters = self.of(key)
        counters.get_total += 1
        counters.get_time += elapsed_ns
        if found:
            counters.get_exists_total += 1
            counters.get_exists_time += elapsed_ns
        else:
            counters.get_missing_total += 1
            counters.get_missing_time += elapsed_ns

    @contextmanager
    def phase(self, key: ShardKey, name: str) -> Iterator[None]:
        """Times one search phase of a copy: `query` or `fetch` (ES `ShardSearchStats#onQueryPhase`, `onFetchPhase`)."""
        counters = self.of(key)
        setattr(counters, f"{name}_current", getattr(counters, f"{name}_current") + 1)
        started = time.monotonic_ns()
        try:
            yield
        finally:
            setattr(counters, f"{name}_current", getattr(counters, f"{name}_current") - 1)
            setattr(counters, f"{name}_total", getattr(counters, f"{name}_total") + 1)
            setattr(counters, f"{name}_time", getattr(counters, f"{name}_time") + time.monotonic_ns() - started)


def _ms(nanos: int) -> int:
    return nanos // 1_000_000


def common_stats(docs: int, counters: ShardCounters, open_contexts: int = 0) -> dict[str, Any]:
    """One shard copy's stats in ES `CommonStats` order (every flag set)."""
    c = counters
    size = simulated_size(docs)
    operations = c.index_total + c.delete_total
    return {
        "docs": {"count": docs, "deleted": 0, "total_size_in_bytes": size},
        "shard_stats": {"total_count": 1},
        "store": {"size_in_bytes": size, "total_data_set_size_in_bytes": size, "reserved_in_bytes": 0},
        "indexing": {
            "index_total": c.index_total,
            "index_time_in_millis": _ms(c.index_time),
            "index_current": c.index_current,
            "index_failed": c.index_failed,
            "index_failed_due_to_version_conflict": c.index_failed,
            "delete_total": c.delete_total,
            "delete_time_in_millis": _ms(c.delete_time),
            "delete_current": c.delete_current,
            "noop_update_total": c.noop_update_total,
            "is_throttled": False,
            "throttle_time_in_millis": 0,
            "write_load": 0.0,
            "recent_write_load": 0.0,
            "peak_write_load": 0.0,
        },
        "get": {
            "total": c.get_total,
            "time_in_millis": _ms(c.get_time),
            "exists_total": c.get_exists_total,
            "exists_time_in_millis": _ms(c.get_exists_time),
            "missing_total": c.get_missing_total,
            "missing_time_in_millis": _ms(c.get_missing_time),
            "current": c.get_current,
        },
        "search": {
            "open_contexts": open_contexts,
            "query_total": c.query_total,
            "query_time_in_millis": _ms(c.query_time),
            "query_current": c.query_current,
            "fetch_total": c.fetch_total,
            "fetch_time_in_millis": _ms(c.fetch_time),
            "fetch_current": c.fetch_current,
            "scroll_total": 0,
            "scroll_time_in_millis": 0,
            "scroll_current": 0,
            "suggest_total": 0,
            "suggest_time_in_millis": 0,
            "suggest_current": 0,
        },
        "merges": {
            "current": 0,
            "current_docs": 0,
            "current_size_in_bytes": 0,
            "total": 0,
            "total_time_in_millis": 0,
            "total_docs": 0,
            "total_size_in_bytes": 0,
            "total_stopped_time_in_millis": 0,
            "total_throttled_time_in_millis": 0,
            "total_auto_throttle_in_bytes": 20971520,
        },
        "refresh": {
            "total": 0,
            "total_time_in_millis": 0,
            "external_total": 0,
            "external_total_time_in_millis": 0,
            "listeners": 0,
        },
        "flush": {
            "total": 0,
            "periodic": 0,
            "total_time_in_millis": 0,
            "total_time_excluding_waiting_on_lock_in_millis": 0,
        },
        "warmer": {"current": 0, "total": 0, "total_time_in_millis": 0},
        "query_cache": {
            "memory_size_in_bytes": 0,
            "total_count": 0,
            "hit_count": 0,
            "miss_count": 0,
            "cache_size": 0,
            "cache_count": 0,
            "evictions": 0,
        },
        "fielddata": {"memory_size_in_bytes": 0, "evictions": 0, "global_ordinals": {"build_time_in_millis": 0}},
        "completion": {"size_in_bytes": 0},
        "segments": {
            "count": 1 if docs else 0,
            "memory_in_bytes": 0,
            "terms_memory_in_bytes": 0,
            "stored_fields_memory_in_bytes": 0,
            "term_vectors_memory_in_bytes": 0,
            "norms_memory_in_bytes": 0,
            "points_memory_in_bytes": 0,
            "doc_values_memory_in_bytes": 0,
            "index_writer_memory_in_bytes": 0,
            "version_map_memory_in_bytes": 0,
            "fixed_bit_set_memory_in_bytes": 0,
            "max_unsafe_auto_id_timestamp": -1,
            "file_sizes": {},
        },
        "translog": {
            "operations": operations,
            "size_in_bytes": _EMPTY_TRANSLOG_BYTES,
            "uncommitted_operations": operations,
            "uncommitted_size_in_bytes": _EMPTY_TRANSLOG_BYTES,
            "earliest_last_modified_age": 0,
        },
        "request_cache": {"memory_size_in_bytes": 0, "evictions": 0, "hit_count": 0, "miss_count": 0},
        "recovery": {"current_as_source": 0, "current_as_target": 0, "throttle_time_in_millis": 0},
        "bulk": {
            "total_operations": c.bulk_operations,
            "total_time_in_millis": _ms(c.bulk_time),
            "total_size_in_bytes": 0,
            "avg_time_in_millis": _ms(c.bulk_time // c.bulk_operations) if c.bulk_operations else 0,
            "avg_size_in_bytes": 0,
        },
        "dense_vector": {"value_count": 0},
        "sparse_vector": {"value_count": 0},
    }


def empty_common_stats() -> dict[str, Any]:
    """The stats of no shard at all (an index or a node without copies)."""
    stats = common_stats(0, ShardCounters())
    return add_stats({}, {key: _zero(value) for key, value in stats.items()})


def _zero(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v if k in _MAX_FIELDS else _zero(v)) for k, v in value.items()}
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return 0.0
    if isinstance(value, int):
        return 0
    return value


def add_stats(total: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """Adds `part` into `total` (in place, and returned): numbers summed, flags or-ed, maxima kept."""
    for key, value in part.items():
        if isinstance(value, Mapping):
            add_stats(total.setdefault(key, {}), value)
        elif key not in total:
            total[key] = value
        elif isinstance(value, bool):
            total[key] = total[key] or value
        elif key in _MAX_FIELDS:
            total[key] = max(total[key], value)
        elif isinstance(value, int | float):
            total[key] += value
    return total
