"""Node settings the way ES takes them: environment over command line over `simcluster.yml` over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import PortRange
from node.errors import IllegalArgumentError
from node.settings import environment_settings, node_config, publish_host, without_setting_variables


def write_yml(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "simcluster.yml").write_text(text)
    return directory


def test_docker_style_variables_are_settings() -> None:
    environ = {
        "cluster.name": "docker-cluster",
        "ES_SETTING_NODE_NAME": "es01",
        "ES_SETTING_XPACK_SECURITY_TRANSPORT_SSL_CERTIFICATE__AUTHORITIES": "/certs/ca.crt",
        "HOME": "/root",
        "Mixed.Case": "x",
    }
    assert environment_settings(environ) == {
        "cluster.name": "docker-cluster",
        "node.name": "es01",
        "xpack.security.transport.ssl.certificate_authorities": "/certs/ca.crt",
    }


def test_environment_wins_over_command_line_which_wins_over_the_file(tmp_path: Path) -> None:
    conf = write_yml(
        tmp_path / "conf", "cluster.name: from-file\nnode:\n  name: file-node\n  roles: [master]\nhttp.port: 9250\n"
    )
    environ = {"SIMCLUSTER_PATH_CONF": str(conf), "cluster.name": "from-env"}
    config = node_config({"cluster.name": "from-flag", "node.name": "flag-node"}, environ)
    assert config.cluster_name == "from-env"  # ES's Docker image puts variables over -E
    assert config.name == "flag-node"
    assert config.roles == ("master",)
    assert config.http_port == PortRange(9250, 9250)
    assert config.transport_port == PortRange(9300, 9399)  # the default


def test_the_file_is_read_from_the_data_directory_named_in_the_environment(tmp_path: Path) -> None:
    data = write_yml(tmp_path / "data", "node.name: from-file\ndiscovery.seed_hosts:\n  - seed-a\n  - 10.0.0.2:9301\n")
    config = node_config({}, {"path.data": str(data)})
    assert config.data_dir == data
    assert config.name == "from-file"
    assert config.seed_hosts == ("seed-a:9300", "10.0.0.2:9301")


def test_list_settings_take_comma_separated_text_and_ranges(tmp_path: Path) -> None:
    config = node_config(
        {"discovery.seed_hosts": "a:9300-9301,b", "node.roles": "data,ingest", "transport.port": "9400"},
        {"path.data": str(tmp_path)},
    )
    assert config.seed_hosts == ("a:9300", "a:9301", "b:9400")
    assert config.roles == ("data", "ingest")


def test_empty_roles_make_a_coordinating_only_node(tmp_path: Path) -> None:
    assert node_config({"node.roles": "[]"}, {"path.data": str(tmp_path)}).roles == ()


def test_placeholders_in_the_file_come_from_the_environment(tmp_path: Path) -> None:
    write_yml(tmp_path, "node.name: ${POD_NAME}\ncluster.name: ${CLUSTER:fallback}\n")
    config = node_config({}, {"path.data": str(tmp_path), "POD_NAME": "sim-0"})
    assert (config.name, config.cluster_name) == ("sim-0", "fallback")


def test_node_attributes_and_fault_detection_names(tmp_path: Path) -> None:
    config = node_config(
        {
            "node.attr.zone": "a",
            "cluster.fault_detection.leader_check.interval": "250ms",
            "cluster.fault_detection.follower_check.interval": "250ms",
            "cluster.fault_detection.follower_check.retry_count": "5",
        },
        {"path.data": str(tmp_path)},
    )
    assert config.attributes == (("zone", "a"),)
    assert (config.fd_interval_ms, config.fd_retries) == (250, 5)


def test_single_node_discovery_bootstraps_itself(tmp_path: Path) -> None:
    config = node_config({"node.name": "solo", "discovery.type": "single-node"}, {"path.data": str(tmp_path)})
    assert config.initial_master_nodes == ("solo",)
    assert config.seed_hosts == ()


def test_settings_es_has_and_simcluster_does_not_need_are_ignored(tmp_path: Path) -> None:
    environ = {"path.data": str(tmp_path), "bootstrap.memory_lock": "true", "xpack.security.enabled": "false"}
    assert node_config({}, environ).data_dir == tmp_path


def test_the_password_file_comes_from_the_docker_variable(tmp_path: Path) -> None:
    config = node_config({}, {"path.data": str(tmp_path), "ELASTIC_PASSWORD_FILE": "/run/secrets/pw"})
    assert config.elastic_password_file == Path("/run/secrets/pw")


@pytest.mark.parametrize(
    ("command_line", "environ", "reason"),
    [
        (
            {"node.nmae": "x"},
            {},
            "unknown setting [node.nmae] please check that any required plugins are installed, or check the"
            " breaking changes documentation for removed settings",
        ),
        (
            {},
            {"cluster.nmae": "x"},
            "unknown setting [cluster.nmae] (from the environment) please check that any required plugins are"
            " installed, or check the breaking changes documentation for removed settings",
        ),
        (
            {"http.port": "92OO"},
            {},
            "Failed to parse value [92OO] for setting [http.port]: invalid port or port range [92OO]",
        ),
        ({"node.roles": "master,wizard"}, {}, "unknown role [wizard]"),
        (
            {"discovery.type": "single-node", "cluster.initial_master_nodes": "a"},
            {},
            "setting [cluster.initial_master_nodes] is not allowed when [discovery.type] is set to [single-node]",
        ),
        (
            {
                "cluster.fault_detection.leader_check.timeout": "1s",
                "cluster.fault_detection.follower_check.timeout": "2s",
            },
            {},
            "setting [cluster.fault_detection.follower_check.timeout] is [2s] but"
            " [cluster.fault_detection.leader_check.timeout] is [1s]: simcluster uses one value for leader and"
            " follower checks",
        ),
    ],
)
def test_bad_settings_are_refused_with_es_messages(
    tmp_path: Path, command_line: dict[str, str], environ: dict[str, str], reason: str
) -> None:
    with pytest.raises(IllegalArgumentError) as raised:
        node_config({**command_line, "path.data": str(tmp_path)}, environ)
    assert raised.value.reason == reason


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write_yml(tmp_path, "- just\n- a list\n")
    with pytest.raises(IllegalArgumentError, match="the file must hold a mapping of settings"):
        node_config({"path.data": str(tmp_path)}, {})


def test_a_wildcard_bind_address_publishes_a_real_one(tmp_path: Path) -> None:
    config = node_config({"network.host": "0.0.0.0"}, {"path.data": str(tmp_path)})
    assert config.host == "0.0.0.0"
    assert publish_host(config) != "0.0.0.0"
    assert publish_host(config.with_changes(publish_host="10.1.2.3")) == "10.1.2.3"


def test_the_launcher_keeps_setting_variables_from_its_nodes() -> None:
    environ = {"PATH": "/bin", "cluster.name": "x", "ES_SETTING_NODE_NAME": "y", "ELASTIC_PASSWORD_FILE": "/p"}
    assert without_setting_variables(environ) == {"PATH": "/bin"}


def test_a_key_without_a_value_is_unset_and_a_file_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    conf = write_yml(tmp_path / "conf", "cluster.name:\nnode.name: n1\n")
    config = node_config({}, {"SIMCLUSTER_PATH_CONF": str(conf)})
    assert (config.cluster_name, config.name) == (node_config({}, {}).cluster_name, "n1")
    (conf / "simcluster.yml").write_bytes(b"node.name: \xff\n")
    with pytest.raises(IllegalArgumentError, match="Failed to load settings from"):
        node_config({}, {"SIMCLUSTER_PATH_CONF": str(conf)})
