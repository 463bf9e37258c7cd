"""A short seeded chaos run (`ChaosRunner`, what `simcluster chaos` runs) with HTTP clients hitting every node.

What must hold, however the faults fall: no client request hangs past its timeout (except on a node that is paused
at that moment, which cannot answer anything), no 5xx for a partial failure, no two masters in one term, the
cluster whole again at the end, stored results still readable, and no test task left running once healed.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest

from cluster.chaos import ChaosRunner
from cluster.chaos_plan import plan_chaos
from cluster.launcher import LocalCluster
from cluster.state import ClusterHome
from tests.chaos.conftest import assert_no_split_brain, get, post, test_tasks
from tests.support.http import call, wait_until

pytestmark = pytest.mark.chaos

NAMES = ("node-1", "node-2", "node-3")
SEED = 14  # pause, kill, delays and a black-hole partition within 15 s (see the schedule assertion)
LIST_TIMEOUT_S = 2.0
MARGIN_S = 8.0
PAUSE_SLACK_S = 1.0


@dataclass(frozen=True, slots=True)
class Call:
    """One client request: target, wall-clock span, and the status or the client-side error."""

    node: str
    method: str
    started: float
    ended: float
    status: int | None
    error: str | None

    @property
    def took(self) -> float:
        return self.ended - self.started


class Clients:
    """One thread per node, sending `GET /_tasks?timeout=2s` in a loop and a test task tree now and then."""

    def __init__(self, home: Path) -> None:
        self._home = ClusterHome(home)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(name,), daemon=True) for name in NAMES]
        self.calls: list[Call] = []

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60.0)

    def _url(self, name: str) -> str | None:
        # Read cluster.json afresh: a restarted node may listen on another ephemeral port.
        return self._home.load().record(name).http_url

    def _run(self, name: str) -> None:
        count = 0
        while not self._stop.is_set():
            count += 1
            if count % 5 == 0:
                self._one(name, "POST", "/_sim/tasks?wait_for_completion=false&duration=300ms&check_interval=50ms")
            else:
                self._one(name, "GET", f"/_tasks?timeout={int(LIST_TIMEOUT_S)}s")
            self._stop.wait(0.05)

    def _one(self, name: str, method: str, path: str) -> None:
        url = self._url(name)
        started = time.time()
        status = error = None
        if url is None:
            return
        try:
            status = call(url, method, path, timeout=LIST_TIMEOUT_S + MARGIN_S + 20).status
        except OSError as e:
            error = f"{type(e).__name__}: {e}"
        self.calls.append(Call(name, method, started, time.time(), status, error))


def _epoch(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def paused_windows(journal: Path) -> dict[str, list[tuple[float, float]]]:
    """When each node was paused, from the journal's healed pause events."""
    windows: dict[str, list[tuple[float, float]]] = {}
    for line in journal.read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "pause" and record.get("healed"):
            span = (_epoch(record["time"]) - PAUSE_SLACK_S, _epoch(record["healed"]) + PAUSE_SLACK_S)
            windows.setdefault(record["targets"][0], []).append(span)
    return windows


def test_a_seeded_chaos_run_with_clients_on_every_node(chaos_cluster: LocalCluster, tmp_path: Path) -> None:
    stored = []
    for name in NAMES:
        response = post(chaos_cluster, name, "/_sim/tasks?wait_for_completion=false&duration=10ms")
        assert response.status == 200, response.text
        stored.append(response.json["task"])
    for task in stored:
        wait_until(lambda task=task: get(chaos_cluster, "node-1", f"/_tasks/{task}").json.get("completed"), 15.0)

    schedule = plan_chaos(SEED, NAMES, duration=15.0, interval=3.0, kinds=("kill", "pause", "partition", "delay"))
    assert {e.kind for e in schedule} == {"kill", "pause", "partition", "delay"}
    journal = tmp_path / "journal.jsonl"
    runner = ChaosRunner(chaos_cluster, schedule, journal, seed=SEED, settings={}, form_timeout=60.0)
    with Clients(chaos_cluster.home.root) as clients:
        outcome = runner.run()
    assert outcome.formed, outcome.errors
    assert outcome.split_brain == {}
    assert_no_split_brain(chaos_cluster)

    answered = [c for c in clients.calls if c.status is not None]
    assert len(answered) > 50, f"too few answers to mean anything: {len(answered)} of {len(clients.calls)}"
    assert [c for c in answered if c.status >= 500] == []
    paused = paused_windows(journal)
    hung = [
        c
        for c in clients.calls
        if c.took > LIST_TIMEOUT_S + MARGIN_S
        and not any(start <= c.ended and c.started <= end for start, end in paused.get(c.node, []))
    ]
    assert hung == [], f"requests that hung past their timeout: {hung}"

    for task in stored:
        for name in NAMES:
            response = get(chaos_cluster, name, f"/_tasks/{task}")
            assert response.status == 200 and response.json["completed"] is True, response.text
    for name in NAMES:
        wait_until(lambda name=name: not test_tasks(chaos_cluster, name), 30.0, what=f"no test task left on {name}")
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["event"] == "chaos_start" and lines[-1]["event"] == "chaos_end"
    assert sorted({line["seq"] for line in lines if "seq" in line}) == [e.seq for e in schedule]
