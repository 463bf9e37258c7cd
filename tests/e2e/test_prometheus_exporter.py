"""The Prometheus community Elasticsearch exporter (Debian's `prometheus-elasticsearch-exporter`) pointed at a real
3-node cluster with `--es.all --es.indices --es.shards`: every collector is up, nothing failed to parse, and every
node has its metrics.

`make test` installs the exporter (`scripts/install_system_packages.sh`); without it this test skips.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import call, wait_until
from tests.support.nodes import url

pytestmark = pytest.mark.e2e

EXPORTER = "prometheus-elasticsearch-exporter"
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match["labels"] or ""))
        out.append((match["name"], labels, float(match["value"])))
    return out


@pytest.fixture
def exporter(cluster3: LocalCluster) -> Iterator[str]:
    binary = shutil.which(EXPORTER)
    if binary is None:
        pytest.skip(f"{EXPORTER} is not installed (Debian package {EXPORTER}; `make test` installs it as root)")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary, f"--es.uri={url(cluster3, 'node-1')}", "--es.all", "--es.indices", "--es.shards",
            f"--web.listen-address=127.0.0.1:{port}", "--es.timeout=10s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        process.terminate()
        try:
            _, errors = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
        print(errors.decode(errors="replace")[-4000:])  # shown by pytest when the test failed


def _scrape(metrics_url: str) -> str | None:
    try:
        with urllib.request.urlopen(metrics_url, timeout=15) as response:
            text: str = response.read().decode()
            return text
    except OSError:
        return None


def test_every_collector_is_up_with_metrics_for_every_node(cluster3: LocalCluster, exporter: str) -> None:
    created = call(
        url(cluster3, "node-1"), "PUT", "/exported?wait_for_active_shards=all",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"settings": {"number_of_shards": 3, "number_of_replicas": 1}}).encode(),
    )  # fmt: skip
    assert created.status == 200, created.text
    lines = "".join(json.dumps(x) + "\n" for i in range(5) for x in ({"index": {"_id": str(i)}}, {"i": i}))
    call(url(cluster3, "node-2"), "POST", "/exported/_bulk", headers={"Content-Type": "application/x-ndjson"},
         body=lines.encode())  # fmt: skip

    text = wait_until(lambda: _scrape(exporter), 20, interval=0.2, what="the exporter to answer")
    samples = _samples(text)

    ups = {(name, tuple(sorted(labels.items()))): value for name, labels, value in samples if name.endswith("_up")}
    assert {name for name, _ in ups} >= {
        "elasticsearch_cluster_health_up", "elasticsearch_node_stats_up", "elasticsearch_index_stats_up",
        "elasticsearch_clusterinfo_up",
    }  # fmt: skip
    assert all(value == 1 for value in ups.values()), ups
    failures = {name: v for name, _, v in samples if name.endswith("_json_parse_failures") and v != 0}
    assert failures == {}
    assert all(v == 1 for name, _, v in samples if name == "elasticsearch_scrape_success")

    names = set(cluster3.names)
    for metric in (
        "elasticsearch_jvm_memory_used_bytes", "elasticsearch_process_open_files_count",
        "elasticsearch_transport_tx_packets_total", "elasticsearch_indices_docs", "elasticsearch_thread_pool_completed_count",
        "elasticsearch_breakers_limit_size_bytes", "elasticsearch_filesystem_data_size_bytes",
    ):  # fmt: skip
        assert {labels.get("name") for name, labels, _ in samples if name == metric} == names, metric
    shards = {labels["node"]: v for name, labels, v in samples if name == "elasticsearch_node_shards_total"}
    assert set(shards) == names and sum(shards.values()) == 6
    primary_docs = [
        v
        for name, labels, v in samples
        if name == "elasticsearch_indices_docs_primary" and labels.get("index") == "exported"
    ]
    assert primary_docs == [5.0]
    health = [
        v
        for name, labels, v in samples
        if name == "elasticsearch_cluster_health_status" and labels.get("color") == "green"
    ]
    assert health == [1.0]
