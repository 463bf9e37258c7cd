"""`POST /_sim/tasks` against three real node processes: the test-task trees (parent, `[n]`, `[n][n]`)."""

from __future__ import annotations

import http.client
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until
from tests.support.nodes import url

pytestmark = pytest.mark.e2e

NAMES = ("node-1", "node-2", "node-3")
TEST = "cluster:admin/tasks/test"
TEST_N = "cluster:admin/tasks/test[n]"
TEST_NN = "cluster:admin/tasks/test[n][n]"


def ids_by_name(cluster: LocalCluster) -> dict[str, str]:
    out = {}
    for name in NAMES:
        node_id = cluster.node(name).node_id
        assert node_id is not None
        out[name] = node_id
    return out


def post(cluster: LocalCluster, path: str, name: str = "node-1", **kwargs: Any) -> Response:
    return call(url(cluster, name), "POST", path, **kwargs)


def get(cluster: LocalCluster, path: str, name: str = "node-1", **kwargs: Any) -> Response:
    return call(url(cluster, name), "GET", path, **kwargs)


def wait_for_completion(cluster: LocalCluster, task_id: str) -> dict[str, Any]:
    response = get(cluster, f"/_tasks/{task_id}?wait_for_completion=true")
    assert response.status == 200, response.text
    return response.json  # type: ignore[no-any-return]


def error_body(type_: str, reason: str, status: int) -> dict[str, Any]:
    return {
        "error": {"root_cause": [{"type": type_, "reason": reason}], "type": type_, "reason": reason},
        "status": status,
    }


# ---- results ------------------------------------------------------------------------------------------------


