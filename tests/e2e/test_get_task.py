"""`GET /_tasks/{task_id}` against real node processes (reference §10, §13, §19.2, §19.6, §20).

The read-only tests share one 3-node cluster; the ones about the `.tasks` index appearing, a full restart and a
killed node each get a fresh cluster.
"""

from __future__ import annotations

import re
import signal
from typing import Any

import pytest
from elasticsearch import Elasticsearch, NotFoundError

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until
from tests.support.nodes import node_id, url

pytestmark = pytest.mark.e2e

NAMES = ("node-1", "node-2", "node-3")
INDEX_NOT_FOUND = {
    "type": "index_not_found_exception",
    "reason": "no such index [.tasks]",
    "resource.type": "index_expression",
    "resource.id": ".tasks",
    "index_uuid": "_na_",
    "index": ".tasks",
}


def get(cluster: LocalCluster, path: str, name: str = "node-1", **kwargs: Any) -> Response:
    return call(url(cluster, name), "GET", path, **kwargs)


def start_test_task(cluster: LocalCluster, query: str, name: str = "node-1", **kwargs: Any) -> str:
    response = call(url(cluster, name), "POST", f"/_sim/tasks?wait_for_completion=false&{query}", **kwargs)
    assert response.status == 200, response.text
    return response.json["task"]  # type: ignore[no-any-return]


def completed(cluster: LocalCluster, task_id: str, name: str = "node-1") -> dict[str, Any]:
    response = get(cluster, f"/_tasks/{task_id}?wait_for_completion=true", name)
    assert response.status == 200, response.text
    return response.json  # type: ignore[no-any-return]


def not_stored(task_id: str, *, index_exists: bool) -> dict[str, Any]:
    """The 404 of a task neither running nor stored, whose node is in the cluster."""
    reason = f"task [{task_id}] isn't running and hasn't stored its results"
    if index_exists:
        root = {"type": "resource_not_found_exception", "reason": reason}
        return {"error": {"root_cause": [root], **root}, "status": 404}
    error = {"root_cause": [INDEX_NOT_FOUND], "type": "resource_not_found_exception", "reason": reason}
    return {"error": {**error, "caused_by": INDEX_NOT_FOUND}, "status": 404}


def departed(task_id: str, *, index_exists: bool) -> dict[str, Any]:
    """The 404 of reference §10.1 for a task whose node is not in the cluster."""
    node = task_id.partition(":")[0]
    inner = not_stored(task_id, index_exists=index_exists)["error"]
    root_cause = inner.pop("root_cause")
    reason = f"task [{task_id}] belongs to the node [{node}] which isn't part of the cluster and there is no record of the task"
    return {
        "error": {
            "root_cause": root_cause,
            "type": "resource_not_found_exception",
            "reason": reason,
            "caused_by": inner,
        },
        "status": 404,
    }


def error_body(type_: str, reason: str, status: int) -> dict[str, Any]:
    return {
        "error": {"root_cause": [{"type": type_, "reason": reason}], "type": type_, "reason": reason},
        "status": status,
    }


def ensure_tasks_index(cluster: LocalCluster) -> None:
    """Stores one result and waits until every node knows `.tasks` exists."""
    completed(cluster, start_test_task(cluster, "duration=0"))
    for name in NAMES:
        wait_until(
            lambda name=name: get(cluster, "/_tasks/foo:1", name).json == departed("foo:1", index_exists=True),
            timeout=5.0,
            what=f"{name} to know the .tasks index",
        )


# ---- running, then completed ----------------------------------------------------------------------------------


