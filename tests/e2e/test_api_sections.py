"""Sections, columns and endpoints clients read, against real node processes, in Elasticsearch 9's shapes.

Sources matched: `NodeInfo#toXContent` (section order, `total_indexing_buffer` with `?human`), `JvmInfo`,
`ThreadPool.Info`, `AggregationInfo`, `RestNodesInfoAction` (unknown metrics disregarded: `/_nodes/_master/_none`),
`RestNodesAction` and `RestShardsAction` (`getTableWithHeader`: every column, in order), `RestHealthAction`,
`RestMasterAction` (routed to the master: `master_not_discovered_exception` after `master_timeout`),
`RestNodesCapabilitiesAction` / `RestController#checkSupported`.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.e2e.conftest import ClusterFactory
from tests.support.http import Response, call, wait_until

pytestmark = pytest.mark.e2e


def get(cluster: LocalCluster, path: str, name: str = "node-1") -> Response:
    url = cluster.node(name).http_url
    assert url is not None
    return call(url, "GET", path)


def ok(response: Response) -> Any:
    assert response.status == 200, response.text
    return response.json


def test_nodes_info_has_jvm_thread_pool_aggregations_and_the_indexing_buffer(cluster3: LocalCluster) -> None:
    nodes = ok(get(cluster3, "/_nodes?human"))["nodes"]
    for info in nodes.values():
        keys = list(info)
        assert keys.index("build_hash") < keys.index("total_indexing_buffer") < keys.index("roles")
        assert keys.index("total_indexing_buffer") + 1 == keys.index("total_indexing_buffer_in_bytes")
        sections = [k for k in keys if k in ("settings", "os", "process", "jvm", "thread_pool", "transport", "http")]
        assert sections == ["settings", "os", "process", "jvm", "thread_pool", "transport", "http"]
        assert keys[-1] == "aggregations"
        assert list(info["jvm"])[:3] == ["pid", "version", "vm_name"]
        assert info["jvm"]["mem"]["heap_max_in_bytes"] > 0
        assert info["thread_pool"]["write"]["type"] == "fixed"
        assert list(info["thread_pool"]["generic"]) == ["type", "core", "max", "keep_alive", "queue_size"]
        assert info["aggregations"]["terms"] == {"types": ["boolean", "date", "ip", "keyword", "numeric"]}


def test_nodes_info_master_with_no_metric_is_basic_information(cluster3: LocalCluster) -> None:
    master = get(cluster3, "/_cat/master?h=node").text.strip()
    body = ok(get(cluster3, "/_nodes/_master/_none"))
    (info,) = body["nodes"].values()
    assert info["name"] == master
    assert "jvm" not in info and "settings" not in info and "total_indexing_buffer_in_bytes" not in info
    assert body["_nodes"] == {"total": 1, "successful": 1, "failed": 0}


def _help_names(text: str) -> list[str]:
    return [line.split("|")[0].strip() for line in text.splitlines()]


def test_cat_nodes_help_lists_every_column_of_elasticsearch(cluster3: LocalCluster) -> None:
    names = _help_names(get(cluster3, "/_cat/nodes?help").text)
    assert names[:9] == ["id", "pid", "ip", "port", "http_address", "version", "type", "build", "jdk"]
    assert names[9:22] == [
        "disk.total", "disk.used", "disk.avail", "disk.used_percent", "heap.current", "heap.percent", "heap.max",
        "ram.current", "ram.percent", "ram.max", "file_desc.current", "file_desc.percent", "file_desc.max",
    ]  # fmt: skip
    assert names[-3:] == [
        "shard_stats.total_count",
        "mappings.total_count",
        "mappings.total_estimated_overhead_in_bytes",
    ]
    assert len(names) == 100


def test_cat_nodes_heap_file_descriptors_and_disk(cluster3: LocalCluster) -> None:
    columns = "name,heap.current,heap.max,file_desc.current,file_desc.max,disk.total,disk.avail,disk.used_percent"
    rows = ok(get(cluster3, f"/_cat/nodes?h={columns}&format=json&bytes=b&s=name"))
    assert [row["name"] for row in rows] == ["node-1", "node-2", "node-3"]
    for row in rows:
        assert 0 < int(row["heap.current"]) < int(row["heap.max"])
        assert 0 < int(row["file_desc.current"]) <= int(row["file_desc.max"])
        assert 0 < int(row["disk.avail"]) <= int(row["disk.total"])
        assert 0.0 <= float(row["disk.used_percent"]) <= 100.0


def test_cat_shards_help_lists_every_column_of_elasticsearch(cluster3: LocalCluster) -> None:
    names = _help_names(get(cluster3, "/_cat/shards?help").text)
    assert names[:11] == [
        "index",
        "shard",
        "prirep",
        "state",
        "docs",
        "store",
        "dataset",
        "ip",
        "id",
        "node",
        "sync_id",
    ]
    assert names[-2:] == ["dense_vector.value_count", "sparse_vector.value_count"]
    assert len(names) == 80


def test_cat_health(cluster3: LocalCluster) -> None:
    header, row = get(cluster3, "/_cat/health?v&ts=false").text.splitlines()
    assert header.split() == [
        "cluster", "status", "node.total", "node.data", "shards", "pri", "relo", "init", "unassign", "unassign.pri",
        "pending_tasks", "max_task_wait_time", "active_shards_percent",
    ]  # fmt: skip
    cells = row.split()
    assert cells[0] == cluster3.cluster_name and cells[2:4] == ["3", "3"] and cells[-2:] == ["-", "100.0%"]


@pytest.mark.parametrize(
    ("query", "supported"),
    [
        ("method=GET&path=/_tasks", True),
        ("path=/_cat/health", True),
        ("method=PUT&path=/logs/_alias/current", True),
        ("method=DELETE&path=/_tasks", False),
        ("method=GET&path=/_no/such/thing", False),
        ("method=GET&path=/_tasks&capabilities=some_capability", False),
    ],
)
def test_capabilities(cluster3: LocalCluster, query: str, supported: bool) -> None:
    body = ok(get(cluster3, f"/_capabilities?{query}"))
    assert body == {
        "_nodes": {"total": 3, "successful": 3, "failed": 0},
        "cluster_name": cluster3.cluster_name,
        "supported": supported,
    }


def test_capabilities_refuses_an_unknown_method(cluster3: LocalCluster) -> None:
    response = get(cluster3, "/_capabilities?method=get&path=/")
    assert response.status == 400
    assert response.json["error"]["reason"] == "No enum constant org.elasticsearch.rest.RestRequest.Method.get"


def test_official_client_cat_and_capabilities_calls(cluster3: LocalCluster) -> None:
    from elasticsearch import Elasticsearch

    es = Elasticsearch(cluster3.node("node-2").http_url, request_timeout=20)
    assert es.cat.health(format="json")[0]["status"] in ("green", "yellow")
    assert len(es.cat.nodes(format="json", h="name,heap.max")) == 3
    assert es.cat.shards(format="json", h="index") is not None
    answer = es.perform_request("GET", "/_capabilities", params={"method": "GET", "path": "/_cat/nodes"})
    assert answer.body["supported"] is True


def test_cat_master_without_an_elected_master_is_master_not_discovered(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(nodes=3)
    for name in ("node-1", "node-2"):
        cluster.kill_node(name, signal.SIGKILL)
    wait_until(lambda: get(cluster, "/_cat/master?local=true&h=id", "node-3").text.strip() == "-", timeout=30)
    response = get(cluster, "/_cat/master?master_timeout=500ms", "node-3")
    assert (response.status, response.json) == (
        503,
        {
            "error": {
                "root_cause": [{"type": "master_not_discovered_exception", "reason": None}],
                "type": "master_not_discovered_exception",
                "reason": None,
            },
            "status": 503,
        },
    )
