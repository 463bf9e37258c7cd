"""Network partitions between real node processes: a minority never has a master, a majority keeps or elects one,
never two in one term, and everything heals (Jepsen's `:one` and `bridge`, ES `TwoPartitions` and `Bridge`)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from cluster.disruption import Link, bridge, isolate, link
from cluster.fault_client import FaultOptions, fault_bodies, heal_faults, install_faults
from cluster.launcher import LocalCluster
from tests.chaos.conftest import (
    assert_no_split_brain,
    get,
    master_of,
    masters,
    node_ids,
    wait_for_master,
    wait_for_nodes,
)
from tests.support.http import wait_until

pytestmark = pytest.mark.chaos

NAMES = ("node-1", "node-2", "node-3")
MARGIN_S = 5.0


def disrupt(cluster: LocalCluster, links: Sequence[Link], options: FaultOptions) -> None:
    records = cluster.nodes
    bodies = fault_bodies(links, options, {r.name: r.transport_address for r in records}, "test")
    answers = install_faults(records, bodies)
    assert all(a.ok for a in answers), answers


def heal_and_wait(cluster: LocalCluster) -> str:
    answers = heal_faults(cluster.nodes)
    assert all(a.ok for a in answers), answers
    for name in NAMES:
        wait_for_nodes(cluster, name, 3)
    return wait_for_master(cluster, NAMES)


def assert_list_answers_in_time(cluster: LocalCluster, name: str) -> dict[str, object]:
    started = time.monotonic()
    response = get(cluster, name, "/_tasks?timeout=1s", timeout=1 + MARGIN_S + 5)
    took = time.monotonic() - started
    assert response.status == 200, response.text
    assert took < 1 + MARGIN_S, f"GET /_tasks?timeout=1s on {name} took {took:.1f}s"
    return response.json  # type: ignore[no-any-return]


def test_partition_1_2_isolating_the_master_moves_mastership_to_the_majority(chaos_cluster: LocalCluster) -> None:
    ids = node_ids(chaos_cluster)
    old = wait_for_master(chaos_cluster, NAMES)
    majority = [n for n in NAMES if n != old]
    disrupt(chaos_cluster, isolate(old, NAMES), FaultOptions(kind="blackhole"))

    new = wait_for_master(chaos_cluster, majority)
    assert new != old
    wait_until(lambda: master_of(chaos_cluster, old) is None, 30.0, what=f"the isolated {old} to step down")
    for _ in range(5):  # stays so while the partition lasts
        seen = masters(chaos_cluster, NAMES)
        assert seen[old] is None and {seen[n] for n in majority} == {new}, seen
        time.sleep(0.2)
    body = assert_list_answers_in_time(chaos_cluster, old)
    assert {f["node_id"] for f in body.get("node_failures", [])} <= {ids[n] for n in majority}

    heal_and_wait(chaos_cluster)
    assert_no_split_brain(chaos_cluster)


def test_partition_2_1_keeps_the_master_on_the_majority_side(chaos_cluster: LocalCluster) -> None:
    ids = node_ids(chaos_cluster)
    master = wait_for_master(chaos_cluster, NAMES)
    alone = next(n for n in reversed(NAMES) if n != master)
    majority = [n for n in NAMES if n != alone]
    disrupt(chaos_cluster, isolate(alone, NAMES), FaultOptions(kind="disconnect"))

    wait_for_nodes(chaos_cluster, master, 2)
    assert wait_for_master(chaos_cluster, majority) == master
    wait_until(lambda: master_of(chaos_cluster, alone) is None, 30.0, what=f"the isolated {alone} to lose its master")
    body = assert_list_answers_in_time(chaos_cluster, alone)
    failures = {f["node_id"]: f["caused_by"]["type"] for f in body.get("node_failures", [])}
    assert set(failures) <= {ids[n] for n in majority}
    assert set(failures.values()) <= {"node_disconnected_exception"}

    heal_and_wait(chaos_cluster)
    assert_no_split_brain(chaos_cluster)


def test_a_bridge_keeps_a_master_through_the_bridge_node_and_heals(chaos_cluster: LocalCluster) -> None:
    disrupt(chaos_cluster, bridge(["node-1"], "node-2", ["node-3"], NAMES), FaultOptions(kind="blackhole"))

    def bridged_master() -> str | None:
        master = master_of(chaos_cluster, "node-2")
        return master if master is not None and master_of(chaos_cluster, master) == master else None

    # node-2 reaches everyone, so it always ends up with a master that has a quorum: itself, node-1 or node-3.
    wait_until(bridged_master, 30.0, interval=0.2, what="the bridge node to follow a master with a quorum")
    heal_and_wait(chaos_cluster)
    assert_no_split_brain(chaos_cluster)


def test_a_black_holed_link_is_a_node_failure_within_the_request_timeout(chaos_cluster: LocalCluster) -> None:
    ids = node_ids(chaos_cluster)
    options = FaultOptions(kind="blackhole", actions=("cluster:monitor/tasks/*",))
    disrupt(chaos_cluster, link("node-1", "node-3", NAMES), options)
    body = assert_list_answers_in_time(chaos_cluster, "node-1")
    (failure,) = body["node_failures"]
    assert failure["node_id"] == ids["node-3"]
    assert failure["caused_by"]["type"] == "receive_timeout_transport_exception"
    assert failure["caused_by"]["reason"].endswith("timed out after [1000ms]")
    assert set(body["nodes"]) == {ids["node-1"], ids["node-2"]}
    heal_and_wait(chaos_cluster)
    assert "node_failures" not in assert_list_answers_in_time(chaos_cluster, "node-1")
