"""`simcluster ui` as a user runs it: the page's URL, and the node verbs it serves to the page, on real processes."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from cluster.launcher import LocalCluster
from cluster.state import NodeState
from cluster.ui_control import TOKEN_HEADER
from tests.e2e.conftest import ClusterFactory
from tests.e2e.test_cli import SOURCE_ROOT, _read_until, command
from tests.support.http import Response, call
from tests.support.nodes import url

pytestmark = pytest.mark.e2e


class UiCommand:
    """A running `simcluster ui --no-browser`, and what it printed."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.process = subprocess.Popen(
            command("ui", "--home", str(cluster.home.root), "--no-browser"),
            cwd=SOURCE_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        printed = _read_until(self.process, "Ctrl-C stops them", 30.0)
        self.page = printed.splitlines()[0].rsplit(" ", 1)[1]
        fragment = parse_qs(urlsplit(self.page).fragment)
        self.control, self.token = fragment["control"][0], fragment["token"][0]

    def send(self, method: str, path: str, *, token: bool = True, origin: str | None = None) -> Response:
        headers = {TOKEN_HEADER: self.token} if token else {}
        if origin is not None:
            headers["Origin"] = origin
        return call(self.control, method, path, headers=headers, timeout=60.0)

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=30)
        return self.process.returncode, err.decode()


@pytest.fixture
def ui(cluster_factory: ClusterFactory) -> Iterator[UiCommand]:
    command = UiCommand(cluster_factory(2))
    try:
        yield command
    finally:
        command.stop()


def test_it_prints_the_page_of_a_node_that_is_up(ui: UiCommand, cluster_factory: ClusterFactory) -> None:
    (cluster,) = cluster_factory.clusters
    assert ui.page.startswith(f"{url(cluster, 'node-1')}/_sim/ui/#control=http://127.0.0.1:")
    page = call(url(cluster, "node-1"), "GET", urlsplit(ui.page).path)
    assert page.status == 200 and "app.js" in page.text


def test_every_request_needs_the_token(ui: UiCommand) -> None:
    refused = ui.send("GET", "/nodes", token=False)
    assert (refused.status, refused.json) == (403, {"error": f"missing or wrong {TOKEN_HEADER} header"})
    assert ui.send("POST", "/nodes/node-2/kill", token=False).status == 403


def test_status_lists_every_node(ui: UiCommand) -> None:
    status = ui.send("GET", "/nodes").json
    assert [(n["name"], n["state"]) for n in status["nodes"]] == [("node-1", "UP"), ("node-2", "UP")]


def test_only_pages_of_the_cluster_may_read_the_answers(ui: UiCommand, cluster_factory: ClusterFactory) -> None:
    (cluster,) = cluster_factory.clusters
    page = url(cluster, "node-2")
    preflight = call(
        ui.control,
        "OPTIONS",
        "/nodes/node-2/kill",
        headers={"Origin": page, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == page
    assert preflight.headers["Access-Control-Allow-Headers"] == TOKEN_HEADER
    assert ui.send("GET", "/nodes", origin=page).headers["Access-Control-Allow-Origin"] == page
    assert "Access-Control-Allow-Origin" not in ui.send("GET", "/nodes", origin="http://evil.example:80").headers


def test_pause_resume_kill_and_start_a_node(ui: UiCommand, cluster_factory: ClusterFactory) -> None:
    (cluster,) = cluster_factory.clusters

    def verb(name: str, action: str) -> tuple[int, object]:
        answer = ui.send("POST", f"/nodes/{name}/{action}")
        return answer.status, json.loads(answer.text)

    assert verb("node-2", "pause") == (200, {"name": "node-2", "verb": "pause", "result": "paused (SIGSTOP)"})
    assert cluster.status().node("node-2").state is NodeState.PAUSED
    assert verb("node-2", "resume")[1] == {"name": "node-2", "verb": "resume", "result": "resumed (SIGCONT)"}
    assert verb("node-2", "kill")[1] == {"name": "node-2", "verb": "kill", "result": "killed (SIGKILL)"}
    assert cluster.status().node("node-2").state is NodeState.DOWN
    assert verb("node-2", "pause") == (
        409,
        {"error": "cannot pause node-2: it is not running; start it with `simcluster node start node-2`"},
    )
    assert verb("node-2", "start")[1]["result"] == "started, joined the cluster"
    assert cluster.status().node("node-2").state is NodeState.UP
    assert verb("node-9", "kill")[0] == 404
    assert verb("node-2", "explode") == (
        404,
        {"error": "expected POST /nodes/NAME/VERB with VERB one of kill, pause, resume, start"},
    )


def test_ctrl_c_stops_it_cleanly(ui: UiCommand) -> None:
    code, err = ui.stop()
    assert code == 0 and "Traceback" not in err
