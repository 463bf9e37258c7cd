"""A paused (SIGSTOPped) node delays no fan-out past its per-node timeout.

Fault detection here is slow on purpose (a paused follower is removed only after three 3 s checks), so every answer
below comes from the per-node timeout (`node_request_timeout_ms`, 1 s here), not from the node leaving the cluster:
the node is a `failed_node_exception` caused by `receive_timeout_transport_exception` where ES lists node failures,
an empty row in `_cat/nodes`, and resumed in time it never leaves the cluster.
"""

from __future__ import annotations

import time

import pytest

from cluster.launcher import LocalCluster
from tests.chaos.conftest import get, node_ids, post, test_tasks, wait_for_master, wait_for_nodes
from tests.e2e.conftest import ClusterFactory, cluster_factory  # noqa: F401 - the fixture
from tests.support.http import Response, wait_until

pytestmark = pytest.mark.chaos

NAMES = ("node-1", "node-2", "node-3")
NODE_TIMEOUT_S = 1.0
# A follower that does not answer is removed after 3 checks of 3 s: far longer than the whole paused phase.
SLOW_DETECTION = {
    "fd_interval_ms": 500,
    "fd_timeout_ms": 3000,
    "fd_retries": 3,
    "publish_timeout_ms": 5000,
    "node_request_timeout_ms": int(NODE_TIMEOUT_S * 1000),
}
# What an answer bounded by the per-node timeout may take on two busy cores.
MARGIN_S = 3.0


def timed_get(cluster: LocalCluster, name: str, path: str, bound: float) -> Response:
    started = time.monotonic()
    response = get(cluster, name, path, timeout=bound + 20)
    took = time.monotonic() - started
    assert took < bound + MARGIN_S, f"GET {path} took {took:.1f}s"
    return response


def test_a_paused_node_is_a_failed_node_within_the_timeout_and_stays_in_the_cluster(
    cluster_factory: ClusterFactory,  # noqa: F811 - the fixture imported above
) -> None:
    cluster = cluster_factory(node_defaults=SLOW_DETECTION)
    ids = node_ids(cluster)
    master = wait_for_master(cluster, NAMES)
    paused = next(n for n in reversed(NAMES) if n != master)
    asker = next(n for n in NAMES if n not in (paused, master))
    started = post(cluster, paused, "/_sim/tasks?wait_for_completion=false&duration=-1")
    assert started.status == 200, started.text
    task_id = started.json["task"]
    wait_until(lambda: test_tasks(cluster, asker), 10, what="the test task's child on the asking node")
    # Connections up between every pair (a channel still connecting when its peer is paused fails fast instead).
    for name in NAMES:
        wait_until(
            lambda name=name: "node_failures" not in get(cluster, name, "/_tasks").json, 10, what=f"{name} to reach all"
        )

    assert cluster.pause_node(paused)
    paused_at = time.monotonic()
    try:
        rows = timed_get(cluster, asker, "/_cat/nodes?format=json&h=id,name,heap.percent,uptime&full_id", 1.0)
        assert rows.status == 200, rows.text
        row = next(r for r in rows.json if r["id"] == ids[paused])
        assert (row["name"], row["heap.percent"], row["uptime"]) == (paused, None, None)
        assert all(r["uptime"] is not None for r in rows.json if r["id"] != ids[paused])

        listed = timed_get(cluster, asker, "/_tasks", NODE_TIMEOUT_S)
        assert listed.status == 200, listed.text
        (failure,) = listed.json["node_failures"]
        assert (failure["type"], failure["reason"], failure["node_id"]) == (
            "failed_node_exception",
            f"Failed node [{ids[paused]}]",
            ids[paused],
        )
        assert failure["caused_by"]["type"] == "receive_timeout_transport_exception"
        assert set(listed.json["nodes"]) == {ids[n] for n in NAMES if n != paused}

        # Forwarded to an owner that does not answer: treated like an owner that left (no stored result, so ES's
        # 404), after the forward and the stored-result lookup have each waited the per-node timeout.
        got = timed_get(cluster, asker, f"/_tasks/{task_id}", 2 * NODE_TIMEOUT_S)
        assert got.status == 404, got.text
        assert got.json["error"]["type"] == "resource_not_found_exception"
        assert got.json["error"]["reason"] == (
            f"task [{task_id}] belongs to the node [{ids[paused]}] which isn't part of the cluster "
            "and there is no record of the task"
        )
        # With its own timeout the caller gets ES's transport timeout instead.
        bounded = timed_get(cluster, asker, f"/_tasks/{task_id}?timeout=1s", 1.0)
        assert bounded.json["error"]["type"] == "receive_timeout_transport_exception", bounded.text
        assert time.monotonic() - paused_at < 9, "the paused phase outlasted fault detection"
    finally:
        cluster.resume_node(paused)

    for name in NAMES:
        wait_for_nodes(cluster, name, 3)
    # Never removed: its task and that task's children on the other nodes still run (a node that left the cluster
    # would have had them cancelled there).
    got = get(cluster, asker, f"/_tasks/{task_id}")
    assert got.status == 200 and got.json["completed"] is False, got.text
    assert test_tasks(cluster, asker)
    assert post(cluster, asker, f"/_tasks/{task_id}/_cancel").status == 200
