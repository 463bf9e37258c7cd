"""The pure pieces behind node and index stats: ES field order, summing copies, pools and breakers."""

from __future__ import annotations

from node.indices.shard_stats import (
    INDEX_METRICS,
    ShardCounters,
    ShardOperationStats,
    add_stats,
    common_stats,
    empty_common_stats,
)
from node.monitor.sections import THREAD_POOLS, breakers, pool_of, thread_pools
from node.transport.stats import TransportStats


def test_common_stats_sections_follow_es_order() -> None:
    sections = list(common_stats(0, ShardCounters()))
    index_sections = [s for s in INDEX_METRICS.values() if s != "mappings"]
    assert sections == index_sections


def test_a_copy_reports_its_documents_and_simulated_store() -> None:
    stats = common_stats(3, ShardCounters(index_total=4, delete_total=1))
    assert stats["docs"] == {"count": 3, "deleted": 0, "total_size_in_bytes": 225 + 3 * 256}
    assert stats["store"]["size_in_bytes"] == 225 + 3 * 256
    assert (stats["indexing"]["index_total"], stats["indexing"]["delete_total"]) == (4, 1)
    assert stats["translog"]["operations"] == 5


def test_summing_copies_adds_numbers_keeps_maxima_and_ors_flags() -> None:
    a = common_stats(1, ShardCounters(index_total=2))
    b = common_stats(2, ShardCounters(index_total=3))
    b["indexing"]["is_throttled"] = True
    total = add_stats(add_stats({}, a), b)
    assert total["docs"]["count"] == 3
    assert total["indexing"]["index_total"] == 5
    assert total["indexing"]["is_throttled"] is True
    assert total["shard_stats"]["total_count"] == 2
    assert total["segments"]["max_unsafe_auto_id_timestamp"] == -1


def test_no_copies_at_all_is_zero_everywhere() -> None:
    empty = empty_common_stats()
    assert empty["docs"]["count"] == 0 and empty["shard_stats"]["total_count"] == 0
    assert empty["store"]["size_in_bytes"] == 0


def test_write_batches_split_their_time_between_indexing_and_deleting() -> None:
    stats = ShardOperationStats()
    stats.on_write(("u", 0), indexed=3, deleted=1, failed=1, noops=0, elapsed_ns=4_000_000)
    counters = stats.get(("u", 0))
    assert (counters.index_total, counters.delete_total, counters.index_failed) == (3, 1, 1)
    assert (counters.index_time, counters.delete_time) == (3_000_000, 1_000_000)
    stats.forget_all_but(set())
    assert stats.get(("u", 0)) == ShardCounters()


def test_actions_map_to_the_es_executor_that_runs_them() -> None:
    assert pool_of("indices:data/read/search[phase/query]") == "search"
    assert pool_of("indices:data/read/search") == "search_coordination"
    assert pool_of("indices:data/write/bulk[s][p]") == "write"
    assert pool_of("indices:data/read/get[s]") == "get"
    assert pool_of("cluster:monitor/nodes/stats[n]") == "management"
    assert pool_of("internal:coordination/fault_detection/leader_check") == "system_critical_read"
    assert pool_of("cluster:admin/tasks/test[n]") == "generic"


def test_thread_pools_count_running_and_completed_tasks() -> None:
    pools = thread_pools(["indices:data/write/bulk[s][p]"], {"indices:data/read/get[s]": 4})
    assert list(pools) == list(THREAD_POOLS)
    assert pools["write"] == {"threads": 1, "queue": 0, "active": 1, "rejected": 0, "largest": 1, "completed": 0}
    assert pools["get"]["completed"] == 4


def test_breakers_take_es_default_limits_from_the_heap() -> None:
    section = breakers(1 << 30, 123)
    assert list(section) == ["request", "fielddata", "in_flight_requests", "parent"]
    assert section["request"]["limit_size"] == "614.3mb"
    assert section["fielddata"]["limit_size_in_bytes"] == (1 << 30) * 40 // 100
    assert section["in_flight_requests"]["limit_size"] == "1gb"
    assert section["parent"]["estimated_size_in_bytes"] == 123
    assert section["parent"]["estimated_size"] == "123b"


def test_transport_stats_count_messages_and_bytes_each_way() -> None:
    stats = TransportStats()
    stats.sent(100)
    stats.received(40)
    stats.received(2)
    section = stats.to_xcontent(server_open=2)
    assert list(section)[:6] == [
        "server_open", "total_outbound_connections", "rx_count", "rx_size_in_bytes", "tx_count", "tx_size_in_bytes",
    ]  # fmt: skip
    assert (section["rx_count"], section["rx_size_in_bytes"], section["tx_count"], section["tx_size_in_bytes"]) == (
        2, 42, 1, 100,
    )  # fmt: skip
