"""Acknowledged writes survive a killed node (replicas are promoted) and a full-cluster restart (counts persist)."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until
from tests.support.nodes import url

pytestmark = pytest.mark.e2e

NDJSON = {"Content-Type": "application/x-ndjson"}


def get(cluster: LocalCluster, path: str, name: str = "node-1") -> Any:
    response = call(url(cluster, name), "GET", path)
    assert response.status == 200, response.text
    return response.json


def bulk(cluster: LocalCluster, ids: list[str]) -> Response:
    body = b"".join(b'{"index":{"_id":"%s"}}\n{"n":1}\n' % i.encode() for i in ids)
    return call(url(cluster, "node-1"), "POST", "/logs/_bulk", headers=NDJSON, body=body, timeout=90)


def create_logs(cluster: LocalCluster) -> None:
    body = json.dumps({"settings": {"number_of_shards": 3, "number_of_replicas": 1}}).encode()
    response = call(url(cluster, "node-1"), "PUT", "/logs", headers={"Content-Type": "application/json"}, body=body)
    assert response.status == 200, response.text
    get(cluster, "/_cluster/health/logs?wait_for_status=green&timeout=20s")


def test_killing_a_node_during_bulk_indexing_loses_no_acknowledged_document(fresh_cluster3: LocalCluster) -> None:
    cluster = fresh_cluster3
    create_logs(cluster)
    master = cluster.status().master
    victim = next(n for n in ("node-3", "node-2") if n != master)
    victim_id = cluster.node(victim).node_id
    primaries = get(cluster, "/_cat/shards/logs?format=json&h=prirep,id")
    assert any(r["prirep"] == "p" and r["id"] == victim_id for r in primaries), "the victim holds a primary"
    acknowledged: set[str] = set()
    attempted: set[str] = set()
    stop = threading.Event()
    batches = [0]

    def writer() -> None:
        while not stop.is_set():
            ids = [f"{batches[0]}-{i}" for i in range(25)]
            batches[0] += 1
            attempted.update(ids)
            response = bulk(cluster, ids)
            assert response.status == 200, response.text
            for item in response.json["items"]:
                if "error" not in item["index"]:
                    acknowledged.add(item["index"]["_id"])

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_until(lambda: batches[0] >= 10, 20, what="bulk indexing to be under way")
        assert cluster.kill_node(victim, signal.SIGKILL)
        killed_at = batches[0]
        wait_until(lambda: batches[0] >= killed_at + 20, 60, what="bulk indexing to go on after the kill")
    finally:
        stop.set()
        thread.join(90)
    health = get(cluster, "/_cluster/health/logs?wait_for_status=green&wait_for_nodes=2&timeout=30s")
    assert (health["status"], health["number_of_nodes"]) == ("green", 2), "replicas promoted and re-allocated"
    count = get(cluster, "/logs/_count")["count"]
    assert len(acknowledged) > 0 and acknowledged <= attempted
    assert len(acknowledged) <= count <= len(attempted), "every acknowledged document is still counted"
    rows = get(cluster, "/_cat/shards/logs?format=json&h=id")
    assert victim_id not in {r["id"] for r in rows}


def test_a_full_cluster_restart_keeps_document_counts_and_persistent_settings_only(
    fresh_cluster3: LocalCluster,
) -> None:
    cluster = fresh_cluster3
    create_logs(cluster)
    assert bulk(cluster, [str(i) for i in range(40)]).json["errors"] is False
    settings = {"persistent": {"sim.write.doc_time": "1ms"}, "transient": {"sim.reindex.batch_time": "5ms"}}
    body = json.dumps(settings).encode()
    assert (
        call(
            url(cluster, "node-1"), "PUT", "/_cluster/settings", headers={"Content-Type": "application/json"}, body=body
        ).status
        == 200
    )
    before = get(cluster, "/_cat/indices/logs?format=json&h=index,uuid,docs.count")
    cluster.stop()
    cluster.start()
    cluster.wait_until_formed(30)
    get(cluster, "/_cluster/health/logs?wait_for_status=green&timeout=30s")
    assert get(cluster, "/_cat/indices/logs?format=json&h=index,uuid,docs.count", "node-2") == before
    assert get(cluster, "/logs/_count", "node-3")["count"] == 40
    assert get(cluster, "/_cluster/settings?flat_settings") == {
        "persistent": {"sim.write.doc_time": "1ms"},
        "transient": {},
    }, "ES never writes transient settings to disk"
