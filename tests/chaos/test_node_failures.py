"""Killed, restarted and paused node processes: failover, rejoin, and what the tasks APIs answer meanwhile."""

from __future__ import annotations

import time

import pytest

from cluster.launcher import LocalCluster
from tests.chaos.conftest import (
    assert_no_split_brain,
    get,
    master_of,
    node_ids,
    post,
    test_tasks,
    wait_for_master,
    wait_for_nodes,
)
from tests.support.http import wait_until

pytestmark = pytest.mark.chaos

NAMES = ("node-1", "node-2", "node-3")
# A request with `timeout=1s` must answer within its timeout plus this: generous for two busy cores.
MARGIN_S = 5.0


def newest_task_number(cluster: LocalCluster, name: str) -> int:
    """The highest task id the node `name` has handed out so far (its own list request's `[n]` task)."""
    response = get(cluster, name, "/_tasks?nodes=_local&group_by=none")
    assert response.status == 200, response.text
    return max(int(task["id"]) for task in response.json["tasks"])


def test_killing_the_master_elects_another_and_the_old_one_rejoins_with_its_id(chaos_cluster: LocalCluster) -> None:
    old = wait_for_master(chaos_cluster, NAMES)
    ids_before = node_ids(chaos_cluster)
    for _ in range(300):  # push the old master's task ids well above what it uses while it starts and rejoins
        assert get(chaos_cluster, old, "/_tasks?nodes=_local").status == 200
    ids_used = newest_task_number(chaos_cluster, old)

    assert chaos_cluster.kill_node(old)
    survivors = [n for n in NAMES if n != old]
    started = time.monotonic()
    for name in survivors:  # answered at once, with or without the dead node as a failure
        response = get(chaos_cluster, name, "/_tasks?timeout=1s")
        assert response.status == 200, response.text
    assert time.monotonic() - started < 2 * (1 + MARGIN_S)
    new = wait_for_master(chaos_cluster, survivors)
    assert new != old

    assert chaos_cluster.start_node(old)
    wait_for_master(chaos_cluster, NAMES)
    for name in NAMES:
        wait_for_nodes(chaos_cluster, name, 3)
    assert node_ids(chaos_cluster) == ids_before
    assert newest_task_number(chaos_cluster, old) < ids_used, "task ids start again at 1 after a restart"
    assert_no_split_brain(chaos_cluster)


def test_killing_a_coordinator_cancels_its_children_on_the_other_nodes(chaos_cluster: LocalCluster) -> None:
    ids = node_ids(chaos_cluster)
    response = post(chaos_cluster, "node-2", "/_sim/tasks?wait_for_completion=false&duration=-1&depth=2")
    assert response.status == 200, response.text
    parent = response.json["task"]
    assert parent.startswith(f"{ids['node-2']}:")
    for name in ("node-1", "node-3"):
        wait_until(lambda name=name: test_tasks(chaos_cluster, name), 10.0, what=f"children on {name}")

    assert chaos_cluster.kill_node("node-2")
    for name in ("node-1", "node-3"):
        wait_until(
            lambda name=name: not test_tasks(chaos_cluster, name), 15.0, what=f"no orphaned child task on {name}"
        )
    wait_for_master(chaos_cluster, ["node-1", "node-3"])
    assert_no_split_brain(chaos_cluster)


def test_a_paused_node_is_a_node_failure_within_the_timeout_then_leaves_and_returns(
    chaos_cluster: LocalCluster,
) -> None:
    ids = node_ids(chaos_cluster)
    master = wait_for_master(chaos_cluster, NAMES)
    paused = next(n for n in reversed(NAMES) if n != master)
    asker = next(n for n in NAMES if n != paused)

    assert chaos_cluster.pause_node(paused)
    try:
        assert chaos_cluster.status().node(paused).state.value == "PAUSED"
        started = time.monotonic()
        response = get(chaos_cluster, asker, "/_tasks?timeout=1s", timeout=1 + MARGIN_S + 5)
        took = time.monotonic() - started
        assert response.status == 200, response.text
        assert took < 1 + MARGIN_S, f"GET /_tasks?timeout=1s took {took:.1f}s"
        (failure,) = response.json["node_failures"]
        assert failure["node_id"] == ids[paused]
        assert failure["type"] == "failed_node_exception"
        assert failure["caused_by"]["type"] in ("receive_timeout_transport_exception", "node_disconnected_exception")
        assert set(response.json["nodes"]) == {ids[n] for n in NAMES if n != paused}

        wait_for_nodes(chaos_cluster, asker, 2)  # fault detection removed it
        response = get(chaos_cluster, asker, "/_tasks?timeout=1s")
        assert response.status == 200 and "node_failures" not in response.json
    finally:
        chaos_cluster.resume_node(paused)
    for name in NAMES:
        wait_for_nodes(chaos_cluster, name, 3)
    assert master_of(chaos_cluster, paused) is not None
    assert_no_split_brain(chaos_cluster)


def test_a_gracefully_restarted_master_hands_over_and_rejoins_with_its_id(chaos_cluster: LocalCluster) -> None:
    ids = node_ids(chaos_cluster)
    old = wait_for_master(chaos_cluster, NAMES)
    old_pid = chaos_cluster.node(old).pid
    chaos_cluster.restart_node(old)
    assert chaos_cluster.node(old).pid != old_pid
    for name in NAMES:
        wait_for_nodes(chaos_cluster, name, 3)
    wait_for_master(chaos_cluster, NAMES)
    response = get(chaos_cluster, old, "/_cat/nodes?h=id,name&full_id&format=json")
    assert response.status == 200, response.text
    assert {row["name"]: row["id"] for row in response.json} == ids
    assert_no_split_brain(chaos_cluster)
