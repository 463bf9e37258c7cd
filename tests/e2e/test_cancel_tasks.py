"""Cancellation across real node processes (reference §11, §12, §20.4–20.7, §20.25–20.28)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until
from tests.support.nodes import node_id, url

pytestmark = pytest.mark.e2e

TEST = "cluster:admin/tasks/test"
FAST = {"fd_interval_ms": 200, "fd_timeout_ms": 400, "fd_retries": 2}


def start_cluster(home: Path) -> LocalCluster:
    c = LocalCluster(home, 3, http_port=0, transport_port=0, node_defaults=FAST)
    c.start()
    c.wait_until_formed(timeout=30)
    return c


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    c = start_cluster(Path(tmp_path_factory.mktemp("cancel")))
    try:
        yield c
    finally:
        c.stop()


def post(cluster: LocalCluster, path: str, name: str = "node-1", **kwargs: object) -> Response:
    return call(url(cluster, name), "POST", path, **kwargs)  # type: ignore[arg-type]


def get(cluster: LocalCluster, path: str, name: str = "node-1") -> Response:
    return call(url(cluster, name), "GET", path)


def start_test_task(cluster: LocalCluster, on: str, query: str = "") -> str:
    response = post(cluster, f"/_sim/tasks?wait_for_completion=false&{query}", on, headers={"X-Opaque-Id": "cancel-me"})
    assert response.status == 200, response.text
    return str(response.json["task"])


def running_test_tasks(cluster: LocalCluster, name: str = "node-1") -> list[dict[str, object]]:
    return list(get(cluster, "/_tasks?actions=cluster:admin/tasks/test*&group_by=none&detailed", name).json["tasks"])


def children_running(cluster: LocalCluster, parent: str, count: int) -> bool:
    return sum(1 for t in running_test_tasks(cluster) if t.get("parent_task_id") == parent) == count


def test_cancel_from_an_uninvolved_node_with_wait_removes_every_descendant(cluster: LocalCluster) -> None:
    parent = start_test_task(cluster, "node-1", "nodes=node-1,node-2&depth=2")
    wait_until(lambda: children_running(cluster, parent, 2), 10, what="two children")
    response = post(cluster, f"/_tasks/{parent}/_cancel?wait_for_completion=true", "node-3")
    assert response.status == 200
    body = response.json
    (entry,) = body["nodes"].values()
    (cancelled,) = entry["tasks"].values()
    assert cancelled["action"] == TEST and cancelled["cancelled"] is True
    assert cancelled["headers"] == {"X-Opaque-Id": "cancel-me"}
    assert "description" not in cancelled and "status" not in cancelled
    # wait_for_completion=true: the parent, its children and grandchildren are gone from every node
    for name in ("node-1", "node-2", "node-3"):
        assert running_test_tasks(cluster, name) == []


def test_cancel_without_wait_reports_cancelled_and_descendants_go_away(cluster: LocalCluster) -> None:
    parent = start_test_task(cluster, "node-2", "check_interval=50ms")
    wait_until(lambda: children_running(cluster, parent, 3), 10, what="three children")
    response = post(cluster, f"/_tasks/{parent}/_cancel", "node-1")
    (entry,) = response.json["nodes"].values()
    assert [t["cancelled"] for t in entry["tasks"].values()] == [True]
    wait_until(lambda: running_test_tasks(cluster) == [], 10, what="all test tasks gone")


def test_cancel_by_action_filter_cancels_the_whole_tree(cluster: LocalCluster) -> None:
    start_test_task(cluster, "node-3")
    wait_until(lambda: len(running_test_tasks(cluster)) == 4, 10, what="parent and three children")
    body = post(cluster, "/_tasks/_cancel?actions=cluster:admin/tasks/test", "node-2").json
    cancelled = [t for n in body["nodes"].values() for t in n["tasks"].values()]
    assert [t["action"] for t in cancelled] == [TEST]
    wait_until(lambda: running_test_tasks(cluster) == [], 10, what="all test tasks gone")


def test_closing_the_http_connection_cancels_the_task_and_its_descendants(cluster: LocalCluster) -> None:
    def waiting_request() -> None:
        with contextlib.suppress(OSError):  # the client gives up after one second and closes the connection
            post(cluster, "/_sim/tasks", "node-1", timeout=1.0)

    client = threading.Thread(target=waiting_request)
    client.start()
    try:
        wait_until(lambda: len(running_test_tasks(cluster)) == 4, 10, what="parent and three children")
    finally:
        client.join()
    wait_until(lambda: running_test_tasks(cluster) == [], 10, what="all test tasks gone after the client left")


def test_not_cancellable_and_filter_mismatch_are_node_failures(cluster: LocalCluster) -> None:
    parent = start_test_task(cluster, "node-1", "cancellable=false&nodes=_local&duration=3s")
    try:
        body = post(cluster, f"/_tasks/{parent}/_cancel").json
        assert body["nodes"] == {}
        assert body["node_failures"][0]["caused_by"] == {
            "type": "illegal_argument_exception",
            "reason": f"task [{parent}] doesn't support cancellation",
        }
    finally:
        wait_until(lambda: running_test_tasks(cluster) == [], 10, what="the non-cancellable task to finish")
    parent = start_test_task(cluster, "node-1", "nodes=_local")
    try:
        body = post(cluster, f"/_tasks/{parent}/_cancel?actions=nope").json
        assert body["node_failures"][0]["caused_by"] == {
            "type": "illegal_argument_exception",
            "reason": f"task [{parent}] doesn't support this operation",
        }
    finally:
        post(cluster, f"/_tasks/{parent}/_cancel?wait_for_completion=true")


def test_unknown_task_and_unknown_node(cluster: LocalCluster) -> None:
    nid = node_id(cluster, "node-2")
    body = post(cluster, f"/_tasks/{nid}:999999/_cancel").json
    assert body == {
        "node_failures": [
            {
                "type": "failed_node_exception",
                "reason": f"Failed node [{nid}]",
                "node_id": nid,
                "caused_by": {"type": "resource_not_found_exception", "reason": f"task [{nid}:999999] is not found"},
            }
        ],
        "nodes": {},
    }
    assert post(cluster, "/_tasks/foo:1/_cancel").json["node_failures"][0]["caused_by"] == {
        "type": "no_such_node_exception",
        "reason": "No such node [foo]",
        "node_id": "foo",
    }


def test_validation_and_parameters(cluster: LocalCluster) -> None:
    nid = node_id(cluster, "node-1")
    response = post(cluster, f"/_tasks/{nid}:1/_cancel?nodes=node-1")
    assert response.status == 400
    assert response.json["error"]["reason"] == "Validation Failed: 1: task id cannot be used together with node ids;"
    response = post(cluster, "/_tasks/_cancel?timeout=5s")
    assert response.status == 400
    assert response.json["error"]["reason"] == "request [/_tasks/_cancel] contains unrecognized parameter: [timeout]"
    assert post(cluster, "/_tasks/_cancel?actions=unknown_action").json == {"nodes": {}}
    assert post(cluster, "/_tasks/unset/_cancel?actions=unknown_action").json == {"nodes": {}}
    assert post(cluster, "/_tasks/_cancel?group_by=none&actions=unknown_action").json == {"tasks": []}


def test_wrong_methods(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks/x:1/_cancel")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"


def test_killing_the_coordinator_cancels_its_children_on_the_survivors(tmp_path: Path) -> None:
    c = start_cluster(tmp_path / "kill")
    try:
        parent = start_test_task(c, "node-3")
        wait_until(lambda: children_running(c, parent, 3), 10, what="three children")
        c.kill_node("node-3", signal.SIGKILL)
        wait_until(
            lambda: running_test_tasks(c, "node-1") == [] and running_test_tasks(c, "node-2") == [],
            15,
            what="children on the survivors to go away",
        )
    finally:
        c.stop()
