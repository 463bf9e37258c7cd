"""The cluster home, the port plan and the CLI's rendering, without starting a single node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cluster.cli import cli
from cluster.errors import ClusterError, ClusterStateError, NoClusterError, NodeStartError, UnknownNodeError
from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from cluster.plan import initial_master_nodes, new_node_configs, node_names, port_range, seed_hosts, start_config
from cluster.process import parse_ready_line, tail_lines
from cluster.render import abbreviate_roles, endpoints_text, format_table, status_json, status_table
from cluster.state import (
    ClusterFile,
    ClusterHome,
    ClusterStatus,
    NodeRecord,
    NodeState,
    NodeStatus,
    config_from_json,
    config_to_json,
    parse_proc_stat_state,
)
from node.config import NodeConfig, PortRange

NODE_ID = "oTUltX4IQMOUUVeiohTt8A"


def _configs(home: ClusterHome, count: int = 3, base: int = 9200, **kwargs: object) -> tuple[NodeConfig, ...]:
    transport = base + 100 if base else 0
    return new_node_configs(
        home,
        count,
        cluster_name="c1",
        http_port=base,
        transport_port=transport,
        **kwargs,  # type: ignore[arg-type]
    )


def _status(state: NodeState, name: str = "node-1", master: bool = False, roles: tuple[str, ...] = ("data",)):
    return NodeStatus(
        name=name,
        state=state,
        node_id=NODE_ID,
        pid=4242,
        http_address="127.0.0.1:9200",
        transport_address="127.0.0.1:9300",
        roles=roles,
        is_master=master,
        data_dir=Path("/h/nodes") / name,
        log_file=Path("/h/nodes") / name / "logs/node.log",
    )


# -- cluster.json -----------------------------------------------------------------------------------------------------


def test_stored_config_round_trips_every_field(tmp_path: Path) -> None:
    config = NodeConfig(
        name="node-7",
        data_dir=tmp_path / "n7",
        cluster_name="other",
        host="127.0.0.2",
        http_port=PortRange(9250, 9260),
        transport_port=PortRange(0, 0),
        roles=("master", "voting_only"),
        attributes=(("zone", "a"), ("rack", "r1")),
        log_file=tmp_path / "n7.log",
        es_version="9.0.3",
        fd_interval_ms=123,
        fd_timeout_ms=456,
        fd_retries=5,
        election_delay_ms=7,
        publish_timeout_ms=8000,
        node_request_timeout_ms=-1,
    )
    assert config_from_json(json.loads(json.dumps(config_to_json(config)))) == config


def test_per_start_fields_are_not_stored(tmp_path: Path) -> None:
    config = NodeConfig(
        name="node-1", data_dir=tmp_path, seed_hosts=("127.0.0.1:9301",), initial_master_nodes=("node-1",),
        watch_stdin=True,
    )  # fmt: skip
    stored = config_to_json(config)
    assert {"seed_hosts", "initial_master_nodes", "watch_stdin"}.isdisjoint(stored)
    assert config_from_json(stored) == config.with_changes(seed_hosts=(), initial_master_nodes=(), watch_stdin=False)


def test_unknown_stored_config_keys_are_ignored(tmp_path: Path) -> None:
    stored = {**config_to_json(NodeConfig(name="node-1", data_dir=tmp_path)), "removed_setting": 1}
    assert config_from_json(stored).name == "node-1"


def test_cluster_file_round_trips_through_the_home(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path / "home")
    configs = _configs(home)
    state = ClusterFile(
        cluster_name="c1",
        http_port=9200,
        transport_port=9300,
        nodes=(
            NodeRecord(configs[0], NODE_ID, 101, "127.0.0.1:9200", "127.0.0.1:9300"),
            NodeRecord(configs[1]),
            NodeRecord(configs[2], NODE_ID.lower(), None, "127.0.0.1:9202", "127.0.0.1:9302"),
        ),
        bootstrapped=True,
    )
    home.save(state)
    assert home.load() == state
    assert sorted(p.name for p in home.root.iterdir()) == ["cluster.json"]  # no temporary file left behind


def test_cluster_json_lists_what_a_human_looks_for(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(ClusterFile("c1", 9200, 9300, (NodeRecord(_configs(home, 1)[0], NODE_ID, 7, "a:1", "a:2"),)))
    node = json.loads(home.state_file.read_text())["nodes"][0]
    assert {k: node[k] for k in ("name", "node_id", "pid", "http_address", "transport_address", "roles")} == {
        "name": "node-1",
        "node_id": NODE_ID,
        "pid": 7,
        "http_address": "a:1",
        "transport_address": "a:2",
        "roles": ["data", "ingest", "master"],
    }
    assert node["data_dir"] == str(tmp_path / "nodes" / "node-1")
    assert node["log_file"] == str(tmp_path / "nodes" / "node-1" / "logs" / "node.log")


def test_a_relative_home_is_stored_with_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ClusterHome(Path(".simcluster")).node_dir("node-1") == tmp_path / ".simcluster" / "nodes" / "node-1"


def test_missing_cluster_json_is_no_cluster(tmp_path: Path) -> None:
    with pytest.raises(NoClusterError, match=r"no cluster in .*simcluster up"):
        ClusterHome(tmp_path).load()


@pytest.mark.parametrize("text", ["{", '{"version": 99}', '{"version": 1, "cluster_name": "x"}'])
def test_damaged_cluster_json_is_a_state_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "cluster.json").write_text(text)
    with pytest.raises(ClusterStateError, match="cannot read"):
        ClusterHome(tmp_path).load()


def test_unknown_node_name_lists_the_known_ones(tmp_path: Path) -> None:
    state = ClusterFile("c1", 9200, 9300, tuple(NodeRecord(c) for c in _configs(ClusterHome(tmp_path))))
    with pytest.raises(UnknownNodeError, match=r"no node named \[node-9\]; the cluster has node-1, node-2, node-3"):
        state.record("node-9")


# -- port plan and per-start config -------------------------------------------------------------------------------


def test_node_names_are_one_based() -> None:
    assert node_names(3) == ("node-1", "node-2", "node-3")


@pytest.mark.parametrize(
    ("base", "index", "expected"),
    [(9200, 0, PortRange(9200, 9299)), (9300, 2, PortRange(9302, 9401)), (0, 5, PortRange(0, 0)),
     (65500, 1, PortRange(65501, 65535))],
)  # fmt: skip
def test_node_i_prefers_base_plus_i_and_may_move_99_further(base: int, index: int, expected: PortRange) -> None:
    assert port_range(base, index) == expected


def test_a_port_beyond_65535_is_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        port_range(65535, 1)


def test_new_cluster_configs_live_under_the_home(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    configs = _configs(home)
    assert [(c.name, c.data_dir, c.http_port, c.transport_port, c.cluster_name) for c in configs] == [
        ("node-1", tmp_path / "nodes/node-1", PortRange(9200, 9299), PortRange(9300, 9399), "c1"),
        ("node-2", tmp_path / "nodes/node-2", PortRange(9201, 9300), PortRange(9301, 9400), "c1"),
        ("node-3", tmp_path / "nodes/node-3", PortRange(9202, 9301), PortRange(9302, 9401), "c1"),
    ]
    assert all(c.log_path == c.data_dir / "logs" / "node.log" for c in configs)


def test_node_defaults_then_overrides_shape_each_node(tmp_path: Path) -> None:
    configs = _configs(
        ClusterHome(tmp_path), node_defaults=FAST_FAILURE_DETECTION, node_overrides={"node-3": {"roles": ("data",)}}
    )
    assert {c.fd_interval_ms for c in configs} == {FAST_FAILURE_DETECTION["fd_interval_ms"]}
    assert [c.roles for c in configs] == [("data", "ingest", "master")] * 2 + [("data",)]
    assert initial_master_nodes(configs) == ("node-1", "node-2")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"node_defaults": {"data_dir": "/x"}}, r"\[data_dir\] is set by the launcher"),
        ({"node_defaults": {"no_such_field": 1}}, r"unknown NodeConfig field \[no_such_field\]"),
        ({"node_overrides": {"node-4": {}}}, r"unknown node \[node-4\]"),
        ({"node_defaults": {"roles": ("data",)}}, "at least one master-eligible node"),
    ],
)
def test_invalid_node_settings_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _configs(ClusterHome(tmp_path), **kwargs)


def test_seed_hosts_are_the_other_nodes_preferred_transport_ports(tmp_path: Path) -> None:
    configs = _configs(ClusterHome(tmp_path))
    assert seed_hosts(configs, "node-2") == ("127.0.0.1:9300", "127.0.0.1:9302")


def test_first_start_bootstraps_with_every_master_eligible_node(tmp_path: Path) -> None:
    configs = _configs(ClusterHome(tmp_path))
    launch = start_config(configs[0], configs, bootstrapped=False, detached=False)
    assert launch.initial_master_nodes == ("node-1", "node-2", "node-3")
    assert launch.seed_hosts == ("127.0.0.1:9301", "127.0.0.1:9302")
    assert launch.watch_stdin is True


def test_later_starts_do_not_bootstrap_and_detached_nodes_ignore_stdin(tmp_path: Path) -> None:
    configs = _configs(ClusterHome(tmp_path))
    launch = start_config(configs[1], configs, bootstrapped=True, detached=True)
    assert launch.initial_master_nodes == ()
    assert launch.watch_stdin is False
    assert "--no-watch-stdin" in launch.to_argv()
    assert "--initial-master-nodes" not in launch.to_argv()


def test_the_node_request_timeout_reaches_the_node_process_and_minus_one_means_none(tmp_path: Path) -> None:
    configs = new_node_configs(
        ClusterHome(tmp_path), 1, cluster_name="c", http_port=0, transport_port=0,
        node_defaults={"node_request_timeout_ms": 2500},
    )  # fmt: skip
    argv = configs[0].to_argv()
    assert argv[argv.index("--node-request-timeout") + 1] == "2500ms"
    unbounded = configs[0].with_changes(node_request_timeout_ms=-1).to_argv()
    assert unbounded[unbounded.index("--node-request-timeout") + 1] == "-1"
    with pytest.raises(ValueError, match="node request timeout"):
        configs[0].with_changes(node_request_timeout_ms=0)


def test_ephemeral_nodes_are_seeded_with_the_first_nodes_real_address(tmp_path: Path) -> None:
    configs = _configs(ClusterHome(tmp_path), base=0)
    assert start_config(configs[0], configs, bootstrapped=False, detached=False).seed_hosts == ()
    later = start_config(configs[2], configs, bootstrapped=False, detached=False, seed_addresses=["127.0.0.1:41234"])
    assert later.seed_hosts == ("127.0.0.1:41234",)


# -- rendering ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("data", "ingest", "master"), "dim"),
        (("master",), "m"),
        ((), "-"),
        (("data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm", "ingest", "master", "ml",
          "remote_cluster_client", "transform"), "cdfhilmrstw"),
        (("voting_only", "master"), "mv"),
    ],
)  # fmt: skip
def test_roles_are_abbreviated_and_sorted_as_cat_nodes(roles: tuple[str, ...], expected: str) -> None:
    assert abbreviate_roles(roles) == expected


def test_table_columns_are_left_aligned_without_trailing_spaces() -> None:
    assert format_table(["A", "LONGER"], [["xyz", "1"], ["q", ""]]) == "A    LONGER\nxyz  1\nq"


def test_up_table_marks_the_master() -> None:
    status = ClusterStatus(
        "c1",
        Path("/h"),
        (
            _status(NodeState.UP, "node-1", master=True, roles=("data", "ingest", "master")),
            _status(NodeState.UP, "node-2"),
        ),
        "node-1",
    )
    assert status_table(status, with_state=False).splitlines() == [
        "NAME    NODE ID                 PID   HTTP            TRANSPORT       ROLES  MASTER",
        f"node-1  {NODE_ID}  4242  127.0.0.1:9200  127.0.0.1:9300  dim    *",
        f"node-2  {NODE_ID}  4242  127.0.0.1:9200  127.0.0.1:9300  d      -",
    ]


def test_status_table_shows_state_and_no_pid_for_a_down_node() -> None:
    status = ClusterStatus("c1", Path("/h"), (_status(NodeState.DOWN), _status(NodeState.PAUSED, "node-2")), None)
    assert status_table(status, with_state=True).splitlines() == [
        "NAME    STATE   NODE ID                 PID   HTTP            TRANSPORT       ROLES  MASTER",
        f"node-1  DOWN    {NODE_ID}  -     127.0.0.1:9200  127.0.0.1:9300  d      -",
        f"node-2  PAUSED  {NODE_ID}  4242  127.0.0.1:9200  127.0.0.1:9300  d      -",
    ]


def test_status_json_is_a_stable_document() -> None:
    status = ClusterStatus("c1", Path("/h"), (_status(NodeState.DOWN), _status(NodeState.UP, "node-2", True)), "node-2")
    document = json.loads(status_json(status))
    assert document["cluster_name"] == "c1" and document["master"] == "node-2"
    assert [(n["name"], n["state"], n["pid"], n["master"]) for n in document["nodes"]] == [
        ("node-1", "DOWN", None, False),
        ("node-2", "UP", 4242, True),
    ]


def test_endpoints_in_every_format(tmp_path: Path) -> None:
    configs = _configs(ClusterHome(tmp_path), 2)
    records = [NodeRecord(c, http_address=f"127.0.0.1:920{i}", transport_address="t") for i, c in enumerate(configs)]
    assert endpoints_text(records, "env") == "ES_HOSTS=http://127.0.0.1:9200,http://127.0.0.1:9201"
    assert endpoints_text(records, "plain") == "http://127.0.0.1:9200\nhttp://127.0.0.1:9201"
    assert json.loads(endpoints_text(records, "json"))[1] == {
        "name": "node-2",
        "url": "http://127.0.0.1:9201",
        "transport_address": "t",
    }


# -- processes (tiny stand-ins, no node) --------------------------------------------------------------------------


def test_ready_line_is_parsed_and_other_lines_are_not() -> None:
    line = {"event": "ready", "name": "node-1", "node_id": NODE_ID, "pid": 12, "http_address": "127.0.0.1:9200",
            "transport_address": "127.0.0.1:9300", "cluster_name": "simcluster"}  # fmt: skip
    ready = parse_ready_line(json.dumps(line).encode())
    assert ready is not None and (ready.node_id, ready.transport_address) == (NODE_ID, "127.0.0.1:9300")
    assert parse_ready_line(b"Warning: something") is None
    assert parse_ready_line(b'{"event": "other"}') is None


def test_proc_stat_state_survives_parentheses_in_the_command_name() -> None:
    assert parse_proc_stat_state("123 (evil) S (name)) T 1 123 123 0") == "T"


def test_tail_of_a_missing_log_is_empty(tmp_path: Path) -> None:
    assert tail_lines(tmp_path / "missing.log") == []


# -- launcher and CLI without nodes -------------------------------------------------------------------------------


def test_a_home_holding_another_cluster_is_refused_before_anything_starts(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(ClusterFile("c1", 9200, 9300, tuple(NodeRecord(c) for c in _configs(home))))
    with pytest.raises(ClusterStateError, match=r"already holds cluster \[c1\] with 3 nodes"):
        LocalCluster(tmp_path, 5, cluster_name="c1").start()


def test_attach_to_an_empty_home_is_no_cluster(tmp_path: Path) -> None:
    with pytest.raises(NoClusterError):
        LocalCluster.attach(tmp_path)


def test_every_cluster_error_is_a_cluster_error() -> None:
    assert issubclass(NodeStartError, ClusterError) and issubclass(NoClusterError, ClusterError)


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["down"], ["endpoints"]])
def test_cli_without_a_cluster_says_so_in_one_line(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: no cluster in {tmp_path} (no cluster.json); start one with `simcluster up`"
    ]


def test_cli_endpoints_of_a_stopped_cluster_is_an_error(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(ClusterFile("c1", 9200, 9300, tuple(NodeRecord(c) for c in _configs(home))))
    result = CliRunner().invoke(cli, ["endpoints", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no node of cluster [c1] is running")


def test_cli_status_of_a_stopped_cluster_shows_every_node_down(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    home.save(ClusterFile("c1", 9200, 9300, tuple(NodeRecord(c, NODE_ID) for c in _configs(home))))
    result = CliRunner().invoke(cli, ["status", "--json", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [n["state"] for n in json.loads(result.stdout)["nodes"]] == ["DOWN", "DOWN", "DOWN"]


# -- HTTP probes against an in-process stub -----------------------------------------------------------------------


def test_big_clusters_get_three_dedicated_masters_and_data_nodes(tmp_path: Path) -> None:
    configs = new_node_configs(ClusterHome(tmp_path), 12, cluster_name="c", http_port=9200, transport_port=9300)
    assert [c.roles for c in configs[:3]] == [("master",)] * 3
    assert {c.roles for c in configs[3:]} == {("data", "ingest")}
    assert initial_master_nodes(configs) == ("node-1", "node-2", "node-3")
    assert seed_hosts(configs, "node-7") == ("127.0.0.1:9300", "127.0.0.1:9301", "127.0.0.1:9302")


def test_masters_can_be_asked_for_and_small_clusters_keep_every_node_master_eligible(tmp_path: Path) -> None:
    home = ClusterHome(tmp_path)
    small = new_node_configs(home, 5, cluster_name="c", http_port=9200, transport_port=9300)
    assert {c.roles for c in small} == {("data", "ingest", "master")}
    one = new_node_configs(home, 5, cluster_name="c", http_port=9200, transport_port=9300, masters=1)
    assert [c.is_master_eligible for c in one] == [True, False, False, False, False]
    with pytest.raises(ValueError, match=r"--masters must be between 1 and the number of nodes \(5\), got 6"):
        new_node_configs(home, 5, cluster_name="c", http_port=9200, transport_port=9300, masters=6)
