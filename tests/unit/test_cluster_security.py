"""How the launcher's side knows and reaches a secured cluster, without starting a node: stored settings, URLs,
authenticated probes, the `up --security` banner and the node flags."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from cluster import cli as cli_module
from cluster.credentials import ClusterCredentials
from cluster.errors import ClusterError
from cluster.plan import new_node_configs, start_config
from cluster.render import endpoints_text, security_banner
from cluster.rest_client import RestEndpoint
from cluster.state import ClusterFile, ClusterHome, NodeRecord, config_from_json, config_to_json
from node.config import NodeConfig, PortRange


def _secured(tmp_path: Path, security: bool = True) -> NodeConfig:
    settings = ClusterCredentials(tmp_path).node_settings(security=security)
    return NodeConfig(name="node-1", data_dir=tmp_path / "nodes" / "node-1", **settings)  # type: ignore[arg-type]


def test_credential_settings_round_trip_through_cluster_json(tmp_path: Path) -> None:
    config = _secured(tmp_path)
    assert config_from_json(json.loads(json.dumps(config_to_json(config)))) == config


def test_a_cluster_json_without_host_and_security_is_a_loopback_cluster_without_security(tmp_path: Path) -> None:
    state = ClusterFile("c1", 9200, 9300, (NodeRecord(NodeConfig(name="node-1", data_dir=tmp_path)),))
    stored = state.to_json()
    del stored["host"], stored["security"]
    assert ClusterFile.from_json(stored) == state


def test_host_and_security_round_trip_through_cluster_json(tmp_path: Path) -> None:
    state = ClusterFile("c1", 0, 0, (NodeRecord(_secured(tmp_path)),), host="0.0.0.0", security=True)
    ClusterHome(tmp_path).save(state)
    assert ClusterHome(tmp_path).load() == state


def test_a_secured_node_is_reached_over_https_as_elastic(tmp_path: Path) -> None:
    record = NodeRecord(_secured(tmp_path), http_address="127.0.0.1:9200")
    credentials = ClusterCredentials(tmp_path)
    assert record.http_url == "https://127.0.0.1:9200"
    assert record.endpoint == RestEndpoint(
        "127.0.0.1:9200", credentials.ca_certificate, credentials.elastic_password_file
    )
    assert endpoints_text([record], "env") == "ES_HOSTS=https://127.0.0.1:9200"


def test_an_open_node_is_reached_over_plain_http_without_credentials(tmp_path: Path) -> None:
    record = NodeRecord(_secured(tmp_path, security=False), http_address="127.0.0.1:9200")
    assert record.http_url == "http://127.0.0.1:9200"
    assert record.endpoint == RestEndpoint("127.0.0.1:9200")
    assert record.endpoint.headers() == {}


def test_the_launcher_authenticates_with_the_password_in_the_home(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("abc=+\n")
    endpoint = RestEndpoint("127.0.0.1:9200", tmp_path / "ca.crt", tmp_path / "pw")
    assert endpoint.headers() == {"Authorization": "Basic " + base64.b64encode(b"elastic:abc=+").decode()}
    assert RestEndpoint("127.0.0.1:9200", tmp_path / "ca.crt", tmp_path / "missing").headers() == {}


def test_node_flags_carry_the_credential_files(tmp_path: Path) -> None:
    argv = _secured(tmp_path).to_argv()
    credentials = ClusterCredentials(tmp_path)
    flags = dict(itertools.pairwise(argv))
    assert flags["--transport-ssl-key"] == str(credentials.transport_key)
    assert flags["--transport-ssl-certificate"] == str(credentials.transport_certificate)
    assert flags["--transport-ssl-certificate-authorities"] == str(credentials.ca_certificate)
    assert flags["--http-ssl-key"] == str(credentials.http_key)
    assert flags["--http-ssl-certificate"] == str(credentials.http_certificate)
    assert flags["--elastic-password-file"] == str(credentials.elastic_password_file)
    assert "--http-ssl-key" not in _secured(tmp_path, security=False).to_argv()


def test_https_needs_both_a_key_and_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"HTTPS needs both \[xpack.security.http.ssl.key\]"):
        NodeConfig(name="node-1", data_dir=tmp_path, http_ssl_key=tmp_path / "k")


@pytest.mark.parametrize("field", ["host", "transport_ssl_key", "elastic_password_file"])
def test_the_launcher_owns_the_host_and_the_credential_settings(tmp_path: Path, field: str) -> None:
    with pytest.raises(ValueError, match=rf"\[{field}\] is set by the launcher"):
        new_node_configs(
            ClusterHome(tmp_path), 1, cluster_name="c", http_port=0, transport_port=0, node_defaults={field: "x"}
        )


def test_every_node_binds_the_clusters_host(tmp_path: Path) -> None:
    configs = new_node_configs(
        ClusterHome(tmp_path), 2, cluster_name="c", http_port=9200, transport_port=9300, host="::1"
    )
    assert {c.host for c in configs} == {"::1"}


def test_seed_hosts_given_as_settings_are_probed_after_the_clusters_own(tmp_path: Path) -> None:
    configs = new_node_configs(
        ClusterHome(tmp_path), 2, cluster_name="c", http_port=0, transport_port=0,
        node_defaults={"seed_hosts": ("127.0.0.1:9300",)},
    )  # fmt: skip
    launch = start_config(configs[1], configs, bootstrapped=False, detached=False, seed_addresses=["127.0.0.1:4100"])
    assert launch.seed_hosts == ("127.0.0.1:4100", "127.0.0.1:9300")
    assert configs[0].http_port == PortRange(0, 0)


def test_the_first_secured_up_shows_the_password_once(tmp_path: Path) -> None:
    text = security_banner(
        ca_certificate=tmp_path / "certs/ca.crt",
        fingerprint="ab12",
        password_file=tmp_path / "elastic-password",
        new_password="p4ss=word",
        url="https://127.0.0.1:9200",
    )
    assert text.splitlines() == [
        "Security is on: HTTPS with the cluster CA, and authentication as the elastic user.",
        "",
        f"Password for the elastic user (shown this once; kept in {tmp_path}/elastic-password):",
        "  p4ss=word",
        "",
        "HTTP CA certificate SHA-256 fingerprint:",
        "  ab12",
        "",
        "Try it:",
        f'  curl --cacert {tmp_path}/certs/ca.crt -u "elastic:p4ss=word" https://127.0.0.1:9200',
    ]


def test_later_secured_ups_point_at_the_password_file(tmp_path: Path) -> None:
    text = security_banner(
        ca_certificate=tmp_path / "ca.crt", fingerprint="ab12", password_file=tmp_path / "pw", new_password=None,
        url="https://127.0.0.1:9200",
    )  # fmt: skip
    assert f"Password for the elastic user: in {tmp_path}/pw" in text.splitlines()
    assert f'-u "elastic:$(cat {tmp_path}/pw)"' in text


class _RefusingCluster:
    """Stands in for `LocalCluster` in `up`: records what it was asked for, then fails before starting anything."""

    asked: ClassVar[dict[str, object]] = {}

    def __init__(self, home: Path, nodes: int, **settings: object) -> None:
        _RefusingCluster.asked = settings

    def start(self) -> None:
        raise ClusterError("not starting in a unit test")

    def stop(self) -> dict[str, object]:
        return {}


@pytest.mark.parametrize(
    ("flags", "warned"),
    [(["--host", "0.0.0.0"], True), (["--host", "0.0.0.0", "--security"], False), (["--host", "127.0.0.1"], False)],
)
def test_up_warns_when_binding_beyond_loopback_without_security(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], warned: bool
) -> None:
    monkeypatch.setattr(cli_module, "LocalCluster", _RefusingCluster)
    result = CliRunner().invoke(cli_module.cli, ["up", "--home", str(tmp_path), *flags])
    assert result.exit_code == 1
    assert ("warning: binding to [0.0.0.0] without --security" in result.stderr) is warned
    assert _RefusingCluster.asked["host"] == flags[1]
    assert _RefusingCluster.asked["security"] is ("--security" in flags)
