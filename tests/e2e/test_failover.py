"""What survivors answer after a node is SIGKILLed (issue: foundation, "Done when")."""

from __future__ import annotations

import signal
import time

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import call, wait_until

pytestmark = pytest.mark.e2e

LIST_N = "cluster:monitor/tasks/lists[n]"


def master_seen_by(cluster: LocalCluster, name: str) -> str | None:
    url = cluster.node(name).http_url
    assert url is not None
    rows = call(url, "GET", "/_cat/master?format=json", timeout=5).json
    return None if rows[0]["node"] == "-" else str(rows[0]["node"])


def test_killing_the_master_elects_a_new_one_and_survivors_list_each_other(fresh_cluster3: LocalCluster) -> None:
    c = fresh_cluster3
    old_master = c.status().master
    assert old_master is not None
    survivors = [n for n in c.names if n != old_master]
    c.kill_node(old_master, signal.SIGKILL)
    killed_at = time.monotonic()

    def new_master() -> str | None:
        seen = {master_seen_by(c, name) for name in survivors}
        return seen.pop() if len(seen) == 1 and None not in seen and old_master not in seen else None

    elected = wait_until(new_master, 10, what="a new master on both survivors")
    assert elected in survivors
    assert time.monotonic() - killed_at < 10
    survivor_ids = {c.node(n).node_id for n in survivors}
    for name in survivors:
        url = c.node(name).http_url
        assert url is not None

        def both_listed(url: str = url) -> bool:
            response = call(url, "GET", "/_tasks", timeout=10)
            assert response.status == 200
            return set(response.json["nodes"]) == survivor_ids

        wait_until(both_listed, 10, what=f"{name} to list both survivors")


def test_a_killed_non_master_never_makes_a_request_hang(fresh_cluster3: LocalCluster) -> None:
    c = fresh_cluster3
    master = c.status().master
    victim = next(n for n in c.names if n != master)
    other = next(n for n in c.names if n not in (master, victim))
    victim_id = c.node(victim).node_id
    c.kill_node(victim, signal.SIGKILL)
    url = c.node(other).http_url
    assert url is not None
    started = time.monotonic()
    response = call(url, "GET", "/_tasks?timeout=2s", timeout=10)
    assert time.monotonic() - started < 5
    assert response.status == 200
    body = response.json
    assert victim_id not in body["nodes"]
    for failure in body.get("node_failures", []):
        assert failure["node_id"] == victim_id
        assert failure["type"] == "failed_node_exception"
    wait_until(
        lambda: victim_id not in call(url, "GET", "/_nodes", timeout=5).json["nodes"],
        10,
        what="the dead node to leave the cluster state",
    )
    tasks = call(url, "GET", "/_tasks?group_by=none", timeout=5).json["tasks"]
    assert sum(1 for t in tasks if t["action"] == LIST_N) == 2
