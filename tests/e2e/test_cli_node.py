"""`simcluster node ...`, `logs` and `status` as a user runs them, on a running cluster of real node processes.

The cluster comes from the `cluster_factory` fixture (a test-owned `LocalCluster`, as a foreground `simcluster up`
would own it); the verbs run as separate `simcluster` processes on its home, as from a second terminal. So these
tests also check that two launchers share one home: a node the CLI restarts is still stopped with the cluster.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cluster.launcher import LocalCluster
from cluster.rest_client import get_json
from cluster.state import node_process_alive
from tests.e2e.conftest import ClusterFactory
from tests.e2e.test_cli import SOURCE_ROOT, command, simcluster, status_document
from tests.support.http import wait_until

pytestmark = pytest.mark.e2e


def cli(cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return simcluster(*args, "--home", str(cluster.home.root))


def states(cluster: LocalCluster) -> dict[str, str]:
    return {n["name"]: n["state"] for n in status_document(cluster.home.root)["nodes"]}


def test_kill_then_start_brings_the_node_back_with_its_id(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    node_id = cluster.node("node-2").node_id
    killed = cli(cluster, "node", "kill", "node-2")
    assert (killed.returncode, killed.stdout) == (0, "node-2: killed (SIGKILL)\n"), killed.stderr
    assert states(cluster) == {"node-1": "UP", "node-2": "DOWN", "node-3": "UP"}
    assert cli(cluster, "node", "kill", "node-2").stdout == "node-2: already down\n"

    started = cli(cluster, "node", "start", "node-2")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("node-2: started (pid ") and started.stdout.endswith(", joined the cluster)\n")
    document = status_document(cluster.home.root)
    assert [n["state"] for n in document["nodes"]] == ["UP", "UP", "UP"]
    assert document["nodes"][1]["node_id"] == node_id
    again = cli(cluster, "node", "start", "node-2")
    assert again.stdout == f"node-2: already running (pid {document['nodes'][1]['pid']})\n"


def test_stop_and_restart_keep_the_node_id(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    ids = {r.name: r.node_id for r in cluster.nodes}
    stopped = cli(cluster, "node", "stop", "node-3")
    assert (stopped.returncode, stopped.stdout) == (0, "node-3: stopped\n"), stopped.stderr
    assert states(cluster)["node-3"] == "DOWN"
    restarted_down = cli(cluster, "node", "restart", "node-3")
    assert restarted_down.stdout.startswith("node-3: already down, then started (pid "), restarted_down.stderr

    old_pid = cluster.node("node-1").pid
    restarted = cli(cluster, "node", "restart", "node-1")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.startswith("node-1: stopped, then started (pid ")
    document = status_document(cluster.home.root)
    assert {n["name"]: n["node_id"] for n in document["nodes"]} == ids
    assert document["nodes"][0]["pid"] != old_pid
    assert [n["state"] for n in document["nodes"]] == ["UP", "UP", "UP"]
    assert sum(n["master"] for n in document["nodes"]) == 1


def test_pause_and_resume(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    paused = cli(cluster, "node", "pause", "node-3")
    assert (paused.returncode, paused.stdout) == (0, "node-3: paused (SIGSTOP)\n"), paused.stderr
    assert states(cluster)["node-3"] == "PAUSED"
    assert cli(cluster, "node", "pause", "node-3").stdout == "node-3: already paused\n"
    resumed = cli(cluster, "node", "resume", "node-3")
    assert (resumed.returncode, resumed.stdout) == (0, "node-3: resumed (SIGCONT)\n"), resumed.stderr
    assert states(cluster)["node-3"] == "UP"
    assert cli(cluster, "node", "resume", "node-3").stdout == "node-3: was not paused\n"


def test_pausing_a_node_that_is_down_is_a_one_line_error(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(2)
    assert cluster.kill_node("node-2")
    result = cli(cluster, "node", "pause", "node-2")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: cannot pause node-2: it is not running; start it with `simcluster node start node-2`\n"
    )


def test_add_joins_the_running_cluster_and_remove_takes_the_node_away(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    added = cli(cluster, "node", "add")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("node-4: added (pid ") and added.stdout.endswith(", joined the cluster)\n")
    document = status_document(cluster.home.root)
    assert [(n["name"], n["state"]) for n in document["nodes"]][-1] == ("node-4", "UP")
    health = get_json(document["nodes"][0]["http_address"], "/_cluster/health", 5.0)
    assert health is not None and health.body["number_of_nodes"] == 4
    data_dir = Path(document["nodes"][3]["data_dir"])

    removed = cli(cluster, "node", "remove", "node-4")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "node-4: stopped and removed from cluster [simcluster]; its directory is deleted\n"
    assert [n["name"] for n in status_document(cluster.home.root)["nodes"]] == ["node-1", "node-2", "node-3"]
    assert not data_dir.exists()
    address = document["nodes"][0]["http_address"]

    def three_nodes() -> bool:
        answer = get_json(address, "/_cluster/health", 5.0)
        return answer is not None and answer.body.get("number_of_nodes") == 3

    wait_until(three_nodes, 20.0, what="the cluster to forget node-4")


def test_added_node_roles_are_checked(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(1)
    result = cli(cluster, "node", "add", "--roles", "data,chef")
    assert result.returncode == 2
    assert "unknown role [chef]" in result.stderr and "Traceback" not in result.stderr


def test_nodes_started_from_the_cli_are_stopped_with_the_cluster(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(2)
    assert cli(cluster, "node", "restart", "node-2").returncode == 0
    assert cli(cluster, "node", "add").returncode == 0
    pids = {r.name: (r.pid, r.data_dir) for r in cluster.nodes}
    assert set(pids) == {"node-1", "node-2", "node-3"}
    cluster.stop(timeout=5.0)  # the owner of the cluster, like Ctrl-C on a foreground `simcluster up`
    assert not any(node_process_alive(pid, data_dir) for pid, data_dir in pids.values() if pid is not None)


def test_logs_print_one_node_or_all_merged_and_prefixed(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(2)
    one = cli(cluster, "logs", "node-1", "-n", "3")
    assert one.returncode == 0, one.stderr
    lines = one.stdout.splitlines()
    assert len(lines) == 3
    assert all(json.loads(line)["elasticsearch.node.name"] == "node-1" for line in lines)

    both = cli(cluster, "logs")
    prefixes = {line.split(" | ", 1)[0] for line in both.stdout.splitlines()}
    assert prefixes == {"node-1", "node-2"}
    stamps = [json.loads(line.split(" | ", 1)[1])["@timestamp"] for line in both.stdout.splitlines()]
    assert stamps == sorted(stamps)
    assert '"message":"started"' in both.stdout


def test_logs_follow_prints_new_lines_until_interrupted(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(2)
    follower = subprocess.Popen(
        command("logs", "-f", "-n", "0", "--home", str(cluster.home.root)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=SOURCE_ROOT,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # let it reach the end of the files before the node logs anything new
        assert cluster.kill_node("node-2")
        assert follower.stdout is not None
        line = follower.stdout.readline()
        assert line.startswith("node-1 | {"), line
    finally:
        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=10)
    assert follower.returncode == 0
    assert "Traceback" not in stderr
