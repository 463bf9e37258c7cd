"""Fixtures for tests that start real node processes through `cluster.launcher.LocalCluster`.

Every cluster here runs on ephemeral ports (`http_port=0`, `transport_port=0`) in a temporary home, with fast failure
detection (`FAST_FAILURE_DETECTION`: checks every 200 ms, a node is out after 3 failures), and is torn down in
`finally` whatever the test did. Fixtures are synchronous; async tests create their clients inside their own loop.

* `cluster3` (module scope): a formed 3-node cluster shared by the tests of one module. Treat it as read-only: do
  not kill, pause, restart or partition its nodes (use `fresh_cluster3`). Tasks a test starts should be finished or
  cancelled by that test.
* `fresh_cluster3` (function scope): a formed 3-node cluster of one's own; kill, pause and restart freely.
* `cluster_factory` (function scope): `cluster_factory(nodes=5, node_overrides={"node-5": {"roles": ("data",)}})`
  starts and forms any other shape; every cluster it made is stopped after the test.

Useful `LocalCluster` members: `endpoints()` (HTTP URLs of live nodes), `node("node-1").http_url`, `.node_id`,
`.pid`, `names`, `status()` (UP/DOWN/PAUSED per node, elected master), `kill_node(name, signal.SIGKILL)`,
`stop()` / `start()` / `wait_until_formed()` (a restart keeps node ids).

They are built on the pytest plugin users get with the package (`cluster.pytest_plugin`), which also adds to a
failed test's report the last 50 lines of every node's log of the clusters it used (and of a cluster that failed to
start in a fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from cluster.pytest_plugin import SimClusterFactory, start_cluster


def start_local_cluster(home: Path, nodes: int = 3, **kwargs: Any) -> LocalCluster:
    """Starts and forms a cluster on ephemeral ports (the pytest plugin's `start_cluster`, which users get too)."""
    return start_cluster(home, nodes, **kwargs)


class ClusterFactory(SimClusterFactory):
    """The plugin's factory, handing out the `LocalCluster`s themselves."""

    def __call__(self, nodes: int = 3, **kwargs: Any) -> LocalCluster:  # type: ignore[override]
        return self.start(nodes, **kwargs)


@pytest.fixture(scope="module")
def cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A formed 3-node cluster shared by the tests of one module; read-only (see the module docstring)."""
    cluster = start_local_cluster(tmp_path_factory.mktemp("cluster3-"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def fresh_cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A formed 3-node cluster for one test, which may kill, pause and restart its nodes."""
    cluster = start_local_cluster(tmp_path_factory.mktemp("fresh-cluster3-"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterFactory]:
    """Starts clusters of any shape for one test: `cluster_factory(nodes=5, node_overrides=...)`."""
    factory = ClusterFactory(tmp_path_factory)
    try:
        yield factory
    finally:
        factory.stop_all()
