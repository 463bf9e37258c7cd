"""`GET /_nodes/stats`, `GET /_stats`, `GET /{index}/_stats`, `GET /_cluster/stats` and `GET /_alias` on a real
3-node cluster: ES's shapes and errors, and counters that follow the operations the nodes really served."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call
from tests.support.nodes import node_id, url

pytestmark = pytest.mark.e2e

_NODE_ENTRY = ["timestamp", "name", "transport_address", "host", "ip", "roles"]
_SECTIONS = [
    "indices", "os", "process", "jvm", "thread_pool", "fs", "transport", "http", "breakers", "script", "discovery",
    "ingest", "adaptive_selection", "script_cache", "indexing_pressure", "repositories", "allocations",
]  # fmt: skip


def get(cluster: LocalCluster, path: str, name: str = "node-1") -> Response:
    return call(url(cluster, name), "GET", path)


def send(cluster: LocalCluster, method: str, path: str, body: Any = None, ndjson: bool = False) -> Response:
    if ndjson:
        data = "".join(json.dumps(line) + "\n" for line in body).encode()
        headers = {"Content-Type": "application/x-ndjson"}
    else:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
    return call(url(cluster, "node-1"), method, path, headers=headers, body=data)


@pytest.fixture(scope="module")
def stats_index(cluster3: LocalCluster) -> str:
    """`stats-test`: 2 shards, 1 replica, 3 documents written, one of them deleted again."""
    created = send(cluster3, "PUT", "/stats-test?wait_for_active_shards=all", {"settings": {"number_of_shards": 2}})
    assert created.status == 200, created.text
    lines = [
        {"index": {"_id": "a"}}, {"n": 1}, {"index": {"_id": "b"}}, {"n": 2}, {"index": {"_id": "c"}}, {"n": 3},
        {"delete": {"_id": "c"}},
    ]  # fmt: skip
    bulk = send(cluster3, "POST", "/stats-test/_bulk", lines, ndjson=True)
    assert bulk.status == 200 and not bulk.json["errors"], bulk.text
    return "stats-test"


def _sum(stats: dict[str, Any], section: str, field: str) -> int:
    return sum(node["indices"][section][field] for node in stats["nodes"].values())


def test_nodes_stats_is_not_a_node_selector(cluster3: LocalCluster) -> None:
    body = get(cluster3, "/_nodes/stats").json
    assert body["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert body["cluster_name"] == cluster3.cluster_name
    assert set(body["nodes"]) == {node_id(cluster3, n) for n in cluster3.names}


def test_every_node_reports_every_section_in_es_order(cluster3: LocalCluster) -> None:
    entry = get(cluster3, "/_nodes/stats").json["nodes"][node_id(cluster3, "node-2")]
    assert list(entry) == _NODE_ENTRY + _SECTIONS
    assert entry["name"] == "node-2"
    assert entry["ip"] == entry["transport_address"]
    assert entry["process"]["open_file_descriptors"] > 0
    assert entry["jvm"]["mem"]["heap_used_in_bytes"] > 0
    assert entry["jvm"]["mem"]["heap_max_in_bytes"] >= entry["jvm"]["mem"]["heap_used_in_bytes"]
    assert entry["os"]["mem"]["total_in_bytes"] > 0
    assert entry["fs"]["total"]["total_in_bytes"] > 0
    assert set(entry["breakers"]) == {"request", "fielddata", "in_flight_requests", "parent"}
    assert entry["thread_pool"]["management"]["active"] >= 1  # the [n] request asking for these very stats


def test_metrics_in_the_path_select_sections_and_nodes(cluster3: LocalCluster) -> None:
    n3 = node_id(cluster3, "node-3")
    body = get(cluster3, f"/_nodes/{n3}/stats/jvm,transport").json
    assert list(body["nodes"]) == [n3]
    assert list(body["nodes"][n3]) == [*_NODE_ENTRY, "jvm", "transport"]
    only_os = get(cluster3, "/_nodes/stats/os").json
    assert all(list(entry)[-1] == "os" for entry in only_os["nodes"].values())


def test_index_metrics_and_levels(cluster3: LocalCluster, stats_index: str) -> None:
    body = get(cluster3, "/_nodes/stats/indices/docs,search?level=indices").json
    for entry in body["nodes"].values():
        assert list(entry["indices"]) == ["docs", "search", "indices"]
    indexed = [e["indices"]["indices"][stats_index] for e in body["nodes"].values() if e["indices"]["indices"]]
    assert sum(i["docs"]["count"] for i in indexed) == 4  # two documents, each on a primary and a replica


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/_nodes/stats/jvmm", "request [/_nodes/stats/jvmm] contains unrecognized metric: [jvmm] -> did you mean [jvm]?"),
        ("/_nodes/stats/_all,os", "request [/_nodes/stats/_all,os] contains _all and individual metrics [_all,os]"),
        ("/_nodes/stats/os/docs", "request [/_nodes/stats/os/docs] contains index metrics [docs] but indices stats not requested"),
        ("/_nodes/stats/indices/doc", "request [/_nodes/stats/indices/doc] contains unrecognized index metric: [doc] -> did you mean [docs]?"),
        ("/_nodes/stats?level=index", "level parameter must be one of [node] or [indices] or [shards] but was [index]"),
        ("/_stats/merges", "request [/_stats/merges] contains unrecognized metric: [merges] -> did you mean [merge]?"),
        ("/_stats?level=node", "level parameter must be one of [cluster] or [indices] or [shards] but was [node]"),
    ],
)  # fmt: skip
def test_bad_metrics_and_levels_are_es_400s(cluster3: LocalCluster, path: str, reason: str) -> None:
    response = get(cluster3, path)
    assert response.status == 400
    assert response.json["error"]["type"] == "illegal_argument_exception"
    assert response.json["error"]["reason"] == reason


def test_indexing_and_search_counters_follow_real_operations(cluster3: LocalCluster, stats_index: str) -> None:
    before = get(cluster3, "/_nodes/stats/indices").json
    assert _sum(before, "indexing", "index_total") >= 6  # 3 index operations, on primary and replica
    assert _sum(before, "indexing", "delete_total") >= 2
    assert call(url(cluster3, "node-2"), "GET", f"/{stats_index}/_search").status == 200
    after = get(cluster3, "/_nodes/stats/indices").json
    assert _sum(after, "search", "query_total") == _sum(before, "search", "query_total") + 2  # one per shard
    assert call(url(cluster3, "node-3"), "GET", f"/{stats_index}/_doc/a").status == 200
    assert _sum(get(cluster3, "/_nodes/stats/indices").json, "get", "exists_total") >= 1


def test_transport_and_http_counters_grow(cluster3: LocalCluster) -> None:
    n1 = node_id(cluster3, "node-1")

    def snapshot() -> dict[str, Any]:
        entry: dict[str, Any] = get(cluster3, f"/_nodes/{n1}/stats/transport,http").json["nodes"][n1]
        return entry

    first = snapshot()
    get(cluster3, "/_tasks")  # fans out to the other two nodes over gRPC
    second = snapshot()
    assert second["transport"]["tx_count"] >= first["transport"]["tx_count"] + 2
    assert second["transport"]["rx_size_in_bytes"] > first["transport"]["rx_size_in_bytes"]
    assert second["transport"]["server_open"] == 2
    assert second["http"]["total_opened"] > first["http"]["total_opened"]  # each call() opens a connection
    assert second["http"]["current_open"] >= 1


def test_indices_stats_shape(cluster3: LocalCluster, stats_index: str) -> None:
    body = get(cluster3, f"/{stats_index}/_stats").json
    assert list(body) == ["_shards", "_all", "indices"]
    assert body["_shards"] == {"total": 4, "successful": 4, "failed": 0}
    index = body["indices"][stats_index]
    assert list(index) == ["uuid", "health", "status", "primaries", "total"]
    assert (index["health"], index["status"]) == ("green", "open")
    assert index["primaries"]["docs"]["count"] == 2
    assert index["total"]["docs"]["count"] == 4
    assert index["primaries"]["shard_stats"] == {"total_count": 2}
    assert index["total"]["indexing"]["index_total"] >= 6
    assert body["_all"]["primaries"]["docs"] == index["primaries"]["docs"]


def test_indices_stats_metrics_levels_and_missing_index(cluster3: LocalCluster, stats_index: str) -> None:
    docs_only = get(cluster3, f"/{stats_index}/_stats/docs,store?level=shards").json
    index = docs_only["indices"][stats_index]
    assert list(index["primaries"]) == ["docs", "store"]
    copies = [c for shard in index["shards"].values() for c in shard]
    assert len(copies) == 4
    assert list(copies[0]) == ["routing", "docs", "store"]
    assert sum(c["routing"]["primary"] for c in copies) == 2
    assert "indices" not in get(cluster3, "/_stats?level=cluster").json
    missing = get(cluster3, "/no-such-index/_stats")
    assert missing.status == 404
    assert missing.json["error"]["type"] == "index_not_found_exception"


def test_cluster_stats(cluster3: LocalCluster, stats_index: str) -> None:
    body = get(cluster3, "/_cluster/stats").json
    assert list(body)[:7] == ["_nodes", "cluster_name", "cluster_uuid", "timestamp", "status", "indices", "nodes"]
    assert body["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert body["cluster_uuid"] == get(cluster3, "/").json["cluster_uuid"]
    assert body["status"] in ("green", "yellow")
    assert body["indices"]["docs"]["count"] >= 2
    assert body["indices"]["shards"]["total"] >= 4
    assert body["nodes"]["count"]["total"] == 3
    assert body["nodes"]["count"]["master"] == 3
    assert body["nodes"]["versions"] == [get(cluster3, "/").json["version"]["number"]]
    assert body["nodes"]["jvm"]["mem"]["heap_used_in_bytes"] > 0


def test_aliases_list_every_index_with_none(cluster3: LocalCluster, stats_index: str) -> None:
    assert get(cluster3, f"/{stats_index}/_alias").json == {stats_index: {"aliases": {}}}
    assert get(cluster3, "/_alias").json[stats_index] == {"aliases": {}}