def test_running_task_is_reported_by_any_node_with_its_status(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=1s", headers={"X-Opaque-Id": "get-1"})
    for name in NAMES:
        response = get(cluster3, f"/_tasks/{task_id}", name)
        assert response.status == 200, response.text
        body = response.json
        assert list(body) == ["completed", "task"]
        assert body["completed"] is False
        task = body["task"]
        assert list(task) == [
            "node", "id", "type", "action", "status", "description", "start_time_in_millis",
            "running_time_in_nanos", "cancellable", "cancelled", "headers",
        ]  # fmt: skip
        assert f"{task['node']}:{task['id']}" == task_id
        assert (task["type"], task["action"]) == ("transport", "cluster:admin/tasks/test")
        assert task["status"] == {"phase": "waiting_for_children", "children": 3, "completed": 0}
        assert task["description"] == "test task on [node-1, node-2, node-3]"
        assert (task["cancellable"], task["cancelled"]) == (True, False)
        assert task["headers"] == {"X-Opaque-Id": "get-1"}
    body = completed(cluster3, task_id, "node-2")
    assert body["completed"] is True
    assert body["response"]["_nodes"] == {"total": 3, "successful": 3, "failed": 0}


def test_waiting_returns_the_stored_response(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=300ms")
    body = completed(cluster3, task_id, "node-3")
    assert list(body) == ["completed", "task", "response"]
    assert body["completed"] is True
    assert body["task"]["status"] == {"phase": "finished", "children": 3, "completed": 3}
    assert body["task"]["running_time_in_nanos"] >= 300_000_000
    assert body["task"]["cancelled"] is False
    assert body["response"]["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert set(body["response"]["nodes"]) == {node_id(cluster3, n) for n in NAMES}
    for name in NAMES:
        assert get(cluster3, f"/_tasks/{task_id}", name).json == body


def test_human_renders_the_task_times(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=0")
    completed(cluster3, task_id)
    task = get(cluster3, f"/_tasks/{task_id}?human", "node-2").json["task"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", task["start_time"])
    assert isinstance(task["running_time"], str)
    assert list(task).index("start_time") + 1 == list(task).index("start_time_in_millis")


def test_failing_task_stores_its_error(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=20ms&fail")
    body = completed(cluster3, task_id, "node-2")
    assert list(body) == ["completed", "task", "error"]
    assert body["task"]["status"]["phase"] == "failed"
    error = body["error"]
    assert list(error) == ["type", "reason"] and error["type"] == "illegal_state_exception"
    assert re.fullmatch(r"simulated failure of task \[[^:]+:\d+\]", error["reason"])


def test_cancelled_task_stores_the_cancellation_and_reads_back_as_not_cancelled(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "check_interval=20ms", "node-2")
    cancelled = call(url(cluster3, "node-2"), "POST", f"/_tasks/{task_id}/_cancel")
    assert cancelled.status == 200, cancelled.text
    body = completed(cluster3, task_id)
    assert body["error"] == {"type": "task_cancelled_exception", "reason": "task cancelled [by user request]"}
    assert body["task"]["status"]["phase"] == "cancelled"
    assert body["task"]["cancelled"] is False  # `.tasks` never stores it (reference §20.12)


def test_finished_task_without_stored_result_is_not_found(cluster3: LocalCluster) -> None:
    ensure_tasks_index(cluster3)
    response = call(url(cluster3, "node-1"), "POST", "/_sim/tasks?duration=0")
    child = response.json["nodes"][node_id(cluster3, "node-2")]["task"]
    for path in (f"/_tasks/{child}", f"/_tasks/{child}?wait_for_completion=true"):
        answer = get(cluster3, path, "node-3")
        assert (answer.status, answer.json) == (404, not_stored(child, index_exists=True))


def test_wait_times_out_with_429(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=2s", "node-1")
    response = get(cluster3, f"/_tasks/{task_id}?wait_for_completion=true&timeout=200ms", "node-1")
    assert response.status == 429
    assert response.json == error_body("timeout_exception", "timed out after [200ms/200ms]", 429)
    completed(cluster3, task_id)


# ---- ids and parameters ---------------------------------------------------------------------------------------


def test_node_outside_the_cluster_without_record(cluster3: LocalCluster) -> None:
    ensure_tasks_index(cluster3)
    response = get(cluster3, "/_tasks/foo:1", "node-2")
    assert (response.status, response.json) == (404, departed("foo:1", index_exists=True))


@pytest.mark.parametrize("task_id", ["unset", "abc:-1"])
def test_unset_id_fails_validation(cluster3: LocalCluster, task_id: str) -> None:
    response = get(cluster3, f"/_tasks/{task_id}")
    reason = "Validation Failed: 1: task id is required;"
    assert (response.status, response.json) == (400, error_body("action_request_validation_exception", reason, 400))


def test_get_of_cancel_path_is_a_malformed_id(cluster3: LocalCluster) -> None:
    response = get(cluster3, "/_tasks/_cancel")
    assert (response.status, response.json) == (
        400,
        error_body("illegal_argument_exception", "malformed task id _cancel", 400),
    )


def test_malformed_number_has_its_cause(cluster3: LocalCluster) -> None:
    response = get(cluster3, "/_tasks/abc:x")
    assert response.json["error"]["caused_by"] == {"type": "number_format_exception", "reason": 'For input string: "x"'}


def test_percent_encoded_colon_is_a_colon(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=0")
    body = completed(cluster3, task_id)
    encoded = task_id.replace(":", "%3A")
    assert get(cluster3, f"/_tasks/{encoded}", "node-3").json == body


@pytest.mark.parametrize("param", ["detailed", "group_by=parents", "nodes=_all", "actions=*"])
def test_list_parameters_are_unrecognized(cluster3: LocalCluster, param: str) -> None:
    task_id = f"{node_id(cluster3, 'node-1')}:1"
    response = get(cluster3, f"/_tasks/{task_id}?{param}")
    name = param.partition("=")[0]
    reason = f"request [/_tasks/{task_id}] contains unrecognized parameter: [{name}]"
    assert (response.status, response.json) == (400, error_body("illegal_argument_exception", reason, 400))


# The client flags the tasks API as "technical preview" on every call.
@pytest.mark.filterwarnings("ignore::elasticsearch.exceptions.GeneralAvailabilityWarning")
def test_official_client_tasks_get(cluster3: LocalCluster) -> None:
    task_id = start_test_task(cluster3, "duration=0")
    expected = completed(cluster3, task_id)
    with Elasticsearch(url(cluster3, "node-2")) as client:
        assert client.tasks.get(task_id=task_id).body == expected
        assert client.tasks.get(task_id=task_id, wait_for_completion=True, timeout="5s").body == expected
        with pytest.raises(NotFoundError) as raised:
            client.tasks.get(task_id="foo:1")
    assert raised.value.meta.status == 404


# ---- the .tasks index, restarts and dead nodes (fresh clusters) -------------------------------------------------


def test_not_found_carries_index_not_found_until_a_result_is_stored(fresh_cluster3: LocalCluster) -> None:
    cluster = fresh_cluster3
    owned = f"{node_id(cluster, 'node-1')}:999999"
    for name in NAMES:
        response = get(cluster, "/_tasks/foo:1", name)
        assert (response.status, response.json) == (404, departed("foo:1", index_exists=False))
        assert get(cluster, f"/_tasks/{owned}", name).json == not_stored(owned, index_exists=False)
    completed(cluster, start_test_task(cluster, "duration=0", "node-1"))
    # node-3 neither ran the task nor holds its replica (node-2 does); it learns about `.tasks` from the master.
    wait_until(
        lambda: get(cluster, "/_tasks/foo:1", "node-3").json == departed("foo:1", index_exists=True),
        timeout=5.0,
        what="node-3 to know the .tasks index",
    )
    assert get(cluster, f"/_tasks/{owned}", "node-3").json == not_stored(owned, index_exists=True)


def test_stored_result_survives_a_full_restart(fresh_cluster3: LocalCluster) -> None:
    cluster = fresh_cluster3
    # Task ids restart from 1 with the process, and a running task shadows a stored one with the same id
    # (reference §20.35): give the stored task an id the restarted node will not reach during this test.
    for _ in range(150):
        assert get(cluster, "/_tasks?nodes=_local&actions=none", "node-1").status == 200
    task_id = start_test_task(cluster, "duration=0", "node-1")
    assert int(task_id.partition(":")[2]) > 300
    body = completed(cluster, task_id)
    cluster.stop()
    cluster.start()
    cluster.wait_until_formed(30.0)
    for name in NAMES:
        assert get(cluster, f"/_tasks/{task_id}", name).json == body
        assert get(cluster, "/_tasks/foo:1", name).json == departed("foo:1", index_exists=True)


def test_stored_result_of_a_killed_node_is_returned_by_a_survivor(fresh_cluster3: LocalCluster) -> None:
    cluster = fresh_cluster3
    task_id = start_test_task(cluster, "duration=0", "node-1")
    body = completed(cluster, task_id)
    assert cluster.kill_node("node-1", signal.SIGKILL)
    # Whether node-1 is still in node-3's cluster state (unreachable owner) or already removed (departed owner),
    # the result comes from node-2, which holds the replica.
    response = wait_until(
        lambda: (r := get(cluster, f"/_tasks/{task_id}", "node-3")).status == 200 and r,
        timeout=10.0,
        what="a survivor to return the stored result",
    )
    assert response.json == body
