"""A pytest plugin for testing against a real simcluster, installed with the package (the `pytest11` entry point).

Fixtures (nothing starts unless a test asks for one):

* `simcluster` (session scope): a formed 3-node cluster on free ports in a temporary home, shared by every test
  of the session. Treat it as read-mostly; a test that kills, pauses or partitions nodes should use a cluster of
  its own.
* `simcluster_factory` (function scope): `simcluster_factory(nodes=5)` starts and forms another cluster (any
  `LocalCluster` keyword too, e.g. `node_overrides={"node-5": {"roles": ("data",)}}`); every cluster it made is
  stopped after the test.

Both give a `SimCluster`: `urls`, `url(name)`, `client()` (an `elasticsearch.Elasticsearch` on every node), and the
chaos verbs `kill`, `stop`, `start`, `restart`, `pause`, `resume`, `isolate`, `partition`, `heal`, backed by the
same `LocalCluster` and `/_sim/faults` code as the `simcluster` command. A failed test's report carries the tail of
every node's log of the clusters it used.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the plugin loads in every pytest session of an environment: import the launcher lazily
    from cluster.launcher import LocalCluster
    from cluster.process import StopOutcome

__all__ = ["SimCluster", "SimClusterFactory", "start_cluster"]

FORM_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 50


def start_cluster(home: Path, nodes: int = 3, **kwargs: Any) -> LocalCluster:
    """Starts and forms a cluster on ephemeral ports with fast failure detection; on failure nothing is left running.

    `kwargs` are `LocalCluster` keywords and override these defaults.
    """
    from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster

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


class SimCluster:
    """A running cluster as a test uses it: addresses, a client, and node and network faults."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster

    @property
    def names(self) -> tuple[str, ...]:
        return self.cluster.names

    @property
    def urls(self) -> list[str]:
        """HTTP URLs of the nodes whose process is alive."""
        return self.cluster.endpoints()

    def url(self, name: str = "node-1") -> str:
        record = self.cluster.node(name)
        if record.http_url is None:
            raise LookupError(f"{name} has never started")
        return record.http_url

    def client(self, *nodes: str, **kwargs: Any) -> Any:
        """An `elasticsearch.Elasticsearch` client on the given nodes (every live node when none is named).

        Raises:
            ModuleNotFoundError: the `elasticsearch` package is not installed.
        """
        from elasticsearch import Elasticsearch

        hosts = [self.url(name) for name in nodes] if nodes else self.urls
        return Elasticsearch(hosts, **kwargs)

    # -- node faults (LocalCluster) ------------------------------------------------------------------------------

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> bool:
        return self.cluster.kill_node(name, sig)

    def stop(self, name: str) -> StopOutcome:
        return self.cluster.stop_node(name)

    def start(self, name: str) -> bool:
        return self.cluster.start_node(name)

    def restart(self, name: str) -> StopOutcome:
        return self.cluster.restart_node(name)

    def pause(self, name: str) -> bool:
        return self.cluster.pause_node(name)

    def resume(self, name: str) -> bool:
        return self.cluster.resume_node(name)

    def wait_for_nodes(self, count: int, *, via: str = "node-1", timeout: float = FORM_TIMEOUT_S) -> None:
        """Waits until `via` sees a cluster of exactly `count` nodes with an elected master (after a kill, say)."""
        from cluster.probe import poll_health

        record = self.cluster.node(via)
        view = poll_health(record, count, time.monotonic() + timeout, lambda: via in self.cluster.running())
        if not view.formed:
            raise TimeoutError(f"{via} {view.last_seen} after {timeout:g}s, waiting for {count} nodes")

    # -- network faults (each node's /_sim/faults) ---------------------------------------------------------------

    def isolate(self, name: str, *, kind: str = "blackhole") -> str:
        """Cuts `name` off from every other node, both ways; returns the fault's id for `heal`."""
        from cluster.disruption import isolate

        return self._install("isolate", isolate(name, self.names), kind)

    def partition(self, *sides: str | Sequence[str], kind: str = "blackhole") -> str:
        """Splits the cluster into sides (`"node-1"`, `("node-2", "node-3")` or `"node-2,node-3"`); nodes named on no
        side form one more side. Returns the fault's id for `heal`."""
        from cluster.disruption import parse_side, partition

        names = self.names
        parsed = [parse_side(side, names) if isinstance(side, str) else tuple(side) for side in sides]
        return self._install("partition", partition(parsed, names), kind)

    def heal(self, fault: str | None = None) -> None:
        """Removes one fault (by the id `isolate` or `partition` returned), or every fault on every reachable node."""
        from cluster.fault_client import heal_faults, remove_faults

        records = self.cluster.nodes
        answers = heal_faults(records) if fault is None else remove_faults(records, fault)
        failed = [f"{a.name} ({a.error})" for a in answers if not a.ok and a.error != "down"]
        if failed:
            raise RuntimeError("could not heal " + "; ".join(failed))

    def _install(self, verb: str, links: Any, kind: str) -> str:
        from cluster.fault_client import FaultOptions, fault_bodies, install_faults, new_group_id

        records = self.cluster.nodes
        group = new_group_id(verb)
        bodies = fault_bodies(links, FaultOptions(kind=kind), {r.name: r.transport_address for r in records}, group)
        # A node that is down holds no rules (they live in its memory) and gets none: it has no links to cut.
        failed = [f"{a.name} ({a.error})" for a in install_faults(records, bodies) if not a.ok and a.error != "down"]
        if failed:
            raise RuntimeError(f"{verb} not installed on " + "; ".join(failed))
        return group


