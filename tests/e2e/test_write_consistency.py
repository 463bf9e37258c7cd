"""Clients that hang up mid-`_bulk` never leave two started copies of a shard disagreeing.

ES write and replication tasks are not cancellable: a client that goes away does not stop a bulk half-way, so the
write finishes on every in-sync copy (and a copy that cannot apply it is failed and recovered from its primary).
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import call, wait_until
from tests.support.nodes import url

pytestmark = pytest.mark.e2e

NAMES = ("node-1", "node-2", "node-3")
JSON = {"Content-Type": "application/json"}
BULK = "indices:data/write/bulk"
REPLICA = "indices:data/write/bulk[s][r]"
BULKS = 6
DOCS_PER_BULK = 8


def get(cluster: LocalCluster, path: str, name: str = "node-1") -> Any:
    response = call(url(cluster, name), "GET", path)
    assert response.status == 200, response.text
    return response.json


def put(cluster: LocalCluster, path: str, body: Any) -> None:
    response = call(url(cluster, "node-1"), "PUT", path, headers=JSON, body=json.dumps(body).encode())
    assert response.status == 200, response.text


def send_bulk(base_url: str, ids: list[str]) -> socket.socket:
    """Sends a `_bulk` on a raw socket and returns it unread, so the test decides when the client hangs up."""
    body = b"".join(b'{"index":{"_id":"%s"}}\n{"n":1}\n' % i.encode() for i in ids)
    head = (
        f"POST /logs/_bulk HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(head + body)
    return sock


def running(cluster: LocalCluster, actions: str) -> list[dict[str, Any]]:
    body = get(cluster, f"/_tasks?actions={actions}&group_by=none")
    return list(body["tasks"])


def test_clients_hanging_up_mid_bulk_leave_every_copy_with_the_same_documents(fresh_cluster3: LocalCluster) -> None:
    cluster = fresh_cluster3
    put(cluster, "/logs", {"settings": {"number_of_shards": 3, "number_of_replicas": 1}})
    get(cluster, "/_cluster/health/logs?wait_for_status=green&timeout=20s")
    put(cluster, "/_cluster/settings", {"persistent": {"sim.write.doc_time": "100ms"}})
    ids = [f"{b}-{i}" for b in range(BULKS) for i in range(DOCS_PER_BULK)]
    sockets = [
        send_bulk(url(cluster, NAMES[b % 3]), ids[b * DOCS_PER_BULK : (b + 1) * DOCS_PER_BULK]) for b in range(BULKS)
    ]
    try:
        # Hang up once the primaries have written and the replicas are still applying.
        wait_until(lambda: running(cluster, REPLICA), 20, what="replica operations to be under way")
    finally:
        for sock in sockets:
            sock.close()

    wait_until(lambda: not running(cluster, f"{BULK}*"), 30, what="every bulk to finish on every copy")
    health = get(cluster, "/_cluster/health/logs?wait_for_status=green&wait_for_no_initializing_shards&timeout=30s")
    assert health["status"] == "green", health

    rows = get(cluster, "/_cat/shards/logs?format=json&h=shard,prirep,state,id,docs")
    by_shard: dict[str, set[str]] = {}
    for row in rows:
        assert row["state"] == "STARTED", rows
        by_shard.setdefault(row["shard"], set()).add(row["docs"])
    assert len(by_shard) == 3 and all(len(docs) == 1 for docs in by_shard.values()), rows
    assert sum(int(next(iter(docs))) for docs in by_shard.values()) == len(ids), rows

    holders = {row["id"] for row in rows}
    names = {cluster.node(name).node_id: name for name in NAMES}
    for doc_id in ids:
        seen = {}
        for holder in holders:
            response = call(url(cluster, names[holder]), "GET", f"/logs/_doc/{doc_id}?preference=_only_local")
            if response.status != 503:  # 503: this node holds no copy of the document's shard
                seen[holder] = (response.status, response.json.get("_version"))
        assert len(seen) == 2 and set(seen.values()) == {(200, 1)}, (doc_id, seen)
