"""`GET /_tasks?wait_for_completion` (reference §9.4) and the task-header rules (reference §4) on real processes."""

from __future__ import annotations

import time

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until
from tests.support.nodes import url

pytestmark = pytest.mark.e2e

TEST_ACTIONS = "cluster:admin/tasks/test*"


def request(cluster: LocalCluster, method: str, path: str, name: str = "node-1", **kwargs: object) -> Response:
    return call(url(cluster, name), method, path, **kwargs)  # type: ignore[arg-type]


def start(cluster: LocalCluster, query: str, **kwargs: object) -> str:
    response = request(cluster, "POST", f"/_sim/tasks?wait_for_completion=false&{query}", **kwargs)
    assert response.status == 200, response.text
    return str(response.json["task"])


def no_test_tasks_left(cluster: LocalCluster) -> bool:
    body = request(cluster, "GET", f"/_tasks?actions={TEST_ACTIONS}&group_by=none").json
    return body["tasks"] == []


def test_wait_for_completion_returns_once_the_tasks_are_gone(cluster3: LocalCluster) -> None:
    start(cluster3, "duration=600ms")
    started = time.monotonic()
    response = request(cluster3, "GET", f"/_tasks?wait_for_completion=true&actions={TEST_ACTIONS}&group_by=none")
    assert response.status == 200
    assert time.monotonic() - started >= 0.3
    assert "node_failures" not in response.json
    assert no_test_tasks_left(cluster3)


def test_wait_for_completion_timeout_is_a_node_failure_per_node(cluster3: LocalCluster) -> None:
    parent = start(cluster3, "nodes=node-2")
    try:
        response = request(cluster3, "GET", f"/_tasks?wait_for_completion=true&timeout=300ms&actions={TEST_ACTIONS}")
        assert response.status == 200
        body = response.json
        failing = {f["node_id"] for f in body["node_failures"]}
        assert failing == {cluster3.node("node-1").node_id, cluster3.node("node-2").node_id}
        for failure in body["node_failures"]:
            assert failure["type"] == "failed_node_exception"
            cause = failure["caused_by"]
            # the wait bound and the transport deadline are the same `timeout`: ES accepts either cause
            if cause["type"] == "timeout_exception":
                assert cause["reason"] == "timed out after [300ms/300ms]"
            else:
                assert cause["type"] == "receive_timeout_transport_exception"
    finally:
        request(cluster3, "POST", f"/_tasks/{parent}/_cancel?wait_for_completion=true")
    for record in cluster3.nodes:  # the abandoned waits end quietly
        assert "never retrieved" not in record.log_file.read_text(), record.name


def test_wait_for_completion_on_nothing_returns_at_once(cluster3: LocalCluster) -> None:
    started = time.monotonic()
    response = request(cluster3, "GET", "/_tasks?wait_for_completion=true&actions=nothing*")
    assert response.status == 200 and response.json == {"nodes": {}}
    assert time.monotonic() - started < 5


def test_headers_propagate_to_every_descendant_on_every_node(cluster3: LocalCluster) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    headers = {"X-Opaque-Id": "job-7", "traceparent": traceparent, "X-elastic-product-origin": "kibana"}
    parent = start(cluster3, "depth=2", headers=headers)
    try:
        wait_until(
            lambda: len(request(cluster3, "GET", f"/_tasks?actions={TEST_ACTIONS}&group_by=none").json["tasks"]) == 7,
            10,
            what="parent, three children and three grandchildren",
        )
        tasks = request(cluster3, "GET", f"/_tasks?actions={TEST_ACTIONS}&group_by=none", "node-3").json["tasks"]
        expected = {
            "X-Opaque-Id": "job-7",
            "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "X-elastic-product-origin": "kibana",
        }
        assert {t["node"] for t in tasks} == {cluster3.node(n).node_id for n in cluster3.names}
        assert all(t["headers"] == expected for t in tasks)
    finally:
        request(cluster3, "POST", f"/_tasks/{parent}/_cancel?wait_for_completion=true")


def test_task_header_size_limit(cluster3: LocalCluster) -> None:
    response = request(cluster3, "GET", "/_tasks", headers={"X-Opaque-Id": "x" * 8200})
    assert response.status == 400
    assert response.json["error"]["type"] == "illegal_argument_exception"
    assert response.json["error"]["reason"] == "Request exceeded the maximum size of task headers 16kb"
    ok = request(cluster3, "GET", "/_tasks?nodes=nope", headers={"X-Opaque-Id": "x" * 8000})
    assert ok.status == 200


def test_single_valued_product_origin(cluster3: LocalCluster) -> None:
    response = request(
        cluster3, "GET", "/_tasks", headers=[("X-elastic-product-origin", "a"), ("X-elastic-product-origin", "b")]
    )
    assert response.status == 400
    assert response.json == {
        "error": "multiple values for single-valued header [X-elastic-product-origin].",
        "status": 400,
    }
