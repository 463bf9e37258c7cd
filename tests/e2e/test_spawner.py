"""Nodes forked by the preloaded spawner are node processes like any other, to the launcher and to the chaos verbs.

Each leads its own session and process group (signals to the group reach it and nothing else), `cluster.json` holds
its real pid, its pid file names it, and a kill is seen with the signal as its exit status.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from cluster.spawner import ForkedNode, spawner_enabled
from cluster.state import PID_FILE, ClusterHome, is_node_process
from tests.e2e.conftest import ClusterFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not spawner_enabled(), reason="nodes are started with fork+exec here (no pidfd_open or fork)"),
]


def test_forked_nodes_lead_their_own_process_group_and_are_known_by_their_pid(
    cluster_factory: ClusterFactory,
) -> None:
    cluster = cluster_factory(3)
    stored = {r.name: r.pid for r in ClusterHome(Path(cluster.home.root)).load().nodes}
    for record in cluster.nodes:
        pid = record.pid
        assert pid is not None and stored[record.name] == pid
        assert os.getpgid(pid) == pid and os.getsid(pid) == pid
        assert (record.data_dir / PID_FILE).read_text().strip() == str(pid)
        assert is_node_process(pid, record.data_dir)
        assert not is_node_process(pid, cluster.node("node-1" if record.name != "node-1" else "node-2").data_dir)
    assert all(isinstance(m, ForkedNode) for m in _processes(cluster))


def test_a_killed_forked_node_reports_the_signal(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    [process] = [p for p in _processes(cluster) if p.pid == cluster.node("node-3").pid]
    assert cluster.kill_node("node-3")
    assert process.poll() == -signal.SIGKILL
    assert "node-3" not in cluster.running()


def _processes(cluster: object) -> list[ForkedNode]:
    registry = cluster._registry  # type: ignore[attr-defined]
    return [m.process for m in registry.members.values() if m.process is not None]
