"""Cancelling a task tree while a link is slow: the ban arrives late, the cancel still completes, nothing is left."""

from __future__ import annotations

import time

import pytest

from cluster.disruption import link
from cluster.fault_client import FaultOptions, fault_bodies, install_faults, list_faults
from cluster.launcher import LocalCluster
from tests.chaos.conftest import get, node_ids, post, test_tasks
from tests.support.http import wait_until

pytestmark = pytest.mark.chaos

NAMES = ("node-1", "node-2", "node-3")
BAN = "internal:admin/tasks/ban"
DELAY_MS = 1000
MARGIN_S = 10.0


def test_cancel_through_a_delayed_link_completes_and_leaves_no_children(chaos_cluster: LocalCluster) -> None:
    ids = node_ids(chaos_cluster)
    response = post(chaos_cluster, "node-1", "/_sim/tasks?wait_for_completion=false&duration=-1")
    assert response.status == 200, response.text
    parent = response.json["task"]
    for name in ("node-2", "node-3"):
        wait_until(lambda name=name: test_tasks(chaos_cluster, name), 10.0, what=f"the child on {name}")

    records = chaos_cluster.nodes
    options = FaultOptions(kind="delay", delay_ms=DELAY_MS, actions=(BAN,))
    bodies = fault_bodies(
        link("node-1", "node-2", NAMES), options, {r.name: r.transport_address for r in records}, "slow-ban"
    )
    assert all(a.ok for a in install_faults(records, bodies))

    started = time.monotonic()
    response = post(chaos_cluster, "node-1", f"/_tasks/{parent}/_cancel?wait_for_completion=true", timeout=60.0)
    took = time.monotonic() - started
    assert response.status == 200, response.text
    assert took < DELAY_MS / 1000 + MARGIN_S, f"the cancel took {took:.1f}s"
    assert set(response.json["nodes"]) == {ids["node-1"]}

    (node_1,) = [a for a in list_faults(records) if a.name == "node-1"]
    assert node_1.faults[0]["affected_requests"] >= 1, "the ban to node-2 went through the delay"
    for name in NAMES:
        wait_until(lambda name=name: not test_tasks(chaos_cluster, name), 15.0, what=f"no test task left on {name}")

    for name in NAMES:  # the stored result is readable from every node
        stored = get(chaos_cluster, name, f"/_tasks/{parent}")
        assert stored.status == 200, stored.text
        assert stored.json["completed"] is True
        assert stored.json["error"]["type"] == "task_cancelled_exception"