class SimClusterFactory:
    """Starts clusters for one test and stops them all afterwards."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self.clusters: list[LocalCluster] = []

    def __call__(
        self, nodes: int = 3, *, node_overrides: Mapping[str, Mapping[str, Any]] | None = None, **kwargs: Any
    ) -> SimCluster:
        return SimCluster(self.start(nodes, node_overrides=node_overrides, **kwargs))

    def start(self, nodes: int = 3, **kwargs: Any) -> LocalCluster:
        """Starts and forms a cluster in a new temporary home (`start_cluster`), stopped with the others."""
        cluster = start_cluster(self._tmp_path_factory.mktemp(f"simcluster{nodes}-"), nodes, **kwargs)
        self.clusters.append(cluster)
        return cluster

    def stop_all(self) -> None:
        for cluster in self.clusters:
            cluster.stop()


@pytest.fixture(scope="session")
def simcluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    """A formed 3-node cluster on free ports, shared by the whole session."""
    cluster = start_cluster(tmp_path_factory.mktemp("simcluster-"))
    try:
        yield SimCluster(cluster)
    finally:
        cluster.stop()


@pytest.fixture
def simcluster_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimClusterFactory]:
    """Starts clusters of any size for one test: `simcluster_factory(nodes=5)`."""
    factory = SimClusterFactory(tmp_path_factory)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Adds to a failed test's report the tail of every node's log of the clusters it used (its fixtures'
    `SimCluster`s, factories and `LocalCluster`s), and of a cluster that failed to start."""
    report = yield
    if not report.failed:
        return report
    from cluster.errors import ClusterError
    from cluster.launcher import LocalCluster

    if call.excinfo is not None and isinstance(call.excinfo.value, ClusterError):
        for name, lines in call.excinfo.value.log_tails.items():
            report.sections.append((f"log of {name} (cluster that failed to start)", "\n".join(lines)))
    used: list[LocalCluster] = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, SimClusterFactory):
            used.extend(value.clusters)
        elif isinstance(value, SimCluster):
            used.append(value.cluster)
        elif isinstance(value, LocalCluster):
            used.append(value)
    for cluster in used:
        for node_name, tail in cluster.log_tails(LOG_TAIL_LINES).items():
            report.sections.append((f"log of {node_name} in {cluster.home.root}", "\n".join(tail)))
    return report
