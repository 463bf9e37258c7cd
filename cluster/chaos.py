"""Running a chaos schedule against a live cluster, with a journal of what was done when (`simcluster chaos`).

The schedule comes whole from the seed (`cluster.chaos_plan`); the runner executes it against the wall clock,
applying each event and healing it when its time is up, through the same `LocalCluster` verbs and `/_sim/faults`
calls the CLI uses. Network faults are installed with their planned duration as a lifetime on the nodes, so even a
runner that dies leaves nothing behind for long.

The journal is JSON lines, as Jepsen records nemesis operations in its history, so a client error can be matched
with the fault in force at that moment:

    {"time": "...", "event": "chaos_start", "seed": 7, "duration": 60.0, "interval": 10.0, "events": [...], ...}
    {"time": "...", "seq": 1, "event": "kill", "targets": ["node-2"], "healed": null, "planned_at": 3.1, ...}
    {"time": "...", "seq": 1, "event": "kill", "targets": ["node-2"], "healed": "...", "planned_at": 3.1, ...}
    {"time": "...", "event": "chaos_end", "healed": [...], "formed": "..." | null, "error": null, ...}

Each event has two lines with the same `seq` and `time` (when it was applied): one written when applied
(`healed: null`), one when healed; a failure to apply or heal is an `error` field, never the end of the run. At the
end every fault is healed, killed nodes are started, paused ones resumed, and the runner waits until the cluster
is whole again (ES `removeAndEnsureHealthy`); then it reads the nodes' logs for two masters elected in one term.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cluster.chaos_plan import ChaosEvent, schedule_steps
from cluster.disruption import Link, link, partition
from cluster.errors import ClusterError
from cluster.fault_client import FaultOptions, NodeAnswer, fault_bodies, heal_faults, install_faults, remove_faults
from cluster.launcher import LocalCluster
from cluster.logs import masters_by_term, read_log
from cluster.process import StopOutcome
from cluster.state import NodeState

__all__ = ["ChaosOutcome", "ChaosRunner", "default_journal_path", "utc_now"]

_JOIN_TIMEOUT_S = 20.0


def utc_now() -> str:
    """An ISO-8601 UTC instant with milliseconds, as the nodes' `@timestamp`, so journal and logs sort together."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def default_journal_path(home: Path, seed: int) -> Path:
    """`<home>/chaos/<UTC start>-seed-<seed>.jsonl`: one file per run, next to the cluster it ran against."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return home / "chaos" / f"{stamp}-seed-{seed}.jsonl"


@dataclass(slots=True)
class ChaosOutcome:
    """What a run did: events applied, the failures met, whether the cluster formed again, and split brains."""

    applied: int = 0
    errors: list[str] = field(default_factory=list)
    formed: bool = False
    split_brain: dict[int, set[str]] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.formed and not self.split_brain and not self.interrupted


class ChaosRunner:
    """Executes one schedule against `cluster`, journaling to `journal`.

    Args:
        echo: receives one human-readable line per step (the CLI prints them).
        form_timeout: seconds to wait, at the end, for the cluster to be whole again.
    """

    def __init__(
        self,
        cluster: LocalCluster,
        schedule: Sequence[ChaosEvent],
        journal: Path,
        *,
        seed: int,
        settings: dict[str, Any],
        echo: Callable[[str], None] = lambda line: None,
        form_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._cluster = cluster
        self._schedule = tuple(schedule)
        self._journal_path = journal
        self._seed = seed
        self._settings = settings
        self._echo = echo
        self._form_timeout = form_timeout
        self._clock = clock
        self._sleep = sleep
        self._applied_at: dict[int, str] = {}
        self._holders: dict[int, set[str]] = {}  # nodes that accepted an event's rules, by seq
        self._journal: IO[str] | None = None
        self._start = 0.0

    def run(self) -> ChaosOutcome:
        """Runs the schedule, then heals everything and waits for the cluster; Ctrl-C skips to the healing."""
        outcome = ChaosOutcome()
        self._journal_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._journal_path, "a", encoding="utf-8") as self._journal:
            names = list(self._cluster.names)
            self._write({"event": "chaos_start", "seed": self._seed, **self._settings, "nodes": names})
            self._start = self._clock()
            try:
                for due, healing, event in schedule_steps(self._schedule):
                    self._wait_until(due)
                    if healing:
                        self._heal(event, outcome)
                    else:
                        self._apply(event, outcome)
            except KeyboardInterrupt:
                outcome.interrupted = True
                self._echo("interrupted: healing everything")
            self._finish(outcome)
        self._journal = None
        return outcome

    # ---- steps ----------------------------------------------------------------------------------------------

    def _apply(self, event: ChaosEvent, outcome: ChaosOutcome) -> None:
        error = self._attempt(lambda: self._do_apply(event))
        self._applied_at[event.seq] = utc_now()
        outcome.applied += 1
        if error is not None:
            outcome.errors.append(f"#{event.seq} {event.kind}: {error}")
        self._journal_event(event, healed=None, error=error)
        self._echo(f"{self._offset()} #{event.seq} {event.describe()} for {event.duration:.1f}s{_failed(error)}")

    def _heal(self, event: ChaosEvent, outcome: ChaosOutcome) -> None:
        error = self._attempt(lambda: self._do_heal(event))
        if error is not None:
            outcome.errors.append(f"#{event.seq} heal {event.kind}: {error}")
        self._journal_event(event, healed=utc_now(), error=error)
        self._echo(f"{self._offset()} #{event.seq} healed {event.describe()}{_failed(error)}")

    def _do_apply(self, event: ChaosEvent) -> str | None:
        target = event.targets[0]
        if event.kind == "kill":
            return None if self._cluster.kill_node(target) else f"{target} was not running"
        if event.kind == "pause":
            return None if self._cluster.pause_node(target) else f"{target} was paused already"
        return self._install(event)

    def _do_heal(self, event: ChaosEvent) -> str | None:
        target = event.targets[0]
        if event.kind == "kill":
            self._cluster.start_node(target, wait=True, timeout=_JOIN_TIMEOUT_S)
            return None
        if event.kind == "pause":
            self._cluster.resume_node(target)
            return None
        # A node that is down has no rules left; a paused one keeps them until their lifetime ends.
        holders = self._holders.pop(event.seq, set())
        answers = remove_faults([r for r in self._cluster.nodes if r.name in holders], self._group(event))
        return _failures([a for a in answers if a.error != "down"], paused="its rules expire by themselves")

    def _install(self, event: ChaosEvent) -> str | None:
        names = list(self._cluster.names)
        links: tuple[Link, ...]
        if event.kind == "partition":
            links = partition(event.sides, names)
            options = FaultOptions(kind=event.fault)
        else:
            links = link(event.targets[0], event.targets[1], names, both=event.both_ways)
            if event.kind == "delay":
                options = FaultOptions(kind="delay", delay_ms=event.delay_ms, jitter_ms=event.jitter_ms)
            else:
                options = FaultOptions(kind="drop", probability=event.probability)
        records = self._cluster.nodes
        addresses = {r.name: r.transport_address for r in records}
        lifetime_ms = int(event.duration * 1000) + 1000  # a runner that dies leaves nothing behind for long
        options = dataclasses.replace(options, duration_ms=lifetime_ms, seed=self._seed * 1000 + event.seq)
        bodies = fault_bodies(links, options, addresses, self._group(event))
        answers = install_faults(records, bodies)
        self._holders[event.seq] = {a.name for a in answers if a.ids}
        return _failures(answers)

    def _finish(self, outcome: ChaosOutcome) -> None:
        """Heals everything, restarts and resumes nodes, waits for the cluster to form, checks for split brain."""
        actions: list[str] = []
        for status in self._cluster.status().nodes:
            if status.state is NodeState.PAUSED:
                self._attempt(functools.partial(self._cluster.resume_node, status.name))
                actions.append(f"resumed {status.name}")
        healed = heal_faults(self._cluster.nodes)
        if any(answer.ids for answer in healed):
            actions.append("healed faults on " + ", ".join(a.name for a in healed if a.ids))
        for name in self._cluster.names:
            if name not in self._cluster.running():
                error = self._attempt(functools.partial(self._cluster.start_node, name, wait=False))
                actions.append(f"started {name}" + _failed(error))
        formed_error = self._attempt(lambda: self._cluster.wait_until_formed(self._form_timeout))
        outcome.formed = formed_error is None
        if formed_error is not None:
            outcome.errors.append(f"the cluster did not form again: {formed_error}")
        logs = {r.name: read_log(r.log_file) for r in self._cluster.nodes}
        outcome.split_brain = {term: m for term, m in masters_by_term(logs).items() if len(m) > 1}
        self._write(
            {
                "event": "chaos_end",
                "healed": actions,
                "formed": utc_now() if outcome.formed else None,
                "split_brain": {str(t): sorted(m) for t, m in outcome.split_brain.items()},
                "errors": outcome.errors,
                "interrupted": outcome.interrupted,
            }
        )
        for action in actions:
            self._echo(f"{self._offset()} {action}")
        self._echo(f"{self._offset()} " + ("the cluster is whole again" if outcome.formed else f"{formed_error}"))

    # ---- helpers --------------------------------------------------------------------------------------------

    def _attempt(self, step: Callable[[], str | None | bool | StopOutcome]) -> str | None:
        """Runs one step; a failure becomes its message (for the journal), never the end of the run."""
        try:
            result = step()
        except (ClusterError, OSError, ValueError) as e:
            return str(e)
        return result if isinstance(result, str) else None

    def _group(self, event: ChaosEvent) -> str:
        return f"chaos-{self._seed}-{event.seq}"

    def _wait_until(self, due: float) -> None:
        remaining = self._start + due - self._clock()
        if remaining > 0:
            self._sleep(remaining)

    def _offset(self) -> str:
        return f"+{self._clock() - self._start:6.1f}s"

    def _journal_event(self, event: ChaosEvent, *, healed: str | None, error: str | None) -> None:
        record: dict[str, Any] = {
            "time": self._applied_at.get(event.seq, utc_now()),
            "seq": event.seq,
            "event": event.kind,
            "targets": list(event.targets),
            "healed": healed,
            "planned_at": event.at,
            "planned_duration": event.duration,
            **event.details(),
        }
        if error is not None:
            record["error"] = error
        self._write(record, stamp=False)

    def _write(self, record: dict[str, Any], *, stamp: bool = True) -> None:
        assert self._journal is not None
        line = {"time": utc_now(), **record} if stamp else record
        self._journal.write(json.dumps(line) + "\n")
        self._journal.flush()


def _failures(answers: Sequence[NodeAnswer], *, paused: str = "not installed") -> str | None:
    failed = [f"{a.name} {a.error}" + (f" ({paused})" if a.error == "paused" else "") for a in answers if not a.ok]
    return "; ".join(failed) if failed else None


def _failed(error: str | None) -> str:
    return "" if error is None else f" (failed: {error})"
