"""Fixtures and probes of the chaos suite: real node processes, real signals, real fault rules.

Every test gets a fresh 3-node cluster (`chaos_cluster`) on ephemeral ports with fast failure detection
(`FAST_FAILURE_DETECTION`: checks every 200 ms, out after 3 failures), torn down in `finally`. The probes poll with
deadlines; the only timing assertions are "did not hang past its timeout" bounds with generous margins, because
two cores shared with other test runs make every latency noisy.

What the cluster must guarantee (DESIGN §3–§5) is checked with:

* `masters(cluster, names)`: the master each node sees (`GET /_cat/master`), for "the minority has none";
* `assert_no_split_brain(cluster)`: no term in which two nodes were elected, read from every node's log;
* `test_tasks(cluster, name)`: the test tasks a node still runs, for "no orphaned child tasks".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from cluster.logs import masters_by_term, read_log
from tests.e2e.conftest import start_local_cluster
from tests.support.http import Response, call, wait_until

__all__ = [
    "CHAOS_SETTINGS",
    "assert_no_split_brain",
    "get",
    "master_of",
    "masters",
    "node_ids",
    "post",
    "test_tasks",
    "wait_for_master",
    "wait_for_nodes",
]

CHAOS_SETTINGS: dict[str, int] = {**FAST_FAILURE_DETECTION, "publish_timeout_ms": 5000}
# Time a scenario may take to settle (a failover, a rejoin) before the test fails; far above what it needs.
SETTLE_S = 30.0
TEST_ACTIONS = "cluster:admin/tasks/test*"


@pytest.fixture
def chaos_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A formed 3-node cluster of one's own: kill, pause, partition and restart freely."""
    cluster = start_local_cluster(tmp_path_factory.mktemp("chaos-"), node_defaults=CHAOS_SETTINGS)
    try:
        yield cluster
    finally:
        cluster.stop(timeout=5.0)


def url(cluster: LocalCluster, name: str) -> str:
    http_url = cluster.node(name).http_url
    assert http_url is not None
    return http_url


def get(cluster: LocalCluster, name: str, path: str, timeout: float = 20.0) -> Response:
    return call(url(cluster, name), "GET", path, timeout=timeout)


def post(cluster: LocalCluster, name: str, path: str, body: Any = None, timeout: float = 20.0) -> Response:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else None
    return call(url(cluster, name), "POST", path, body=data, headers=headers, timeout=timeout)


def node_ids(cluster: LocalCluster) -> dict[str, str]:
    ids = {}
    for record in cluster.nodes:
        assert record.node_id is not None
        ids[record.name] = record.node_id
    return ids


def master_of(cluster: LocalCluster, name: str) -> str | None:
    """The name of the master node `name` follows, `None` when it knows none or does not answer."""
    try:
        response = get(cluster, name, "/_cat/master?format=json", timeout=5.0)
    except OSError:
        return None
    if response.status != 200 or not response.json:
        return None
    entry = response.json[0]
    return None if entry.get("id") in (None, "-") else str(entry["node"])


def masters(cluster: LocalCluster, names: Sequence[str]) -> dict[str, str | None]:
    return {name: master_of(cluster, name) for name in names}


def wait_for_master(cluster: LocalCluster, names: Sequence[str], timeout: float = SETTLE_S) -> str:
    """Waits until every node of `names` follows the same master, one of `names`; returns its name."""

    def agreed() -> str | None:
        seen = set(masters(cluster, names).values())
        if len(seen) == 1:
            (master,) = seen
            return master if master in names else None
        return None

    return wait_until(agreed, timeout, interval=0.1, what=f"one master among {list(names)}")


def wait_for_nodes(cluster: LocalCluster, name: str, count: int, timeout: float = SETTLE_S) -> None:
    """Waits until node `name` has a master and sees exactly `count` nodes."""

    def seen() -> bool:
        try:
            response = get(cluster, name, "/_cluster/health?timeout=1s&master_timeout=1s", timeout=5.0)
        except OSError:
            return False
        return response.status == 200 and response.json["number_of_nodes"] == count

    wait_until(seen, timeout, interval=0.1, what=f"{name} to see {count} nodes")


def test_tasks(cluster: LocalCluster, name: str) -> list[dict[str, Any]]:
    """The test tasks (`cluster:admin/tasks/test*`) running on node `name`, seen from itself."""
    response = get(cluster, name, f"/_tasks?nodes=_local&actions={TEST_ACTIONS}&group_by=none&detailed", timeout=10.0)
    assert response.status == 200, response.text
    return list(response.json["tasks"])


test_tasks.__test__ = False  # type: ignore[attr-defined]  # a probe, not a test


def assert_no_split_brain(cluster: LocalCluster) -> dict[int, set[str]]:
    """Fails if any term saw two elected masters, according to every node's log; returns masters by term."""
    logs = {record.name: read_log(record.log_file) for record in cluster.nodes}
    by_term = masters_by_term(logs)
    split = {term: sorted(m) for term, m in by_term.items() if len(m) > 1}
    assert not split, f"two masters in one term: {split}"
    return by_term
