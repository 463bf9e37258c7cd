"""The official clients users point at simcluster (clients-and-tools §1): elasticsearch-py 9.x and opensearch-py."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch, NotFoundError
from opensearchpy import OpenSearch

from cluster.launcher import LocalCluster

pytestmark = pytest.mark.e2e


def urls(cluster: LocalCluster) -> list[str]:
    return cluster.endpoints()


def test_elasticsearch_client_against_every_node(cluster3: LocalCluster) -> None:
    for url in urls(cluster3):
        es = Elasticsearch(url, request_timeout=10)
        try:
            assert es.ping() is True
            info = es.info()
            assert info["tagline"] == "You Know, for Search"
            assert info["version"]["number"].startswith("9.")
            health = es.cluster.health(wait_for_nodes="3", timeout="10s")
            assert health["number_of_nodes"] == 3 and health["status"] == "green"
            nodes = es.nodes.info()
            assert len(nodes["nodes"]) == 3
            listing = es.tasks.list(group_by="parents", actions="cluster:monitor/tasks/*")
            (group,) = listing["tasks"].values()
            assert len(group["children"]) == 3
            flat = es.tasks.list(group_by="none", detailed=True)
            assert flat["tasks"]
        finally:
            es.close()


def test_elasticsearch_client_sends_opaque_id_and_sees_it_in_tasks(cluster3: LocalCluster) -> None:
    es = Elasticsearch(urls(cluster3)[0], request_timeout=10)
    try:
        listing = es.options(opaque_id="client-42").tasks.list(group_by="none")
        assert {t["headers"].get("X-Opaque-Id") for t in listing["tasks"] if "tasks/lists" in t["action"]} == {
            "client-42"
        }
    finally:
        es.close()


def test_elasticsearch_client_sniffing_reads_nodes_http(cluster3: LocalCluster) -> None:
    es = Elasticsearch(urls(cluster3)[0], sniff_on_start=True, request_timeout=10)
    try:
        sniffed = {f"http://{n.host}:{n.port}" for n in es.transport.node_pool.all()}
        assert sniffed == set(urls(cluster3))
    finally:
        es.close()


def test_elasticsearch_client_raises_not_found_for_an_unknown_node_task(cluster3: LocalCluster) -> None:
    es = Elasticsearch(urls(cluster3)[0], request_timeout=10)
    try:
        with pytest.raises(NotFoundError):
            es.tasks.get(task_id="foo:1")
    finally:
        es.close()


def test_elasticsearch_client_tasks_get_cancel_and_cat(cluster3: LocalCluster) -> None:
    es = Elasticsearch(urls(cluster3)[0], request_timeout=10)
    try:
        started = es.perform_request("POST", "/_sim/tasks", params={"wait_for_completion": "false"})
        task_id = started["task"]
        running = es.tasks.get(task_id=task_id)
        assert running["completed"] is False and running["task"]["action"] == "cluster:admin/tasks/test"
        cancelled = es.tasks.cancel(task_id=task_id, wait_for_completion=True)
        (entry,) = cancelled["nodes"].values()
        assert [t["cancelled"] for t in entry["tasks"].values()] == [True]
        finished = es.tasks.get(task_id=task_id, wait_for_completion=True, timeout="10s")
        assert finished["completed"] is True
        assert finished["error"]["type"] == "task_cancelled_exception"
        table = es.cat.tasks(v=True)
        assert table.splitlines()[0].split()[:2] == ["action", "task_id"]
        rows = es.cat.tasks(format="json", actions="cluster:monitor/tasks/lists*")
        assert {row["action"] for row in rows} == {"cluster:monitor/tasks/lists", "cluster:monitor/tasks/lists[n]"}
    finally:
        es.close()


def test_opensearch_client(cluster3: LocalCluster) -> None:
    client = OpenSearch(urls(cluster3)[1], timeout=10)
    try:
        assert client.ping() is True
        assert client.info()["cluster_name"] == cluster3.cluster_name
        listing = client.tasks.list(group_by="none")
        assert any(t["action"] == "cluster:monitor/tasks/lists" for t in listing["tasks"])
        assert client.cat.tasks(format="json")
        started = client.transport.perform_request("POST", "/_sim/tasks", params={"wait_for_completion": "false"})
        assert client.tasks.get(task_id=started["task"])["completed"] is False
        cancelled = client.tasks.cancel(task_id=started["task"], params={"wait_for_completion": "true"})
        assert [t["cancelled"] for n in cancelled["nodes"].values() for t in n["tasks"].values()] == [True]
    finally:
        client.close()
