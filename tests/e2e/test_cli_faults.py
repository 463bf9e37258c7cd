"""`simcluster fault ...` and `simcluster chaos` as a user runs them, against real node processes.

Most faults here are aimed at the tasks actions only (`--actions 'cluster:monitor/tasks/*'`), so the cluster stays
formed and the effect shows in `GET /_tasks` alone; `isolate` and `chaos` disrupt everything.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.e2e.conftest import ClusterFactory
from tests.e2e.test_cli import simcluster
from tests.support.http import call, wait_until

pytestmark = pytest.mark.e2e

TASKS = ("--actions", "cluster:monitor/tasks/*")


def cli(cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return simcluster(*args, "--home", str(cluster.home.root))


def listed(cluster: LocalCluster) -> dict[str, list[dict[str, Any]]]:
    result = cli(cluster, "fault", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {name: node["faults"] for name, node in json.loads(result.stdout)["nodes"].items()}


def list_tasks(cluster: LocalCluster, name: str) -> dict[str, Any]:
    url = cluster.node(name).http_url
    assert url is not None
    response = call(url, "GET", "/_tasks?timeout=500ms", timeout=15.0)
    assert response.status == 200, response.text
    return response.json  # type: ignore[no-any-return]


def failures(cluster: LocalCluster, name: str) -> dict[str, str]:
    """Node id → `caused_by.type` of the node failures of `GET /_tasks?timeout=500ms` on `name`."""
    return {f["node_id"]: f["caused_by"]["type"] for f in list_tasks(cluster, name).get("node_failures", [])}


def fault_id(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    match = re.match(r"fault (\S+): ", result.stdout)
    assert match is not None, result.stdout
    return match.group(1)


def test_isolate_shows_in_the_list_and_heal_removes_it(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    result = cli(cluster, "fault", "isolate", "node-3", "--duration", "60s")
    group = fault_id(result)
    assert result.stdout == f"fault {group}: isolate node-3 (blackhole) for 60s; 4 rules on 3 nodes\n"
    rules = listed(cluster)
    assert [(r["target_name"], r["kind"]) for r in rules["node-3"]] == [
        ("node-1", "blackhole"),
        ("node-2", "blackhole"),
    ]
    assert [r["target_name"] for r in rules["node-1"]] == ["node-3"]
    assert all(r["group"] == group and 0 < r["expires_in_millis"] <= 60_000 for rs in rules.values() for r in rs)
    table = cli(cluster, "fault", "list").stdout.splitlines()
    assert table[0].split() == ["FAULT", "FROM", "TO", "KIND", "DETAIL", "ACTIONS", "EXPIRES", "AFFECTED", "ID"]
    assert len(table) == 5

    node_3 = cluster.node("node-3").node_id
    assert failures(cluster, "node-1").get(node_3, "gone") in ("receive_timeout_transport_exception", "gone")

    healed = cli(cluster, "fault", "heal")
    assert healed.returncode == 0, healed.stderr
    assert healed.stdout.splitlines() == [
        "node-1: healed 1 fault rule", "node-2: healed 1 fault rule", "node-3: healed 2 fault rules"
    ]  # fmt: skip
    assert listed(cluster) == {"node-1": [], "node-2": [], "node-3": []}


def test_partition_and_bridge_put_rules_on_both_sides(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    partition = cli(cluster, "fault", "partition", "node-1", "node-2,node-3", "--kind", "disconnect", *TASKS)
    group = fault_id(partition)
    assert (
        partition.stdout
        == f"fault {group}: partition node-1 | node-2,node-3 (disconnect) until healed; 4 rules on 3 nodes\n"
    )
    ids = {r.name: r.node_id for r in cluster.nodes}
    assert failures(cluster, "node-1") == {
        ids["node-2"]: "node_disconnected_exception", ids["node-3"]: "node_disconnected_exception"
    }  # fmt: skip
    assert failures(cluster, "node-2") == {ids["node-1"]: "node_disconnected_exception"}

    bridge = cli(cluster, "fault", "bridge", "node-1", "node-2", "node-3", *TASKS)
    bridge_group = fault_id(bridge)
    assert bridge.stdout.startswith(
        f"fault {bridge_group}: bridge node-1 | node-2 | node-3 (blackhole) until healed; 2 rules on 2 nodes"
    )

    removed = cli(cluster, "fault", "heal", group)
    assert removed.returncode == 0, removed.stderr
    assert {r["group"] for rs in listed(cluster).values() for r in rs} == {bridge_group}
    assert failures(cluster, "node-2") == {}
    assert failures(cluster, "node-1") == {ids["node-3"]: "receive_timeout_transport_exception"}


def test_link_faults_each_have_their_effect(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    ids = {r.name: r.node_id for r in cluster.nodes}
    delay = cli(cluster, "fault", "delay", "node-1", "node-2", "300ms", "--jitter", "50ms", "--both", *TASKS)
    assert re.fullmatch(
        r"fault delay-\w+: delay node-1 <-> node-2 300ms ± 50ms until healed; 2 rules on 2 nodes\n", delay.stdout
    )
    drop = cli(cluster, "fault", "drop", "node-1", "node-3", "1.0", *TASKS)
    assert re.fullmatch(r"fault drop-\w+: drop node-1 -> node-3 p=1.0 until healed; 1 rule on 1 node\n", drop.stdout)
    blackhole = cli(cluster, "fault", "blackhole", "node-2", "node-3", *TASKS)
    assert blackhole.returncode == 0, blackhole.stderr
    disconnect = cli(cluster, "fault", "disconnect", "node-3", "node-1", *TASKS)
    assert disconnect.returncode == 0, disconnect.stderr

    rules = listed(cluster)
    assert [(r["kind"], r["target_name"]) for r in rules["node-1"]] == [("delay", "node-2"), ("drop", "node-3")]
    assert (rules["node-1"][0]["delay_millis"], rules["node-1"][0]["jitter_millis"]) == (300, 50)
    assert rules["node-1"][1]["probability"] == 1.0
    assert rules["node-1"][0]["actions"] == ["cluster:monitor/tasks/*"]

    assert failures(cluster, "node-1") == {ids["node-3"]: "receive_timeout_transport_exception"}  # dropped
    assert failures(cluster, "node-2") == {ids["node-3"]: "receive_timeout_transport_exception"}  # black-holed
    assert failures(cluster, "node-3") == {ids["node-1"]: "node_disconnected_exception"}  # disconnected
    assert listed(cluster)["node-1"][0]["affected_requests"] >= 1  # delayed, and answered in time


def test_a_fault_with_a_duration_heals_by_itself(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(2)
    result = cli(cluster, "fault", "blackhole", "node-1", "node-2", "--duration", "1s", *TASKS)
    assert result.returncode == 0, result.stderr
    assert " for 1s; " in result.stdout
    wait_until(lambda: listed(cluster) == {"node-1": [], "node-2": []}, 15.0, interval=0.2, what="the fault to expire")
    assert failures(cluster, "node-1") == {}


def test_heal_says_which_paused_node_it_could_not_heal(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    assert cli(cluster, "fault", "disconnect", "node-2", "node-1", *TASKS).returncode == 0
    assert cluster.pause_node("node-2")
    try:
        listing = cli(cluster, "fault", "list")
        assert "node-2: paused, so its faults cannot be listed" in listing.stderr
        healed = cli(cluster, "fault", "heal")
        assert healed.returncode == 1
        assert "node-2: not healed: paused" in healed.stdout.splitlines()
        assert healed.stderr == ("Error: could not heal node-2; resume it (`simcluster node resume`) and heal again\n")
    finally:
        cluster.resume_node("node-2")
    again = cli(cluster, "fault", "heal")
    assert again.returncode == 0, again.stderr
    assert "node-2: healed 1 fault rule" in again.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fault", "isolate", "node-9"), "Error: no node named [node-9]; the cluster has node-1, node-2, node-3\n"),
        (("fault", "partition", "node-1,node-2,node-3"), "Error: a partition needs at least two sides; the nodes not named form one more side\n"),
        (("fault", "bridge", "node-1", "node-1", "node-2"), "Error: the bridge node [node-1] must not be on either side\n"),
        (("fault", "heal", "nope"), None),
    ],
)  # fmt: skip
def test_fault_errors_are_one_line(cluster_factory: ClusterFactory, args: tuple[str, ...], message: str | None) -> None:
    cluster = cluster_factory(3)
    result = cli(cluster, *args)
    if message is None:  # healing a fault nobody has is not an error: there is nothing to heal
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["node-1: no faults", "node-2: no faults", "node-3: no faults"]
        return
    assert (result.returncode, result.stderr) == (1, message)


def test_a_short_chaos_run_heals_everything_and_writes_its_journal(
    cluster_factory: ClusterFactory, tmp_path: Path
) -> None:
    cluster = cluster_factory(3)
    journal = tmp_path / "run.jsonl"
    args = ("chaos", "--seed", "39", "--duration", "6s", "--interval", "2s", "--events", "kill,pause,partition,delay")
    dry = cli(cluster, *args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    run = cli(cluster, *args, "--journal", str(journal))
    assert run.returncode == 0, run.stderr + run.stdout
    assert run.stdout.startswith(dry.stdout.splitlines()[0] + "\n")
    assert "the cluster is whole again" in run.stdout
    assert [line.split()[3] for line in dry.stdout.splitlines()[1:]] == ["pause", "partition", "kill"]
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["event"] == "chaos_start" and lines[0]["seed"] == 39
    assert lines[-1]["event"] == "chaos_end" and lines[-1]["formed"] is not None
    events = lines[1:-1]
    assert all(set(e) >= {"time", "seq", "event", "targets", "healed"} for e in events)
    planned = len(dry.stdout.splitlines()) - 1
    for seq in range(1, planned + 1):  # applied (not healed yet), then healed
        applied, healed = [e for e in events if e["seq"] == seq]
        assert applied["healed"] is None and healed["healed"] is not None
        assert applied["time"] == healed["time"] <= healed["healed"]
    assert listed(cluster) == {"node-1": [], "node-2": [], "node-3": []}
    assert len(cluster.running()) == 3


def test_chaos_writes_its_journal_in_the_cluster_home_by_default(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(3)
    run = cli(cluster, "chaos", "--seed", "5", "--duration", "2s", "--interval", "1s", "--events", "delay")
    assert run.returncode == 0, run.stderr
    (journal,) = (cluster.home.root / "chaos").glob("*-seed-5.jsonl")
    assert f"journal: {journal}" in run.stdout.splitlines()
