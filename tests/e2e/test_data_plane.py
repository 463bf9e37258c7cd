"""The data plane against three real node processes: the search and reindex task trees, live statuses,
rethrottle, cancellation, stored results, and ES's error bodies (reference §14, §15)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}
SEARCH = "indices:data/read/search"
QUERY = "indices:data/read/search[phase/query]"
REINDEX = "indices:data/write/reindex"


def url(cluster: LocalCluster, name: str = "node-1") -> str:
    record = cluster.node(name)
    assert record.http_url is not None
    return record.http_url


def request(cluster: LocalCluster, method: str, path: str, body: Any = None, name: str = "node-1") -> Response:
    if body is None:
        return call(url(cluster, name), method, path)
    if isinstance(body, bytes):
        return call(url(cluster, name), method, path, headers=NDJSON, body=body)
    return call(url(cluster, name), method, path, headers=JSON, body=json.dumps(body).encode())


def ok(response: Response) -> Any:
    assert response.status == 200, response.text
    return response.json


def create_index(cluster: LocalCluster, name: str, shards: int, replicas: int, docs: int = 0) -> None:
    ok(request(cluster, "PUT", f"/{name}", {"settings": {"number_of_shards": shards, "number_of_replicas": replicas}}))
    ok(request(cluster, "GET", f"/_cluster/health/{name}?wait_for_status=green&timeout=20s"))
    if docs:
        body = b"".join(b'{"index":{"_id":"%d"}}\n{"n":%d}\n' % (i, i) for i in range(docs))
        assert ok(request(cluster, "POST", f"/{name}/_bulk", body))["errors"] is False


def transient(cluster: LocalCluster, **settings: Any) -> None:
    ok(
        request(
            cluster, "PUT", "/_cluster/settings", {"transient": {k.replace("__", "."): v for k, v in settings.items()}}
        )
    )


@pytest.fixture(scope="module")
def cluster(cluster3: LocalCluster) -> Iterator[LocalCluster]:
    create_index(cluster3, "trees", 3, 1, docs=30)
    yield cluster3


def in_background(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", fn()), daemon=True)
    thread.start()
    return thread, box


def shard_holders(cluster: LocalCluster, index: str) -> dict[str, set[str]]:
    rows = ok(request(cluster, "GET", f"/_cat/shards/{index}?format=json&h=shard,id"))
    holders: dict[str, set[str]] = {}
    for row in rows:
        holders.setdefault(row["shard"], set()).add(row["id"])
    return holders


# ---- search ---------------------------------------------------------------------------------------------------


def test_a_search_lists_one_query_child_per_shard_on_a_node_holding_it(cluster: LocalCluster) -> None:
    transient(cluster, sim__search__shard_query_time="20s")
    thread, box = in_background(lambda: request(cluster, "GET", "/trees/_search?size=5"))
    try:

        def search_tree() -> dict[str, Any] | None:
            listed = ok(request(cluster, "GET", f"/_tasks?detailed&group_by=parents&actions={SEARCH}*", name="node-2"))
            roots = [t for t in listed["tasks"].values() if t["action"] == SEARCH]
            return roots[0] if roots and len(roots[0].get("children", [])) == 3 else None

        root = wait_until(search_tree, 10, what="the search and its three shard tasks")
        assert root["description"] == 'indices[trees], search_type[QUERY_THEN_FETCH], source[{"size":5}]'
        assert (root["type"], root["cancellable"], root["cancelled"]) == ("transport", True, False)
        assert root["node"] == cluster.node("node-1").node_id
        holders = shard_holders(cluster, "trees")
        described = set()
        for child in root["children"]:
            assert child["action"] == QUERY
            assert child["parent_task_id"] == f"{root['node']}:{root['id']}"
            assert child["type"] == ("direct" if child["node"] == root["node"] else "transport")
            shard = child["description"].removeprefix("shardId[[trees][").removesuffix("]]")
            assert child["node"] in holders[shard], "the query runs on a node holding that shard"
            described.add(child["description"])
        assert described == {"shardId[[trees][0]]", "shardId[[trees][1]]", "shardId[[trees][2]]"}
        assert len({child["node"] for child in root["children"]}) == 3, "a balanced index is searched on all nodes"
        ok(request(cluster, "POST", f"/_tasks/{root['node']}:{root['id']}/_cancel"))
        thread.join(10)
        response = box["result"]
        assert response.status == 400
        assert response.json["error"]["type"] == "task_cancelled_exception"
        assert response.json["error"]["reason"] == "task cancelled [by user request]"
    finally:
        transient(cluster, sim__search__shard_query_time=None)
        thread.join(10)


def test_closing_the_http_connection_cancels_the_search_and_its_shard_tasks(cluster: LocalCluster) -> None:
    transient(cluster, sim__search__shard_query_time="20s")
    parts = urlsplit(url(cluster))
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", "/trees/_search", headers={"X-Opaque-Id": "closing"})

        def searching() -> int | None:
            listed = ok(request(cluster, "GET", f"/_tasks?group_by=none&actions={SEARCH}*"))
            return sum(1 for t in listed["tasks"] if t["headers"].get("X-Opaque-Id") == "closing") == 4 or None

        wait_until(searching, 10, what="the search tree")
        conn.close()

        def gone() -> bool:
            listed = ok(request(cluster, "GET", f"/_tasks?group_by=none&actions={SEARCH}*"))
            return not any(t["headers"].get("X-Opaque-Id") == "closing" for t in listed["tasks"])

        wait_until(gone, 10, what="the cancelled search tree to finish (its shard queries would take 20s)")
    finally:
        conn.close()
        transient(cluster, sim__search__shard_query_time=None)


def test_search_count_and_hits_are_es_shaped(cluster: LocalCluster) -> None:
    assert ok(request(cluster, "GET", "/trees/_count")) == {
        "count": 30,
        "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0},
    }
    body = ok(request(cluster, "POST", "/trees/_search?size=2", {"query": {"match_all": {}}}))
    assert list(body) == ["took", "timed_out", "_shards", "hits"]
    assert body["hits"]["total"] == {"value": 30, "relation": "eq"}
    assert [set(h) for h in body["hits"]["hits"]] == [{"_index", "_id", "_score", "_source"}] * 2


# ---- writes ---------------------------------------------------------------------------------------------------


def test_single_documents_are_created_updated_and_deleted_as_es_answers(cluster: LocalCluster) -> None:
    created = request(cluster, "PUT", "/docs/_doc/1", {"a": 1})
    assert created.status == 201 and created.headers["Location"] == "/docs/_doc/1"
    assert {k: created.json[k] for k in ("_index", "_id", "_version", "result")} == {
        "_index": "docs", "_id": "1", "_version": 1, "result": "created",
    }  # fmt: skip
    assert created.json["_shards"] == {"total": 2, "successful": 2, "failed": 0}, "auto-created: 1 shard, 1 replica"
    updated = request(cluster, "PUT", "/docs/_doc/1", {"a": 2})
    assert (updated.status, updated.json["result"], updated.json["_version"]) == (200, "updated", 2)
    conflict = request(cluster, "PUT", "/docs/_create/1", {"a": 3})
    assert conflict.status == 409
    assert conflict.json["error"]["type"] == "version_conflict_engine_exception"
    assert conflict.json["error"]["reason"] == "[1]: version conflict, document already exists (current version [2])"
    assert request(cluster, "DELETE", "/docs/_doc/1").json["result"] == "deleted"
    missing = request(cluster, "DELETE", "/docs/_doc/1")
    assert (missing.status, missing.json["result"]) == (404, "not_found")


def test_bulk_items_fail_one_by_one(cluster: LocalCluster) -> None:
    body = (
        b'{"index":{"_index":"items","_id":"1"}}\n{}\n'
        b'{"create":{"_index":"items","_id":"1"}}\n{}\n'
        b'{"index":{"_index":"Items"}}\n{}\n'
        b'{"delete":{"_index":"nope","_id":"1"}}\n'
    )
    response = ok(request(cluster, "POST", "/_bulk", body))
    assert response["errors"] is True
    kinds = [next(iter(item.values())) for item in response["items"]]
    assert [k["status"] for k in kinds] == [201, 409, 400, 404]
    assert [k.get("error", {}).get("type") for k in kinds] == [
        None, "version_conflict_engine_exception", "invalid_index_name_exception", "index_not_found_exception",
    ]  # fmt: skip


def test_a_large_bulk_is_parsed_and_answered_like_a_small_one(cluster: LocalCluster) -> None:
    """Bodies from 1 MB on are parsed, and answers from 1,000 items on rendered, on a worker thread: same answers,
    same errors, same order."""
    text = "x" * 900
    body = b"".join(
        b'{"index":{"_index":"big","_id":"%d"}}\n{"n":%d,"text":"%s"}\n' % (i, i, text.encode()) for i in range(1500)
    )
    assert len(body) > 1 << 20
    answer = ok(request(cluster, "POST", "/_bulk?refresh=true&filter_path=errors,items.*._id,items.*.status", body))
    assert answer["errors"] is False
    assert [item["index"]["_id"] for item in answer["items"]] == [str(i) for i in range(1500)]
    assert {item["index"]["status"] for item in answer["items"]} == {201}
    assert ok(request(cluster, "GET", "/big/_count"))["count"] == 1500

    unterminated = request(cluster, "POST", "/_bulk", body[:-1])
    assert unterminated.status == 400
    assert unterminated.json["error"]["reason"] == "The bulk request must be terminated by a newline [\\n]"


# ---- reindex --------------------------------------------------------------------------------------------------


def start_throttled_reindex(cluster: LocalCluster, dest: str) -> str:
    """A 2-slice reindex whose second batch per slice waits 2 / 0.005 s: it runs until rethrottled or cancelled."""
    started = ok(request(
        cluster, "POST", "/_reindex?wait_for_completion=false&slices=2&requests_per_second=0.01",
        {"source": {"index": "trees", "size": 2}, "dest": {"index": dest}},
    ))  # fmt: skip
    assert list(started) == ["task"]
    return str(started["task"])


def throttled_leader(cluster: LocalCluster, task_id: str) -> dict[str, Any]:
    def leader() -> dict[str, Any] | None:
        listed = ok(request(cluster, "GET", "/_tasks?detailed&group_by=parents&actions=*reindex"))
        root = listed["tasks"].get(task_id)
        children = root.get("children", []) if root else []
        live = len(children) == 2 and all(
            c["status"]["created"] >= 2 and c["status"]["throttled_until_millis"] > 0 for c in children
        )
        return root if live else None

    return wait_until(leader, 15, what="both slices to have written a batch and be throttled")


def test_a_sliced_reindex_lists_leader_and_workers_is_rethrottled_and_stores_its_result(cluster: LocalCluster) -> None:
    task_id = start_throttled_reindex(cluster, "copy")
    leader = throttled_leader(cluster, task_id)
    assert (leader["action"], leader["description"]) == (REINDEX, "reindex from [trees] to [copy]")
    assert leader["status"]["slices"] == [None, None] and leader["status"]["requests_per_second"] == 0.0
    workers = sorted(leader["children"], key=lambda c: c["status"]["slice_id"])
    for slice_id, worker in enumerate(workers):
        assert (worker["action"], worker["type"], worker["node"]) == (REINDEX, "transport", leader["node"])
        assert worker["parent_task_id"] == task_id and worker["description"] == leader["description"]
        status = worker["status"]
        assert (status["slice_id"], status["batches"], status["created"]) == (slice_id, 1, 2)
        assert status["requests_per_second"] == 0.005, "each slice gets half of the rate"
    assert sum(w["status"]["total"] for w in workers) == 30
    rethrottled = ok(request(cluster, "POST", f"/_reindex/{task_id}/_rethrottle?requests_per_second=-1"))
    (entry,) = rethrottled["nodes"].values()
    info = entry["tasks"][task_id]
    assert info["description"] == "reindex from [trees] to [copy]", "rethrottle answers a detailed TaskInfo"
    assert [s["requests_per_second"] if s else None for s in info["status"]["slices"]] in (
        [-1.0, -1.0],
        [None, -1.0],
        [-1.0, None],
    )
    stored = ok(request(cluster, "GET", f"/_tasks/{task_id}?wait_for_completion=true&timeout=20s", name="node-3"))
    assert list(stored) == ["completed", "task", "response"] and stored["completed"] is True
    response = stored["response"]
    assert (response["total"], response["created"], response["failures"]) == (30, 30, [])
    assert response["batches"] == sum(s["batches"] for s in response["slices"]) == 15, "two documents a batch"
    assert (response["throttled"], response["requests_per_second"]) == ("0s", -1.0), "stored human, unlimited"
    assert [s["slice_id"] for s in response["slices"]] == [0, 1]
    assert stored["task"]["status"]["created"] == 30 and stored["task"]["cancelled"] is False
    assert ok(request(cluster, "GET", "/copy/_count"))["count"] == 30


def test_a_cancelled_reindex_stores_canceled_in_its_result(cluster: LocalCluster) -> None:
    task_id = start_throttled_reindex(cluster, "cancelled")
    throttled_leader(cluster, task_id)
    cancelled = ok(request(cluster, "POST", f"/_tasks/{task_id}/_cancel"))
    assert next(iter(cancelled["nodes"].values()))["tasks"][task_id]["cancelled"] is True
    stored = ok(request(cluster, "GET", f"/_tasks/{task_id}?wait_for_completion=true&timeout=20s"))
    response = stored["response"]
    assert response["canceled"] == "by user request"
    assert response["created"] == 4 and response["total"] == 30
    assert all(s["canceled"] == "by user request" for s in response["slices"])
    assert stored["task"]["status"]["canceled"] == "by user request"
    assert stored["task"]["cancelled"] is False, "a stored task reads back as not cancelled (reference §20.12)"


def test_update_and_delete_by_query_answer_without_created_and_updated(cluster: LocalCluster) -> None:
    create_index(cluster, "byquery", 2, 0, docs=6)
    updated = ok(request(cluster, "POST", "/byquery/_update_by_query?slices=auto"))
    assert "created" not in updated and updated["updated"] == 6 and len(updated["slices"]) == 2
    deleted = ok(request(cluster, "POST", "/byquery/_delete_by_query", {"query": {"match_all": {}}}))
    assert "created" not in deleted and "updated" not in deleted and deleted["deleted"] == 6
    assert ok(request(cluster, "GET", "/byquery/_count"))["count"] == 0


# ---- indices, health, settings ----------------------------------------------------------------------------------


def test_more_replicas_than_nodes_is_yellow_with_unassigned_copies(cluster: LocalCluster) -> None:
    ok(request(cluster, "PUT", "/wide", {"settings": {"number_of_replicas": 3}}))
    health = ok(request(cluster, "GET", "/_cluster/health/wide?wait_for_active_shards=3&timeout=10s"))
    assert (health["status"], health["active_shards"], health["unassigned_shards"]) == ("yellow", 3, 1)
    states = [row["state"] for row in ok(request(cluster, "GET", "/_cat/shards/wide?format=json"))]
    assert sorted(states) == ["STARTED", "STARTED", "STARTED", "UNASSIGNED"]
    rows = ok(request(cluster, "GET", "/_cat/indices/wide?format=json&h=health,index,pri,rep"))
    assert rows == [{"health": "yellow", "index": "wide", "pri": "1", "rep": "3"}]
    ok(request(cluster, "DELETE", "/wide"))


def test_cluster_settings_are_kept_persistent_or_transient_and_reset_with_null(cluster: LocalCluster) -> None:
    body = {"persistent": {"sim.write.doc_time": "1ms"}, "transient": {"sim": {"reindex": {"batch_time": "5ms"}}}}
    assert ok(request(cluster, "PUT", "/_cluster/settings", body)) == {
        "acknowledged": True,
        "persistent": {"sim": {"write": {"doc_time": "1ms"}}},
        "transient": {"sim": {"reindex": {"batch_time": "5ms"}}},
    }
    assert ok(request(cluster, "GET", "/_cluster/settings?flat_settings", name="node-3")) == {
        "persistent": {"sim.write.doc_time": "1ms"},
        "transient": {"sim.reindex.batch_time": "5ms"},
    }
    reset = {"persistent": {"sim.write.doc_time": None}, "transient": {"sim.reindex.batch_time": None}}
    ok(request(cluster, "PUT", "/_cluster/settings", reset))
    assert ok(request(cluster, "GET", "/_cluster/settings")) == {"persistent": {}, "transient": {}}


# ---- error bodies -------------------------------------------------------------------------------------------------


def error(type_: str, reason: str, status: int, **metadata: Any) -> dict[str, Any]:
    cause = {"type": type_, "reason": reason, **metadata}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def not_found(index: str) -> dict[str, Any]:
    return error("index_not_found_exception", f"no such index [{index}]", 404, **{
        "resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_", "index": index,
    })  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("PUT", "/Trees", None, error(
            "invalid_index_name_exception", "Invalid index name [Trees], must be lowercase", 400,
            index_uuid="_na_", index="Trees",
        )),
        ("PUT", "/_x", None, error(
            "invalid_index_name_exception", "Invalid index name [_x], must not start with '_', '-', or '+'", 400,
            index_uuid="_na_", index="_x",
        )),
        ("PUT", "/x", {"settings": {"number_of_shards": 0}}, error(
            "illegal_argument_exception", "Failed to parse value [0] for setting [index.number_of_shards] must be >= 1", 400,
        )),
        ("PUT", "/x", {"shards": 1}, error("parse_exception", "unknown key [shards] for create index", 400)),
        ("DELETE", "/nope", None, not_found("nope")),
        ("GET", "/nope/_search", None, not_found("nope")),
        ("GET", "/nope/_count", None, not_found("nope")),
        ("DELETE", "/tree*", None, error(
            "illegal_argument_exception", "Wildcard expressions or all indices are not allowed", 400,
        )),
        ("POST", "/_bulk", b"", error("parse_exception", "request body is required", 400)),
        ("POST", "/_bulk", b"\n", error(
            "action_request_validation_exception", "Validation Failed: 1: no requests added;", 400,
        )),
        ("POST", "/_bulk", b'{"index":{"_index":"x"}}\n{}', error(
            "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]", 400,
        )),
        ("POST", "/_bulk", b'{"index":{}}\n{}\n', error(
            "action_request_validation_exception", "Validation Failed: 1: index is missing;", 400,
        )),
        ("GET", "/trees/_search?size=-1", None, error(
            "illegal_argument_exception", "[size] parameter cannot be negative, found [-1]", 400,
        )),
        ("PUT", "/_cluster/settings", {"persistent": {"sim.nope": "1s"}}, error(
            "illegal_argument_exception", "persistent setting [sim.nope], not recognized", 400,
        )),
        ("PUT", "/_cluster/settings", {"transient": {"sim.search.shard_query_time": "soon"}}, error(
            "illegal_argument_exception",
            "failed to parse setting [sim.search.shard_query_time] with value [soon] as a time value: unit is "
            "missing or unrecognized",
            400,
        )),
        ("POST", "/_reindex?slices=0", {}, error(
            "illegal_argument_exception", '[slices] must be a positive integer or the string "auto", but was [0]', 400,
        )),
        ("POST", "/_reindex", {"source": {"index": "trees"}, "dest": {"index": "trees"}}, error(
            "action_request_validation_exception",
            "Validation Failed: 1: reindex cannot write into an index its reading from [trees];", 400,
        )),
        ("POST", "/trees/_delete_by_query", None, error(
            "action_request_validation_exception", "Validation Failed: 1: query is missing;", 400,
        )),
        ("POST", "/_reindex/x:1/_rethrottle", None, error(
            "illegal_argument_exception", "requests_per_second is a required parameter", 400,
        )),
        ("POST", "/_update_by_query/x:1/_rethrottle?requests_per_second=0", None, error(
            "illegal_argument_exception",
            "[requests_per_second] must be a float greater than 0. Use -1 to disable throttling.", 400,
        )),
    ],
)  # fmt: skip
def test_bad_requests_get_es_error_bodies(
    cluster: LocalCluster, method: str, path: str, body: Any, expected: dict[str, Any]
) -> None:
    response = request(cluster, method, path, body)
    assert (response.status, response.json) == (expected["status"], expected)


def test_rethrottling_a_task_that_is_not_running_is_a_node_failure(cluster: LocalCluster) -> None:
    node_id = cluster.node("node-2").node_id
    body = ok(request(cluster, "POST", f"/_delete_by_query/{node_id}:999999/_rethrottle?requests_per_second=1"))
    assert body == {
        "node_failures": [{
            "type": "failed_node_exception", "reason": f"Failed node [{node_id}]", "node_id": node_id,
            "caused_by": {"type": "resource_not_found_exception", "reason": f"task [{node_id}:999999] is missing"},
        }],
        "nodes": {},
    }  # fmt: skip


def test_explicit_paths_still_win_over_index_routes(cluster: LocalCluster) -> None:
    response = request(cluster, "DELETE", "/_tasks")
    assert response.status == 405
    assert response.json == {
        "error": "Incorrect HTTP method for uri [/_tasks] and method [DELETE], allowed: [GET]",
        "status": 405,
    }


def test_slow_shard_queries_are_visible_in_took(cluster: LocalCluster) -> None:
    transient(cluster, sim__search__shard_query_time="300ms")
    try:
        started = time.monotonic()
        body = ok(request(cluster, "GET", "/trees/_search?size=0"))
        assert body["took"] >= 300 and time.monotonic() - started < 10
    finally:
        transient(cluster, sim__search__shard_query_time=None)


# ---- the official client ------------------------------------------------------------------------------------------


def test_the_official_client_drives_the_data_plane(cluster: LocalCluster) -> None:
    from elasticsearch import Elasticsearch, NotFoundError, helpers

    with Elasticsearch(cluster.endpoints(), request_timeout=30) as es:
        es.indices.create(index="client", settings={"number_of_shards": 2, "number_of_replicas": 1})
        assert es.cluster.health(index="client", wait_for_status="green", timeout="20s")["status"] == "green"
        assert helpers.bulk(es, ({"_index": "client", "_id": str(i), "n": i} for i in range(40))) == (40, [])
        assert es.indices.refresh(index="client")["_shards"] == {"total": 4, "successful": 4, "failed": 0}
        assert es.count(index="client")["count"] == 40
        assert es.get(index="client", id="7")["_version"] == 1
        with pytest.raises(NotFoundError):
            es.get(index="client", id="nope")
        assert sum(1 for _ in helpers.scan(es, index="client", size=6)) == 40
        started = es.reindex(source={"index": "client"}, dest={"index": "client-copy"}, wait_for_completion=False)
        done = es.tasks.get(task_id=started["task"], wait_for_completion=True, timeout="20s")
        assert done["completed"] is True and done["response"]["created"] == 40
        assert es.delete_by_query(index="client-copy", query={"match_all": {}})["deleted"] == 40
