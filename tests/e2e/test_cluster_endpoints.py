"""`/`, `/_cluster/health`, `/_nodes` and `/_cat/{nodes,master}` on a real 3-node cluster."""

from __future__ import annotations

import re
import time

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call

pytestmark = pytest.mark.e2e


def get(cluster: LocalCluster, path: str, name: str = "node-1", method: str = "GET", **kwargs: object) -> Response:
    url = cluster.node(name).http_url
    assert url is not None
    return call(url, method, path, **kwargs)  # type: ignore[arg-type]


def test_root_describes_the_node_and_a_9x_version(cluster3: LocalCluster) -> None:
    body = get(cluster3, "/", "node-2").json
    assert list(body) == ["name", "cluster_name", "cluster_uuid", "version", "tagline"]
    assert body["name"] == "node-2"
    assert body["cluster_name"] == cluster3.cluster_name
    assert len(body["cluster_uuid"]) == 22
    assert list(body["version"]) == [
        "number", "build_flavor", "build_type", "build_hash", "build_date", "build_snapshot", "lucene_version",
        "minimum_wire_compatibility_version", "minimum_index_compatibility_version",
    ]  # fmt: skip
    assert body["version"]["number"].startswith("9.")
    assert body["tagline"] == "You Know, for Search"
    uuids = {get(cluster3, "/", name).json["cluster_uuid"] for name in cluster3.names}
    assert uuids == {body["cluster_uuid"]}


def test_head_root_answers_200_with_the_product_header(cluster3: LocalCluster) -> None:
    response = get(cluster3, "/", method="HEAD")
    assert response.status == 200
    assert response.text == ""
    assert response.headers["X-elastic-product"] == "Elasticsearch"


def test_answers_name_no_server_software_as_es_does(cluster3: LocalCluster) -> None:
    """ES's HTTP layer sends no `Server` header; aiohttp's default one would name Python and aiohttp."""
    for path in ("/", "/_tasks", "/nope/_doc/1", "/_tasks?nope=1"):
        assert "Server" not in get(cluster3, path).headers, path


def test_health(cluster3: LocalCluster) -> None:
    response = get(cluster3, "/_cluster/health?wait_for_nodes=3&timeout=5s")
    assert response.status == 200
    body = response.json
    assert body["status"] == "green" and body["timed_out"] is False
    assert body["number_of_nodes"] == 3 and body["number_of_data_nodes"] == 3
    assert body["active_shards_percent_as_number"] == 100.0


def test_health_times_out_with_408(cluster3: LocalCluster) -> None:
    started = time.monotonic()
    response = get(cluster3, "/_cluster/health?wait_for_nodes=>=4&timeout=300ms")
    assert time.monotonic() - started < 5
    assert response.status == 408
    assert response.json["timed_out"] is True


def test_health_rejects_unknown_parameters(cluster3: LocalCluster) -> None:
    response = get(cluster3, "/_cluster/health?wait_for_node=3")
    assert response.status == 400
    assert response.json["error"]["reason"] == (
        "request [/_cluster/health] contains unrecognized parameter: [wait_for_node] -> did you mean any of "
        "[wait_for_nodes, wait_for_events, wait_for_status]?"
    )


def test_nodes_info_selectors_and_metrics(cluster3: LocalCluster) -> None:
    body = get(cluster3, "/_nodes").json
    assert body["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert body["cluster_name"] == cluster3.cluster_name
    assert len(body["nodes"]) == 3
    local = get(cluster3, "/_nodes/_local", "node-3").json["nodes"]
    assert [n["name"] for n in local.values()] == ["node-3"]
    http_only = get(cluster3, "/_nodes/http").json["nodes"]
    assert all("http" in n and "os" not in n for n in http_only.values())
    assert {n["http"]["publish_address"] for n in get(cluster3, "/_nodes/_all/http").json["nodes"].values()} == {
        url.removeprefix("http://") for url in cluster3.endpoints()
    }
    # ES `RestNodesInfoAction` disregards metrics it does not know ("disregard unknown metrics"): no section at all.
    response = get(cluster3, "/_nodes/_all/htp")
    assert response.status == 200
    assert all("http" not in n and "os" not in n for n in response.json["nodes"].values())


def test_cat_nodes(cluster3: LocalCluster) -> None:
    text = get(cluster3, "/_cat/nodes?v&h=name,node.role,master&s=name").text
    lines = text.splitlines()
    assert lines[0].split() == ["name", "node.role", "master"]
    assert [line.split()[:2] for line in lines[1:]] == [["node-1", "dim"], ["node-2", "dim"], ["node-3", "dim"]]
    assert sorted(line.split()[2] for line in lines[1:]) == ["*", "-", "-"]
    default = get(cluster3, "/_cat/nodes").text.splitlines()
    assert len(default) == 3
    assert all(
        re.match(r"^127\.0\.0\.1 +\d+ +\d+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+ dim [*-] node-\d$", line) for line in default
    )
    rows = get(cluster3, "/_cat/nodes?format=json&h=id,name&full_id=true").json
    assert {row["id"] for row in rows} == {cluster3.node(n).node_id for n in cluster3.names}


def test_cat_master(cluster3: LocalCluster) -> None:
    rows = get(cluster3, "/_cat/master?format=json").json
    master = cluster3.status().master
    assert rows == [
        {
            "id": cluster3.node(master).node_id,
            "host": "127.0.0.1",
            "ip": "127.0.0.1",
            "node": master,
        }
    ]
    text = get(cluster3, "/_cat/master?v").text
    assert text.splitlines()[0].split() == ["id", "host", "ip", "node"]
    assert get(cluster3, "/_cat/master?help").text.startswith("id   |")
