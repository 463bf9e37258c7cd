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

When a test fails, the report shows the last 50 lines of every node's log of the clusters it used (and of a cluster
that failed to start in a fixture).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cluster.errors import ClusterError
from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster

FORM_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 50


def start_local_cluster(home: Path, nodes: int = 3, **kwargs: Any) -> LocalCluster:
    """Starts and forms a cluster on ephemeral ports; on failure nothing is left running."""
    settings: dict[str, Any] = {"http_port": 0, "transport_port": 0, "node_defaults": FAST_FAILURE_DETECTION}
    settings.update(kwargs)
    cluster = LocalCluster(home, nodes, **settings)
    cluster.start()
    try:
        cluster.wait_until_formed(FORM_TIMEOUT_S)
    except BaseException:
        cluster.stop()
        raise
    return cluster


class ClusterFactory:
    """Starts clusters for one test and remembers them so the fixture can stop them and the report show their logs."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self.clusters: list[LocalCluster] = []

    def __call__(
        self, nodes: int = 3, *, node_overrides: Mapping[str, Mapping[str, Any]] | None = None, **kwargs: Any
    ) -> LocalCluster:
        home = self._tmp_path_factory.mktemp(f"cluster{nodes}-")
        cluster = start_local_cluster(home, nodes, node_overrides=node_overrides, **kwargs)
        self.clusters.append(cluster)
        return cluster

    def stop_all(self) -> None:
        for cluster in self.clusters:
            cluster.stop()


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Adds the tail of every involved node's log to the report of a failed test (setup, call or teardown)."""
    report = yield
    if report.failed:
        if call.excinfo is not None and isinstance(call.excinfo.value, ClusterError):
            for name, lines in call.excinfo.value.log_tails.items():
                report.sections.append((f"log of {name} (cluster that failed to start)", "\n".join(lines)))
        for cluster in _clusters_of(item):
            for name, lines in cluster.log_tails(LOG_TAIL_LINES).items():
                report.sections.append((f"log of {name} in {cluster.home.root}", "\n".join(lines)))
    return report


def _clusters_of(item: pytest.Item) -> list[LocalCluster]:
    clusters: list[LocalCluster] = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, LocalCluster):
            clusters.append(value)
        elif isinstance(value, ClusterFactory):
            clusters.extend(value.clusters)
    return clusters
