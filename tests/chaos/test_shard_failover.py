"""Reads keep answering in full while a data node dies: a shard request that fails on one copy is retried on the
next copy of the same shard (ES `AbstractSearchAsyncAction#onShardFailure`, `TransportSingleShardAction`), so
`_shards.failed` counts only shards whose every copy failed — none, while a copy of every shard is alive.

The searches ask for `size=0`: ES's fetch phase goes to the copy that ran the query and is not retried elsewhere,
so a node killed between a search's two phases fails that shard in ES too.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.chaos.conftest import get, post, url, wait_for_master, wait_for_nodes
from tests.support.http import Response, call, wait_until

pytestmark = pytest.mark.chaos

NAMES = ("node-1", "node-2", "node-3")
DOCS = 300
SHARDS = 6
READS = ("/logs/_count", "/logs/_search?size=0&track_total_hits=true", "/logs/_doc/7", "/logs/_doc/123")


def create_logs(cluster: LocalCluster) -> None:
    settings = {"settings": {"number_of_shards": SHARDS, "number_of_replicas": 1}}
    response = call(
        url(cluster, "node-1"), "PUT", "/logs", headers={"Content-Type": "application/json"},
        body=json.dumps(settings).encode(),
    )  # fmt: skip
    assert response.status == 200, response.text
    body = b"".join(b'{"index":{"_id":"%d"}}\n{"n":%d}\n' % (i, i) for i in range(DOCS))
    response = call(
        url(cluster, "node-1"), "POST", "/logs/_bulk", headers={"Content-Type": "application/x-ndjson"}, body=body
    )
    assert response.status == 200 and response.json["errors"] is False, response.text
    assert get(cluster, "node-1", "/_cluster/health/logs?wait_for_status=green&timeout=20s").status == 200


def complete(path: str, response: Response) -> bool:
    """Whether a read answered in full: every shard, every document."""
    if response.status != 200:
        return False
    body = response.json
    if path.endswith("_count"):
        return bool(body["count"] == DOCS and body["_shards"]["failed"] == 0)
    if "_search" in path:
        shards = body["_shards"]
        return bool(body["hits"]["total"]["value"] == DOCS and shards["failed"] == 0 and shards["total"] == SHARDS)
    return bool(body["found"])


def test_reads_during_a_node_kill_all_answer_in_full(chaos_cluster: LocalCluster) -> None:
    cluster = chaos_cluster
    create_logs(cluster)
    master = wait_for_master(cluster, NAMES)
    victim = next(n for n in reversed(NAMES) if n != master)
    survivors = [n for n in NAMES if n != victim]
    answers: list[tuple[str, str, Response]] = []
    stop = threading.Event()

    def reader(name: str) -> None:
        while not stop.is_set():
            for path in READS:
                answers.append((name, path, call(url(cluster, name), "GET", path, timeout=30)))

    threads = [threading.Thread(target=reader, args=(name,), daemon=True) for name in survivors]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answers) >= 40, 30, what="reads to be under way")
        assert cluster.kill_node(victim)
        killed_at = len(answers)
        for name in survivors:
            wait_for_nodes(cluster, name, 2)
        wait_until(lambda: len(answers) >= killed_at + 80, 60, what="reads to go on after the kill")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    partial: list[Any] = [(name, path, r.status, r.text[:300]) for name, path, r in answers if not complete(path, r)]
    assert not partial, f"{len(partial)} of {len(answers)} reads were not complete: {partial[:5]}"
    assert len(answers) > killed_at


def test_a_reindex_whose_source_shard_dies_mid_scroll_ends_with_that_search_failure(
    chaos_cluster: LocalCluster,
) -> None:
    """ES `AbstractAsyncBulkByScrollAction#onScrollResponse`: a scroll round with a failed shard ends the job with
    the failure (`status`, `reason`, and `shard`/`index`/`node` where known) and writes nothing more."""
    cluster = chaos_cluster
    source = {"settings": {"number_of_shards": 2, "number_of_replicas": 0}}
    created = call(
        url(cluster, "node-1"), "PUT", "/src?wait_for_active_shards=all", headers={"Content-Type": "application/json"},
        body=json.dumps(source).encode(),
    )  # fmt: skip
    assert created.status == 200, created.text
    docs = 40
    body = b"".join(b'{"index":{"_id":"%d"}}\n{"n":%d}\n' % (i, i) for i in range(docs))
    written = call(
        url(cluster, "node-1"), "POST", "/src/_bulk?refresh=true", headers={"Content-Type": "application/x-ndjson"},
        body=body,
    )  # fmt: skip
    assert written.status == 200 and written.json["errors"] is False, written.text
    shards = get(cluster, "node-1", "/_cat/shards/src?format=json&h=node").json
    victim = next(row["node"] for row in shards if row["node"] != "node-1")
    started = post(
        cluster, "node-1", "/_reindex?wait_for_completion=false&requests_per_second=2",
        {"source": {"index": "src", "size": 2}, "dest": {"index": "dst"}},
    )  # fmt: skip
    assert started.status == 200, started.text
    task_id = started.json["task"]

    def first_batch_written() -> bool:
        task = get(cluster, "node-1", f"/_tasks/{task_id}").json["task"]
        return bool(task["status"]["created"] >= 2)

    wait_until(first_batch_written, timeout=20, what="the first batch")
    assert cluster.kill_node(victim)

    done = get(cluster, "node-1", f"/_tasks/{task_id}?wait_for_completion=true&timeout=30s", timeout=40).json
    assert done["completed"] is True
    response = done["response"]
    assert response["created"] < docs
    assert response["failures"], response
    for failure in response["failures"]:
        assert set(failure) <= {"index", "shard", "node", "status", "reason"}
        assert list(failure)[-2:] == ["status", "reason"]
        assert failure["status"] >= 500 and failure["reason"]["type"], failure
