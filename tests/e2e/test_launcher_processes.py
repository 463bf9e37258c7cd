"""The launcher's dealings with real processes and HTTP endpoints: process states from /proc, ready lines, health
polling against a stub HTTP node, and pid checks — without starting a simcluster node."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from cluster.errors import NodeStartError
from cluster.plan import new_node_configs
from cluster.probe import find_master, node_state, poll_health
from cluster.process import read_ready_lines
from cluster.registry import NodeRegistry
from cluster.state import ClusterFile, ClusterHome, NodeRecord, NodeState, ProcessState, process_state
from node.config import NodeConfig

NODE_ID = "oTUltX4IQMOUUVeiohTt8A"


def _state(home: ClusterHome, count: int = 3, base: int = 9200, bootstrapped: bool = True) -> ClusterFile:
    transport = base + 100 if base else 0
    configs = new_node_configs(home, count, cluster_name="c", http_port=base, transport_port=transport)
    return ClusterFile("c", base, transport, tuple(NodeRecord(c) for c in configs), bootstrapped)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_process_state_tells_running_stopped_and_gone() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert process_state(child.pid) is ProcessState.RUNNING
        os.kill(child.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while process_state(child.pid) is not ProcessState.STOPPED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process_state(child.pid) is ProcessState.STOPPED
    finally:
        child.kill()
        child.wait()
    assert process_state(child.pid) is ProcessState.GONE


def test_a_process_that_exits_before_ready_fails_with_its_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "node.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)) + "boom\n")
    child = subprocess.Popen([sys.executable, "-c", "print('not ready')"], stdout=subprocess.PIPE)
    with pytest.raises(NodeStartError, match="node-1 exited with code 0 before it was ready") as caught:
        read_ready_lines({"node-1": child}, {"node-1": log}, time.monotonic() + 10)
    assert caught.value.log_tails["node-1"][-1] == "boom"
    assert len(caught.value.log_tails["node-1"]) == 20
    assert caught.value.describe().splitlines()[1].startswith("--- last 20 lines of the log of node-1")


def test_a_silent_process_fails_at_the_deadline(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], stdout=subprocess.PIPE)
    try:
        with pytest.raises(NodeStartError, match="node-1 did not report ready in time"):
            read_ready_lines({"node-1": child}, {"node-1": tmp_path / "none.log"}, time.monotonic() + 0.3)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]


class _StubNode(http.server.BaseHTTPRequestHandler):
    """Answers like a node would; the test sets `routes` (path prefix → (status, body))."""

    routes: ClassVar[dict[str, tuple[int, object]]] = {}

    def do_GET(self) -> None:  # the stdlib names the handler so
        for prefix, (status, body) in self.routes.items():
            if self.path.split("?")[0] == prefix:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:  # silence the per-request stderr line
        pass


@pytest.fixture
def stub_node(tmp_path: Path) -> Iterator[tuple[NodeRecord, dict[str, tuple[int, object]]]]:
    routes: dict[str, tuple[int, object]] = {}
    handler = type("Handler", (_StubNode,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    config = NodeConfig(name="node-1", data_dir=tmp_path)
    record = NodeRecord(config, NODE_ID, os.getpid(), f"127.0.0.1:{server.server_address[1]}", "127.0.0.1:1")
    try:
        yield record, routes
    finally:
        server.shutdown()
        server.server_close()


def test_health_reporting_all_nodes_means_formed(stub_node) -> None:
    record, routes = stub_node
    routes["/_cluster/health"] = (200, {"number_of_nodes": 3, "timed_out": False})
    view = poll_health(record, 3, time.monotonic() + 5, lambda: True)
    assert (view.formed, view.exited) == (True, False)


def test_health_without_master_is_reported_at_the_deadline(stub_node) -> None:
    record, routes = stub_node
    routes["/_cluster/health"] = (503, {"error": {"type": "master_not_discovered_exception"}, "status": 503})
    started = time.monotonic()
    view = poll_health(record, 3, started + 0.5, lambda: True)
    assert (view.formed, view.last_seen) == (False, "has no elected master")
    assert time.monotonic() - started < 2.0


def test_health_polling_stops_when_the_process_is_gone(stub_node) -> None:
    record, _ = stub_node
    view = poll_health(record, 3, time.monotonic() + 30, lambda: False)
    assert (view.formed, view.exited) == (False, True)


def test_master_id_is_mapped_to_the_node_name(stub_node) -> None:
    record, routes = stub_node
    routes["/_cat/master"] = (200, [{"id": NODE_ID, "host": "127.0.0.1", "ip": "127.0.0.1", "node": "other"}])
    assert find_master([record], [record]) == "node-1"
    routes["/_cat/master"] = (200, [{"id": "-", "host": "-", "ip": "-", "node": "-"}])
    assert find_master([record], [record]) is None


@pytest.fixture
def fake_node_process(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process whose command line looks like a node of `tmp_path` (what `is_node_process` checks)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-m", "node", "--data-dir", str(tmp_path)]
    )
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_node_state_from_pid_and_root_endpoint(stub_node, fake_node_process: subprocess.Popen[bytes]) -> None:
    record, routes = stub_node
    record = record.with_changes(pid=fake_node_process.pid)
    routes["/"] = (200, {"name": "node-1", "cluster_name": "simcluster"})
    assert node_state(record) is NodeState.UP
    routes["/"] = (200, {"name": "someone-else"})  # the port now belongs to another node
    assert node_state(record) is NodeState.UNRESPONSIVE
    os.kill(fake_node_process.pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while node_state(record) is not NodeState.PAUSED and time.monotonic() < deadline:
        time.sleep(0.01)
    assert node_state(record) is NodeState.PAUSED
    fake_node_process.kill()
    fake_node_process.wait()
    assert node_state(record) is NodeState.DOWN


def test_a_pid_that_is_not_a_node_is_down(stub_node) -> None:
    record, routes = stub_node
    routes["/"] = (200, {"name": "node-1"})
    assert node_state(record.with_changes(pid=os.getpid())) is NodeState.DOWN  # pytest itself: no node


@pytest.fixture
def fake_node(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A live process whose command line looks like node-2 of the home in `tmp_path` (what pid checks accept)."""
    data_dir = ClusterHome(tmp_path).node_dir("node-2")
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-m", "node", "--data-dir", str(data_dir)]
    )
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_a_live_node_started_by_another_launcher_is_never_overwritten(
    tmp_path: Path, fake_node: subprocess.Popen[bytes]
) -> None:
    home = ClusterHome(tmp_path)
    home.save(_state(home))
    stale = NodeRegistry(home)
    stale.adopt(home.load())
    other = NodeRegistry(home)
    other.adopt(home.load())
    other.update("node-2", pid=fake_node.pid)
    other.save()
    stale.update("node-2", pid=None)  # e.g. reaping the process it had started before
    stale.save()
    assert home.load().record("node-2").pid == fake_node.pid
    assert stale.member("node-2").record.pid == fake_node.pid
