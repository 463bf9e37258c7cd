"""A node run without the launcher, from its settings alone: environment variables and `simcluster.yml`.

This is how a node runs in a container or a pod: `python -m node` with no flags, ES's setting names in the
environment (as ES's Docker image reads them) and in the settings file. It joins a cluster the launcher started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cluster.process import child_environment, parse_ready_line, stop_processes
from cluster.rest_client import get_json
from tests.e2e.conftest import ClusterFactory
from tests.support.http import wait_until

pytestmark = pytest.mark.e2e


def test_a_node_from_environment_and_settings_file_joins_a_running_cluster(
    cluster_factory: ClusterFactory, tmp_path: Path
) -> None:
    cluster = cluster_factory(3)
    credentials = cluster.credentials
    seeds = ",".join(r.transport_address or "" for r in cluster.nodes)
    data = tmp_path / "outsider"
    data.mkdir()
    (data / "simcluster.yml").write_text(
        "node:\n"
        "  name: ${POD_NAME}\n"
        "  roles: [data, ingest]\n"
        "  attr.zone: b\n"
        "http.port: 0\n"
        "transport.port: 0\n"
        "cluster.name: wrong-name  # the environment wins, as in ES's Docker image\n"
        "bootstrap.memory_lock: true\n"
    )
    environ = {
        **child_environment(),
        "POD_NAME": "outsider",
        "path.data": str(data),
        "cluster.name": cluster.cluster_name,
        "discovery.seed_hosts": seeds,
        "xpack.security.transport.ssl.key": str(credentials.transport_key),
        "xpack.security.transport.ssl.certificate": str(credentials.transport_certificate),
        "ES_SETTING_XPACK_SECURITY_TRANSPORT_SSL_CERTIFICATE__AUTHORITIES": str(credentials.ca_certificate),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "node"], env=environ, cwd=tmp_path,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = parse_ready_line(process.stdout.readline())
        assert ready is not None and ready.name == "outsider" and ready.cluster_name == cluster.cluster_name
        base = cluster.node("node-1").http_address or ""

        def joined() -> bool:
            answer = get_json(base, "/_nodes/outsider", 5.0)
            return answer is not None and answer.status == 200 and len(answer.body["nodes"]) == 1

        assert wait_until(joined, 30.0)
        [info] = get_json(base, "/_nodes/outsider", 5.0).body["nodes"].values()  # type: ignore[union-attr]
        assert info["roles"] == ["data", "ingest"]
        assert info["attributes"] == {"zone": "b"}
        tasks = get_json(ready.http_address, "/_tasks?nodes=_all", 10.0)
        assert tasks is not None and tasks.status == 200
        assert len(tasks.body["nodes"]) == 4 and not tasks.body.get("node_failures")
    finally:
        stop_processes({"outsider": process}, grace=10.0)
    assert process.returncode == 0


def test_bad_settings_exit_1_with_the_es_message_and_no_traceback(tmp_path: Path) -> None:
    environ = {**child_environment(), "path.data": str(tmp_path), "http.port": "92OO"}
    result = subprocess.run(
        [sys.executable, "-m", "node"], env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "error: illegal_argument_exception: Failed to parse value [92OO] for setting [http.port]:"
        " invalid port or port range [92OO]\n"
    )
    assert os.listdir(tmp_path) == []  # nothing written before the settings were checked


def test_node_run_reads_the_settings_of_its_environment(tmp_path: Path) -> None:
    environ = {**child_environment(), "path.data": str(tmp_path), "cluster.nmae": "x"}
    result = subprocess.run(
        [sys.executable, "-m", "cluster", "node", "run"], env=environ, cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: illegal_argument_exception: unknown setting [cluster.nmae] (from the")
