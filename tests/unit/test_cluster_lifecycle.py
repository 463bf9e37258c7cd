"""Single-node verbs without a real node: naming added nodes, sharing cluster.json between launchers, and logs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cluster.cli import cli
from cluster.errors import NodeStateError, UnknownNodeError
from cluster.launcher import LocalCluster
from cluster.logs import follow_logs, log_timestamp, masters_by_term, merge_logs, prefixed, read_log
from cluster.plan import added_node_config, new_node_configs, next_node_name, on_free_ports, seed_hosts
from cluster.registry import NodeRegistry
from cluster.state import ClusterFile, ClusterHome, NodeRecord
from node.config import PortRange


def _state(home: ClusterHome, count: int = 3, base: int = 9200, bootstrapped: bool = True) -> ClusterFile:
    transport = base + 100 if base else 0
    configs = new_node_configs(home, count, cluster_name="c", http_port=base, transport_port=transport)
    return ClusterFile("c", base, transport, tuple(NodeRecord(c) for c in configs), bootstrapped)


# ---- planning an added node --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "expected"),
    [(["node-1", "node-2"], "node-3"), (["node-1", "node-3"], "node-4"), ([], "node-1"), (["db", "node-9"], "node-10")],
)
def test_an_added_node_is_named_one_past_the_highest(names: list[str], expected: str) -> None:
    assert next_node_name(names) == expected


def test_an_added_node_takes_the_cluster_settings_and_the_next_ports(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    configs = new_node_configs(
        home, 3, cluster_name="c", http_port=9200, transport_port=9300, node_defaults={"fd_interval_ms": 200},
        node_overrides={"node-1": {"roles": ("master",), "attributes": (("zone", "a"),)}},
    )  # fmt: skip
    state = ClusterFile("c", 9200, 9300, tuple(NodeRecord(c) for c in configs), True)
    added = added_node_config(home, state, "node-4")
    assert (added.name, added.data_dir, added.cluster_name) == ("node-4", home.node_dir("node-4"), "c")
    assert (added.http_port, added.transport_port) == (PortRange(9203, 9302), PortRange(9303, 9402))
    assert added.fd_interval_ms == 200
    assert added.roles == ("data", "ingest", "master") and added.attributes == ()
    assert added_node_config(home, state, "node-4", roles=["data"]).roles == ("data",)


def test_nodes_start_on_free_ports_and_seed_each_other_there(tmp_path: Path) -> None:
    """Another cluster holds 9300-9302 and 9200-9202: the nodes take the next free ports, in order, and seed those."""
    configs = new_node_configs(ClusterHome(tmp_path), 3, cluster_name="c", http_port=9200, transport_port=9300)
    busy = {9200, 9201, 9202, 9300, 9301, 9302}
    planned = on_free_ports(configs, lambda host, port: port not in busy)
    assert [(c.http_port.first, c.transport_port.first) for c in planned] == [(9203, 9303), (9204, 9304), (9205, 9305)]
    assert [c.transport_port.last for c in planned] == [c.transport_port.last for c in configs]
    assert seed_hosts(planned, "node-1") == ("127.0.0.1:9304", "127.0.0.1:9305")
    assert on_free_ports(configs, lambda host, port: True) == list(configs)


def test_an_added_node_of_an_ephemeral_cluster_is_ephemeral_too(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    added = added_node_config(home, _state(home, base=0), "node-4")
    assert (added.http_port, added.transport_port) == (PortRange(0, 0), PortRange(0, 0))


# ---- sharing cluster.json ----------------------------------------------------------------------------------------


def test_a_launcher_sees_the_nodes_another_one_added_and_removed(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    first, second = NodeRegistry(home), NodeRegistry(home)
    first.adopt(home.load())
    second.adopt(home.load())
    second.add(NodeRecord(added_node_config(home, second.state, "node-4")))
    second.remove("node-1")
    second.save()
    first.refresh()
    assert list(first.members) == ["node-2", "node-3", "node-4"]


def test_saving_keeps_what_another_launcher_changed_meanwhile(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    first, second = NodeRegistry(home), NodeRegistry(home)
    first.adopt(home.load())
    second.adopt(home.load())
    second.update("node-3", http_address="127.0.0.1:9999")
    second.save()
    first.update("node-1", http_address="127.0.0.1:1111")
    first.save()
    stored = {r.name: r.http_address for r in home.load().nodes}
    assert stored == {"node-1": "127.0.0.1:1111", "node-2": None, "node-3": "127.0.0.1:9999"}


def test_bootstrapped_never_goes_back(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home, bootstrapped=True))
    registry = NodeRegistry(home)
    registry.adopt(_state(home, bootstrapped=False))
    registry.save()
    assert home.load().bootstrapped is True


def test_the_lock_serialises_writers(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    order: list[str] = []
    with home.locked():
        thread = threading.Thread(target=lambda: (home.locked().__enter__(), order.append("second")))
        thread.start()
        time.sleep(0.1)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]


# ---- single-node verbs on nodes that are down --------------------------------------------------------------------


def test_pausing_a_node_that_is_down_is_a_node_state_error(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    cluster = LocalCluster.attach(tmp_path)
    with pytest.raises(NodeStateError) as caught:
        cluster.pause_node("node-2")
    assert (
        caught.value.message == "cannot pause node-2: it is not running; start it with `simcluster node start node-2`"
    )
    assert cluster.kill_node("node-2") is False


def test_verbs_on_an_unknown_node_say_which_nodes_exist(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    with pytest.raises(UnknownNodeError, match=r"no node named \[node-7\]; the cluster has node-1, node-2, node-3"):
        LocalCluster.attach(tmp_path).start_node("node-7")


def test_the_last_node_cannot_be_removed(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home, count=1))
    with pytest.raises(NodeStateError, match="is the last node"):
        LocalCluster.attach(tmp_path).remove_node("node-1")


def test_a_cluster_that_never_formed_cannot_start_single_nodes(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home, bootstrapped=False))
    result = CliRunner().invoke(cli, ["node", "start", "node-1", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == "Error: cluster [c] has never formed; start it whole with `simcluster up`\n"


@pytest.mark.parametrize(
    "command",
    [
        ["node", "kill", "node-2"], ["node", "stop", "node-2"], ["node", "pause", "node-2"],
        ["node", "resume", "node-2"], ["node", "remove", "node-7"], ["fault", "isolate", "node-7"],
        ["fault", "partition", "node-1", "node-1,node-2"], ["fault", "delay", "node-1", "node-2", "soon"],
        ["chaos", "--events", "kill,explode", "--dry-run"],
    ],
)  # fmt: skip
def test_cli_errors_are_one_line(tmp_path: Path, command: list[str]) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    result = CliRunner().invoke(cli, [*command, "--home", str(tmp_path)])
    lines = result.output.strip().splitlines()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code:
        assert lines[-1].startswith("Error: ")
        assert not any("Traceback" in line for line in lines)


def test_killing_a_node_that_is_down_says_so(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    result = CliRunner().invoke(cli, ["node", "kill", "node-2", "--home", str(tmp_path)])
    assert (result.exit_code, result.output) == (0, "node-2: already down\n")


def test_a_dry_run_prints_the_same_schedule_for_the_same_seed(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    args = ["chaos", "--seed", "14", "--duration", "15s", "--interval", "3s", "--dry-run", "--home", str(tmp_path)]
    first, second = CliRunner().invoke(cli, args), CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    assert first.output.splitlines()[0] == "chaos run with seed 14: 5 events over 15s"
    assert first.output.splitlines()[1] == "+   0.7s #1 pause node-2 for 3.6s"


def test_heal_reports_nodes_that_are_down_as_having_no_faults(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    result = CliRunner().invoke(cli, ["fault", "heal", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"node-{i}: down (a node that is down has no faults)" for i in (1, 2, 3)]


# ---- logs --------------------------------------------------------------------------------------------------------


def _line(stamp: str, message: str) -> str:
    return f'{{"@timestamp":"{stamp}","log.level":"INFO","message":"{message}"}}'


def test_timestamps_come_from_json_lines_only() -> None:
    assert log_timestamp(_line("2025-01-01T00:00:00.000Z", "x")) == "2025-01-01T00:00:00.000Z"
    assert log_timestamp("Traceback (most recent call last):") is None
    assert log_timestamp("{not json") is None


def test_logs_of_several_nodes_merge_by_time_and_raw_lines_stay_under_their_cause() -> None:
    one = [_line("2025-01-01T00:00:01.000Z", "a"), "Traceback: boom", _line("2025-01-01T00:00:03.000Z", "c")]
    two = [_line("2025-01-01T00:00:02.000Z", "b"), _line("2025-01-01T00:00:03.000Z", "d")]
    merged = list(merge_logs({"node-1": one, "node-2": two}))
    assert merged == [
        ("node-1", one[0]),
        ("node-1", one[1]),
        ("node-2", two[0]),
        ("node-1", one[2]),
        ("node-2", two[1]),
    ]


def test_prefixes_align_names() -> None:
    assert prefixed("node-1", "x", 7) == "node-1  | x"


def test_read_log_reads_all_or_the_tail_and_nothing_for_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "node.log"
    path.write_text("a\nb\nc\n")
    assert read_log(path) == ["a", "b", "c"]
    assert read_log(path, 2) == ["b", "c"]
    assert read_log(tmp_path / "none.log") == []


def test_follow_yields_complete_lines_appended_later(tmp_path: Path) -> None:
    path = tmp_path / "node.log"
    path.write_text("old\n")
    stop = threading.Event()
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        seen.extend(follow_logs({"node-1": path}, stop=stop.is_set, poll_interval=0.01))

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.1)
    with open(path, "a") as f:
        f.write("new 1\nnew ")
        f.flush()
        time.sleep(0.1)
        f.write("2\n")
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    assert seen == [("node-1", "new 1"), ("node-1", "new 2")]


def test_masters_by_term_reads_master_changes_from_every_node() -> None:
    def changed(node: str, master: str, term: int) -> str:
        message = f"[{node}] master node changed {{previous [], current [{{{master}}}{{id-{master}}}]}}, term: {term}, version: 3"
        return _line("2025-01-01T00:00:00.000Z", message)

    logs = {
        "node-1": [changed("node-1", "node-1", 1), changed("node-1", "node-2", 2)],
        "node-2": [changed("node-2", "node-2", 2), _line("2025-01-01T00:00:00.000Z", "master node changed {previous [{node-2}{x}], current []}, term: 2")],
        "node-3": [changed("node-3", "node-3", 2)],
    }  # fmt: skip
    assert masters_by_term(logs) == {1: {"node-1"}, 2: {"node-2", "node-3"}}