def test_result_has_one_entry_per_node_after_the_duration(cluster3: LocalCluster) -> None:
    ids = ids_by_name(cluster3)
    response = post(cluster3, "/_sim/tasks?duration=300ms")
    assert response.status == 200, response.text
    body = response.json
    assert body["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert body["cluster_name"] == cluster3.cluster_name
    assert set(body["nodes"]) == set(ids.values())
    for name, node_id in ids.items():
        entry = body["nodes"][node_id]
        assert entry["name"] == name
        assert re.fullmatch(rf"{re.escape(node_id)}:\d+", entry["task"])
        assert entry["running_time_in_nanos"] >= 300_000_000


def test_nodes_selects_the_children(cluster3: LocalCluster) -> None:
    ids = ids_by_name(cluster3)
    response = post(cluster3, "/_sim/tasks?duration=10ms&nodes=node-2,node-3")
    assert response.status == 200, response.text
    assert set(response.json["nodes"]) == {ids["node-2"], ids["node-3"]}
    assert response.json["_nodes"]["total"] == 2


def test_without_waiting_the_answer_is_the_parent_task_id(cluster3: LocalCluster) -> None:
    ids = ids_by_name(cluster3)
    response = post(cluster3, "/_sim/tasks?duration=10ms&wait_for_completion=false", "node-2")
    assert response.status == 200, response.text
    assert list(response.json) == ["task"]
    assert re.fullmatch(rf"{re.escape(ids['node-2'])}:\d+", response.json["task"])
    assert wait_for_completion(cluster3, response.json["task"])["completed"] is True


def test_failing_children_fail_the_parent_with_their_error(cluster3: LocalCluster) -> None:
    ids = ids_by_name(cluster3)
    response = post(cluster3, "/_sim/tasks?duration=20ms&fail")
    assert response.status == 500
    reason = response.json["error"]["reason"]
    match = re.fullmatch(rf"simulated failure of task \[({re.escape(ids['node-1'])}:\d+)\]", reason)
    assert match, reason
    assert response.json == error_body("illegal_state_exception", reason, 500)


# ---- the task tree ------------------------------------------------------------------------------------------


def test_depth_two_tree_is_listed_with_statuses_and_headers(cluster3: LocalCluster) -> None:
    ids = ids_by_name(cluster3)
    names = {v: k for k, v in ids.items()}
    started = post(
        cluster3,
        "/_sim/tasks?duration=3s&depth=2&wait_for_completion=false",
        "node-2",
        headers={"X-Opaque-Id": "tree-1"},
    )
    assert started.status == 200, started.text
    parent_id = started.json["task"]

    def tree() -> list[dict[str, Any]] | None:
        listed = get(cluster3, "/_tasks?detailed&actions=cluster:admin/tasks/test*&group_by=none", "node-1")
        tasks = [t for t in listed.json["tasks"] if t["headers"].get("X-Opaque-Id") == "tree-1"]
        return tasks if len(tasks) == 7 else None

    tasks = wait_until(tree, timeout=2.5, what="the parent, 3 children and 3 grandchildren")
    by_id = {f"{t['node']}:{t['id']}": t for t in tasks}
    parent = by_id[parent_id]
    assert (parent["action"], parent["type"], parent["description"]) == (
        TEST,
        "transport",
        "test task on [node-1, node-2, node-3]",
    )
    assert parent["status"]["phase"] == "waiting_for_children" and parent["status"]["children"] == 3
    assert "parent_task_id" not in parent
    children = [t for t in tasks if t["action"] == TEST_N]
    assert sorted(names[c["node"]] for c in children) == list(NAMES)
    for child in children:
        assert child["parent_task_id"] == parent_id
        assert child["type"] == ("direct" if child["node"] == ids["node-2"] else "transport")
        assert child["description"] == f"test task on [{names[child['node']]}]"
        assert set(child["status"]) == {"phase", "elapsed_millis", "duration_millis", "checks"}
        assert child["status"]["duration_millis"] == 3000
    grandchildren = [t for t in tasks if t["action"] == TEST_NN]
    following = {"node-1": "node-2", "node-2": "node-3", "node-3": "node-1"}
    for grandchild in grandchildren:
        child = by_id[grandchild["parent_task_id"]]
        assert child["action"] == TEST_N
        assert names[grandchild["node"]] == following[names[child["node"]]]
        assert grandchild["type"] == "transport"
    assert len({g["parent_task_id"] for g in grandchildren}) == 3
    for task in tasks:
        assert task["headers"] == {"X-Opaque-Id": "tree-1"}
        assert task["cancellable"] is True and task["cancelled"] is False
    assert wait_for_completion(cluster3, parent_id)["response"]["_nodes"]["successful"] == 3


def test_non_cancellable_trees_are_not_cancellable_anywhere(cluster3: LocalCluster) -> None:
    started = post(cluster3, "/_sim/tasks?duration=2s&depth=2&cancellable=false&wait_for_completion=false")
    parent_id = started.json["task"]

    def tree() -> list[dict[str, Any]] | None:
        listed = get(cluster3, f"/_tasks?group_by=none&actions={TEST}*").json["tasks"]
        children = {f"{t['node']}:{t['id']}" for t in listed if t.get("parent_task_id") == parent_id}
        family = [t for t in listed if f"{t['node']}:{t['id']}" == parent_id or t.get("parent_task_id") in children]
        family += [t for t in listed if t.get("parent_task_id") == parent_id]
        return family if len(family) == 7 else None

    for task in wait_until(tree, timeout=1.0, what="the parent, its children and grandchildren"):
        assert task["cancellable"] is False and "cancelled" not in task
    assert wait_for_completion(cluster3, parent_id)["task"]["cancellable"] is False


def test_closing_the_connection_cancels_the_whole_tree(cluster3: LocalCluster) -> None:
    def listed() -> list[dict[str, Any]]:
        tasks = get(cluster3, f"/_tasks?group_by=none&actions={TEST}*").json["tasks"]
        return [t for t in tasks if t["headers"].get("X-Opaque-Id") == "hang-up"]

    parts = urlsplit(url(cluster3, "node-3"))
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", "/_sim/tasks?depth=2&check_interval=20ms", headers={"X-Opaque-Id": "hang-up"})
        wait_until(lambda: len(listed()) == 7, timeout=5.0, what="the whole tree to run")
    finally:
        conn.close()
    wait_until(lambda: not listed(), timeout=5.0, what="the tree of the closed request to finish")


# ---- parameters ---------------------------------------------------------------------------------------------


def test_depth_out_of_range_is_a_400(cluster3: LocalCluster) -> None:
    response = post(cluster3, "/_sim/tasks?depth=3")
    assert response.status == 400
    assert response.json == error_body("illegal_argument_exception", "[depth] must be 1 or 2 but was [3]", 400)


def test_unrecognized_parameter_is_a_400(cluster3: LocalCluster) -> None:
    response = post(cluster3, "/_sim/tasks?duraton=1s")
    assert response.status == 400
    reason = "request [/_sim/tasks] contains unrecognized parameter: [duraton] -> did you mean [duration]?"
    assert response.json == error_body("illegal_argument_exception", reason, 400)


def test_bad_time_value_is_a_400_and_starts_nothing(cluster3: LocalCluster) -> None:
    response = post(cluster3, "/_sim/tasks?duration=5&wait_for_completion=false")
    reason = "failed to parse setting [duration] with value [5] as a time value: unit is missing or unrecognized"
    assert response.json == error_body("illegal_argument_exception", reason, 400)
