"""`simcluster` as users run it: a real command in a subprocess, real node processes, ephemeral ports."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cluster
from cluster.rest_client import get_json
from cluster.state import ClusterHome, node_process_alive

pytestmark = pytest.mark.e2e

EPHEMERAL = ("--http-port", "0", "--transport-port", "0")
CLI_TIMEOUT_S = 120.0
# `python -m cluster` must find the package under test wherever pytest was started from.
SOURCE_ROOT = Path(cluster.__file__).resolve().parents[1]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cluster", *args]


def simcluster(*args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Runs `python -m cluster ARGS` to completion; a traceback on stderr is always a failure."""
    result = subprocess.run(
        command(*args), capture_output=True, text=True, timeout=timeout, check=False, cwd=SOURCE_ROOT
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def status_document(home: Path) -> dict[str, Any]:
    result = simcluster("status", "--json", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def stored_pids(home: Path) -> dict[str, tuple[int, Path]]:
    if not ClusterHome(home).exists():
        return {}
    state = ClusterHome(home).load()
    return {r.name: (r.pid, r.data_dir) for r in state.nodes if r.pid is not None}


def _wait_until_gone(pids: dict[str, tuple[int, Path]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(node_process_alive(pid, data_dir) for pid, data_dir in pids.values()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A cluster home that is always brought down after the test, whatever state it was left in."""
    path = tmp_path / "home"
    seen: dict[str, tuple[int, Path]] = {}
    try:
        yield path
    finally:
        seen.update(stored_pids(path))
        if ClusterHome(path).exists():
            subprocess.run(
                command("down", "--home", str(path), "--timeout", "5"),
                capture_output=True, timeout=60, check=False, cwd=SOURCE_ROOT,
            )  # fmt: skip
        for pid, data_dir in seen.values():
            if node_process_alive(pid, data_dir):
                os.killpg(pid, signal.SIGKILL)


def test_up_status_endpoints_down_and_up_again_keep_the_node_ids(home: Path) -> None:
    up = simcluster("up", "--nodes", "3", "--detach", "--home", str(home), *EPHEMERAL)
    assert up.returncode == 0, up.stderr
    header, *rows, footer = up.stdout.splitlines()
    assert header.split() == ["NAME", "NODE", "ID", "PID", "HTTP", "TRANSPORT", "ROLES", "MASTER"]
    assert [row.split()[0] for row in rows] == ["node-1", "node-2", "node-3"]
    assert sorted(row.split()[-1] for row in rows) == ["*", "-", "-"]
    assert all(row.split()[-2] == "dim" for row in rows)
    assert "simcluster down" in footer

    status = status_document(home)
    assert [n["state"] for n in status["nodes"]] == ["UP", "UP", "UP"]
    masters = [n["name"] for n in status["nodes"] if n["master"]]
    assert masters == [status["master"]]
    ids = {n["name"]: n["node_id"] for n in status["nodes"]}
    assert all(len(node_id) == 22 for node_id in ids.values())

    endpoints = simcluster("endpoints", "--home", str(home))
    assert endpoints.returncode == 0, endpoints.stderr
    name, _, value = endpoints.stdout.strip().partition("=")
    urls = value.split(",")
    assert name == "ES_HOSTS"
    assert urls == [f"http://{n['http_address']}" for n in status["nodes"]]
    for node_status, url in zip(status["nodes"], urls, strict=True):
        root = get_json(url.removeprefix("http://"), "/", 5.0)
        assert root is not None and root.body["name"] == node_status["name"]
    plain = simcluster("endpoints", "--format", "plain", "--home", str(home))
    assert plain.stdout.splitlines() == urls

    again = simcluster("up", "--detach", "--home", str(home))
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1
    assert "already running" in again.stderr and "simcluster down" in again.stderr

    down = simcluster("down", "--home", str(home))
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == ["node-1: stopped", "node-2: stopped", "node-3: stopped"]
    assert [(n["state"], n["pid"]) for n in status_document(home)["nodes"]] == [("DOWN", None)] * 3

    restarted = simcluster("up", "--detach", "--home", str(home))
    assert restarted.returncode == 0, restarted.stderr
    status = status_document(home)
    assert [n["state"] for n in status["nodes"]] == ["UP", "UP", "UP"]
    assert {n["name"]: n["node_id"] for n in status["nodes"]} == ids
    assert status["master"] in ids

    assert simcluster("down", "--home", str(home)).returncode == 0


def test_a_killed_node_is_down_in_status_not_a_crash(home: Path) -> None:
    up = simcluster("up", "--nodes", "3", "--detach", "--home", str(home), *EPHEMERAL)
    assert up.returncode == 0, up.stderr
    pids = stored_pids(home)
    os.killpg(pids["node-2"][0], signal.SIGKILL)
    assert _wait_until_gone({"node-2": pids["node-2"]}, 10.0)

    status = status_document(home)
    assert [n["state"] for n in status["nodes"]] == ["UP", "DOWN", "UP"]
    table = simcluster("status", "--home", str(home))
    assert table.returncode == 0, table.stderr
    assert [line.split()[:2] for line in table.stdout.splitlines()[2:]] == [
        ["node-1", "UP"],
        ["node-2", "DOWN"],
        ["node-3", "UP"],
    ]

    down = simcluster("down", "--home", str(home))
    assert down.stdout.splitlines() == ["node-1: stopped", "node-2: already down", "node-3: stopped"]


def _read_until(process: subprocess.Popen[bytes], text: str, timeout: float, *, stderr: bool = False) -> str:
    """Reads the foreground command's stdout (or stderr) until it contains `text`; fails at the deadline or EOF."""
    stream = process.stderr if stderr else process.stdout
    assert stream is not None
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while text.encode() not in seen and time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
    if text.encode() not in seen:
        pytest.fail(f"no {text!r} on stdout in time; got:\n{seen.decode(errors='replace')}")
    return seen.decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_foreground_up_stops_every_node_on_ctrl_c_or_sigterm(home: Path, sig: signal.Signals) -> None:
    process = subprocess.Popen(
        command("up", "--nodes", "2", "--home", str(home), *EPHEMERAL),
        cwd=SOURCE_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _read_until(process, "press Ctrl-C", CLI_TIMEOUT_S)
        pids = stored_pids(home)
        assert len(pids) == 2
        process.send_signal(sig)
        out, err = (stream.decode() for stream in process.communicate(timeout=30))
        assert process.returncode == 0, err
        assert "Traceback" not in err
        assert out.splitlines()[-1].startswith("stopped 2 nodes of cluster [simcluster]")
        assert _wait_until_gone(pids, 1.0)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_foreground_up_reports_a_killed_node_and_keeps_the_others(home: Path) -> None:
    process = subprocess.Popen(
        command("up", "--nodes", "3", "--home", str(home), *EPHEMERAL),
        cwd=SOURCE_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _read_until(process, "press Ctrl-C", CLI_TIMEOUT_S)
        os.killpg(stored_pids(home)["node-2"][0], signal.SIGKILL)
        _read_until(process, "node-2 exited (killed by SIGKILL)", 10.0, stderr=True)
        assert process.poll() is None
        assert [n["state"] for n in status_document(home)["nodes"]] == ["UP", "DOWN", "UP"]
        process.send_signal(signal.SIGINT)
        out, err = (stream.decode() for stream in process.communicate(timeout=30))
        assert process.returncode == 0, err
        assert out.splitlines()[-1].startswith("stopped 2 nodes of cluster [simcluster]")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_foreground_nodes_die_with_a_killed_launcher(home: Path) -> None:
    process = subprocess.Popen(
        command("up", "--nodes", "2", "--home", str(home), *EPHEMERAL),
        cwd=SOURCE_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        _read_until(process, "press Ctrl-C", CLI_TIMEOUT_S)
        pids = stored_pids(home)
        process.kill()  # SIGKILL: no cleanup code runs; stdin EOF is all the nodes get
        process.wait()
        assert _wait_until_gone(pids, 15.0)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
