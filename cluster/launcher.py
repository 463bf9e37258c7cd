"""`LocalCluster`: N node processes on this machine, the one class behind `simcluster` and the e2e fixtures.

Mirrors Elasticsearch's own test cluster and ccm's library: the same object starts a cluster, waits for it to
form, reports status, kills single nodes and tears everything down, so the CLI and the tests exercise one code path.

Lifecycle, and why each step is there:

* `start()` spawns every node before reading any ready line, so the slow interpreter and gRPC imports overlap.
  With ephemeral transport ports the first node starts alone and the rest are seeded with its real address.
  Process ids are written to `cluster.json` right after spawning, so a launcher that dies still leaves `down`
  something to stop.
* `wait_until_formed()` polls `GET /_cluster/health?wait_for_nodes=N` on *every* node until each one sees all N,
  with a deadline. Only then is the cluster marked bootstrapped (later starts omit `--initial-master-nodes`).
* `stop()` (also `__exit__`, and an `atexit` backstop for foreground nodes) closes stdins, SIGTERMs the process
  groups, waits, SIGKILLs what is left and reaps. Data stays, so starting the same home again restarts the same
  nodes with the same ids.

A cluster started by another process (`simcluster up --detach`) is adopted with `LocalCluster.attach(home)`:
its nodes are then known by pid only, and every verb works the same way on them.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self

from cluster.errors import ClusterError, ClusterFormationError, ClusterRunningError, ClusterStateError
from cluster.plan import new_node_configs, start_config
from cluster.probe import find_master, node_states, poll_health
from cluster.process import (
    StopOutcome,
    read_ready_lines,
    signal_group,
    spawn_node,
    stop_pids,
    stop_processes,
    tail_lines,
    wait_until,
)
from cluster.state import ClusterFile, ClusterHome, ClusterStatus, NodeRecord, NodeState, NodeStatus, node_process_alive
from node.config import NodeConfig

__all__ = ["FAST_FAILURE_DETECTION", "LocalCluster"]

# Leader/follower checks every 200 ms, out after 3 failures: a killed node leaves the cluster in about a second.
FAST_FAILURE_DETECTION: Mapping[str, int] = MappingProxyType(
    {"fd_interval_ms": 200, "fd_timeout_ms": 500, "fd_retries": 3}
)

_BLIND_POLL_S = 0.5

# Foreground node processes of every LocalCluster in this interpreter, stopped at exit if nobody else did.
_OWNED: set[subprocess.Popen[bytes]] = set()


def _stop_leftovers() -> None:
    stop_processes({str(p.pid): p for p in _OWNED if p.returncode is None}, grace=2.0)
    _OWNED.clear()


atexit.register(_stop_leftovers)


@dataclasses.dataclass(slots=True)
class _Member:
    """One node of the cluster: its record, and its process when this launcher started it."""

    record: NodeRecord
    process: subprocess.Popen[bytes] | None = None


class LocalCluster:
    """A cluster of local node processes rooted in a home directory.

    Args:
        home: the cluster home (`cluster.json`, `nodes/<name>/`). When it already holds a cluster, `start()`
            restarts those nodes (same names, data directories and preferred ports) and the arguments below must
            match what is stored; `node_defaults` and `node_overrides` only shape a new cluster.
        nodes: number of nodes, named `node-1` … `node-N`.
        http_port / transport_port: base ports; node *i* prefers `base+i` and moves up to 99 further if it is
            taken. `0` for ephemeral ports (tests).
        node_defaults: `NodeConfig` fields for every node, e.g. `FAST_FAILURE_DETECTION`.
        node_overrides: per node name, `NodeConfig` fields such as `{"node-3": {"roles": ("data",)}}`.
        detach: nodes do not watch their stdin, so they outlive this process (`simcluster up --detach`).
        start_timeout: seconds for every node to print its ready line.
        stop_timeout: seconds between SIGTERM and SIGKILL when stopping.
    """

    def __init__(
        self,
        home: Path | str,
        nodes: int = 3,
        *,
        cluster_name: str = "simcluster",
        http_port: int = 9200,
        transport_port: int = 9300,
        node_defaults: Mapping[str, Any] | None = None,
        node_overrides: Mapping[str, Mapping[str, Any]] | None = None,
        detach: bool = False,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if nodes < 1:
            raise ValueError(f"a cluster needs at least one node, got {nodes}")
        self._home = ClusterHome(Path(home))
        self._count = nodes
        self._cluster_name = cluster_name
        self._http_port = http_port
        self._transport_port = transport_port
        self._node_defaults = dict(node_defaults or {})
        self._node_overrides = {name: dict(o) for name, o in (node_overrides or {}).items()}
        self._detach = detach
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._state: ClusterFile | None = None
        self._members: dict[str, _Member] = {}

    @classmethod
    def attach(cls, home: Path | str, *, stop_timeout: float = 10.0) -> LocalCluster:
        """Adopts the cluster stored in `home` (e.g. started detached by another process) without starting it.

        Raises:
            NoClusterError: the home has no `cluster.json`.
        """
        state = ClusterHome(Path(home)).load()
        cluster = cls(
            home,
            len(state.nodes),
            cluster_name=state.cluster_name,
            http_port=state.http_port,
            transport_port=state.transport_port,
            detach=True,
            stop_timeout=stop_timeout,
        )
        cluster._adopt(state)
        return cluster

    # -- accessors ------------------------------------------------------------------------------------------------

    @property
    def home(self) -> ClusterHome:
        return self._home

    @property
    def cluster_name(self) -> str:
        return self._cluster_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._members)

    @property
    def nodes(self) -> tuple[NodeRecord, ...]:
        """The last known record of every node (name, id, pid, addresses, config), in start order."""
        return tuple(m.record for m in self._members.values())

    def node(self, name: str) -> NodeRecord:
        """The last known record of one node; `UnknownNodeError` for a name the cluster does not have."""
        return self._member(name).record

    def running(self) -> tuple[str, ...]:
        """Names of the nodes whose process is alive (whether or not it answers)."""
        return tuple(name for name, m in self._members.items() if self._alive(m))

    def endpoints(self) -> list[str]:
        """HTTP URLs of the nodes whose process is alive, for `Elasticsearch(hosts=...)` or `ES_HOSTS`."""
        return [m.record.http_url for m in self._members.values() if self._alive(m) and m.record.http_url]

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Starts every node (a new cluster, or the stored one again) and returns once each printed ready.

        Raises:
            ClusterRunningError: nodes of this home are still running.
            ClusterStateError: the home holds a cluster other than the one asked for.
            NodeStartError: a node exited or stayed silent; every node started here is stopped again.
        """
        if any(m.process is not None and m.process.poll() is None for m in self._members.values()):
            raise ClusterRunningError(f"the cluster in {self._home.root} is already started by this launcher")
        stored = self._home.load_if_exists()
        if stored is not None:
            self._check_not_running(stored)
            self._check_matches(stored)
        self._adopt(stored if stored is not None else self._new_state())
        try:
            self._spawn_all()
        except BaseException:
            self.stop()
            raise

    def wait_until_formed(self, timeout: float = 30.0) -> None:
        """Waits until every node sees a cluster of all N nodes with an elected master.

        Raises:
            ClusterFormationError: the deadline passed or a node exited; carries the tail of every node's log.
        """
        if self._state is None:
            raise ClusterError(f"the cluster in {self._home.root} has not been started")
        deadline = time.monotonic() + timeout
        expected = len(self._members)
        for member in self._members.values():
            view = poll_health(member.record, expected, deadline, functools.partial(self._alive, member))
            if not view.formed:
                what = (
                    f"{member.record.name} exited while the cluster was forming (log: {member.record.log_file})"
                    if view.exited
                    else f"the cluster did not form with all {expected} nodes within {timeout:g}s:"
                    f" {member.record.name} {view.last_seen}"
                )
                raise ClusterFormationError(what, self.log_tails(20))
        self._save(bootstrapped=True)

    def stop(self, timeout: float | None = None) -> dict[str, StopOutcome]:
        """Stops every node (SIGTERM, then SIGKILL after `timeout` seconds) and keeps their data."""
        grace = self._stop_timeout if timeout is None else timeout
        owned = {name: m.process for name, m in self._members.items() if m.process is not None}
        adopted = {
            name: (m.record.pid, m.record.data_dir)
            for name, m in self._members.items()
            if m.process is None and m.record.pid is not None
        }
        outcomes = {**stop_processes(owned, grace), **stop_pids(adopted, grace)}
        for name, member in self._members.items():
            outcomes.setdefault(name, StopOutcome.ALREADY_DOWN)
            if member.process is not None:
                _OWNED.discard(member.process)
            member.process = None
            member.record = member.record.with_changes(pid=None)
        if self._state is not None:
            self._save()
        return {name: outcomes[name] for name in self._members}

    # -- observation and chaos ------------------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        """Every node's state (UP/DOWN/PAUSED/UNRESPONSIVE) and the elected master, probed in parallel."""
        self._reap()
        members = list(self._members.values())
        states = node_states([m.record for m in members])
        master = find_master([m.record for m, s in zip(members, states, strict=True) if s is NodeState.UP], self.nodes)
        nodes = tuple(
            NodeStatus(
                name=m.record.name,
                state=state,
                node_id=m.record.node_id,
                pid=m.record.pid,
                http_address=m.record.http_address,
                transport_address=m.record.transport_address,
                roles=m.record.roles,
                is_master=m.record.name == master,
                data_dir=m.record.data_dir,
                log_file=m.record.log_file,
            )
            for m, state in zip(members, states, strict=True)
        )
        return ClusterStatus(self._cluster_name, self._home.root, nodes, master)

    def kill_node(self, name: str, sig: signal.Signals = signal.SIGKILL) -> bool:
        """Sends `sig` to a node's process group; False when the node was not running.

        After SIGKILL this waits (up to 5 s) until the process is gone, so the next `status()` shows it DOWN.
        """
        member = self._member(name)
        pid = member.record.pid
        if pid is None or not self._alive(member):
            return False
        if not signal_group(pid, sig):
            return False
        if sig == signal.SIGKILL:
            if member.process is not None:
                member.process.wait(timeout=5.0)
            else:
                wait_until(lambda: not node_process_alive(pid, member.record.data_dir), 5.0)
            self._reap()
        return True

    def wait_for_exits(self, timeout: float | None) -> dict[str, int | None]:
        """Blocks until a node started by this launcher exits (or `timeout`); returns their exit codes by name.

        Watches the nodes' stdout pipes, which reach EOF when a process exits, so this sleeps in the kernel
        instead of polling, and it drains anything a node wrote there so the pipe can never fill up. A node that
        closed its stdout yet lives on can only be polled, every half second.
        """
        owned = {name: m.process for name, m in self._members.items() if m.process is not None}
        watched = {p.stdout: name for name, p in owned.items() if p.stdout is not None and not p.stdout.closed}
        blind = [name for name, p in owned.items() if name not in watched.values() and p.poll() is None]
        if not watched and not blind:
            return {}
        if blind:
            timeout = _BLIND_POLL_S if timeout is None else min(timeout, _BLIND_POLL_S)
        ended: list[str] = []
        if watched:
            with selectors.DefaultSelector() as selector:
                for stream in watched:
                    selector.register(stream, selectors.EVENT_READ)
                for key, _ in selector.select(timeout):
                    if not key.fileobj.read1(65536):  # type: ignore[union-attr]
                        ended.append(watched[key.fileobj])  # type: ignore[index]
        else:
            time.sleep(_BLIND_POLL_S if timeout is None else timeout)  # only blind nodes to poll
        codes: dict[str, int | None] = {}
        for name in ended:
            process = owned[name]
            process.stdout.close()  # type: ignore[union-attr]
            with contextlib.suppress(subprocess.TimeoutExpired):  # closed stdout yet lives on: polled from now on
                codes[name] = process.wait(timeout=2.0)
        codes.update({name: owned[name].returncode for name in blind if owned[name].poll() is not None})
        self._reap()
        return codes

    def log_tails(self, lines: int = 50) -> dict[str, list[str]]:
        """The last `lines` lines of every node's log, for failure reports."""
        return {name: tail_lines(m.record.log_file, lines) for name, m in self._members.items()}

    # -- internals ------------------------------------------------------------------------------------------------

    def _member(self, name: str) -> _Member:
        if name not in self._members:
            if self._state is None:
                raise ClusterError(f"the cluster in {self._home.root} has not been started")
            self._state.record(name)  # raises UnknownNodeError listing the names
        return self._members[name]

    def _alive(self, member: _Member) -> bool:
        if member.process is not None:
            return member.process.poll() is None
        return member.record.pid is not None and node_process_alive(member.record.pid, member.record.data_dir)

    def _reap(self) -> None:
        """Forgets the pids of owned processes that exited, so cluster.json says they are down."""
        changed = False
        for member in self._members.values():
            if member.process is not None and member.process.poll() is not None:
                _OWNED.discard(member.process)
                if member.process.stdout is not None:
                    member.process.stdout.close()
                member.process = None
                member.record = member.record.with_changes(pid=None)
                changed = True
        if changed:
            self._save()

    def _adopt(self, state: ClusterFile) -> None:
        self._state = state
        self._members = {record.name: _Member(record) for record in state.nodes}

    def _new_state(self) -> ClusterFile:
        try:
            configs = new_node_configs(
                self._home,
                self._count,
                cluster_name=self._cluster_name,
                http_port=self._http_port,
                transport_port=self._transport_port,
                node_defaults=self._node_defaults,
                node_overrides=self._node_overrides,
            )
        except ValueError as e:
            raise ClusterStateError(str(e)) from None
        return ClusterFile(
            cluster_name=self._cluster_name,
            http_port=self._http_port,
            transport_port=self._transport_port,
            nodes=tuple(NodeRecord(config) for config in configs),
        )

    def _check_matches(self, stored: ClusterFile) -> None:
        asked = (self._count, self._cluster_name, self._http_port, self._transport_port)
        held = (len(stored.nodes), stored.cluster_name, stored.http_port, stored.transport_port)
        if asked != held:
            raise ClusterStateError(
                f"{self._home.root} already holds cluster [{stored.cluster_name}] with {len(stored.nodes)} nodes,"
                f" http port {stored.http_port}, transport port {stored.transport_port}; restart it without changing"
                f" these (`simcluster up --home {self._home.root}`), or use another home"
            )

    def _check_not_running(self, stored: ClusterFile) -> None:
        running = [r for r in stored.nodes if r.pid is not None and node_process_alive(r.pid, r.data_dir)]
        if running:
            first = running[0]
            raise ClusterRunningError(
                f"a cluster is already running in {self._home.root} ({first.name} has pid {first.pid}); stop it with"
                f" `simcluster down --home {self._home.root}` or see it with `simcluster status --home"
                f" {self._home.root}`"
            )

    def _save(self, *, bootstrapped: bool | None = None) -> None:
        assert self._state is not None
        changes: dict[str, object] = {"nodes": tuple(m.record for m in self._members.values())}
        if bootstrapped is not None:
            changes["bootstrapped"] = bootstrapped
        self._state = self._state.with_changes(**changes)
        self._home.save(self._state)

    def _spawn_all(self) -> None:
        assert self._state is not None
        configs = [m.record.config for m in self._members.values()]
        deadline = time.monotonic() + self._start_timeout
        if len(configs) > 1 and configs[0].transport_port.first == 0:
            # Ephemeral ports cannot be seeded in advance: the first node's real address seeds all the others.
            self._spawn(configs[:1], configs, None, deadline)
            self._spawn(configs[1:], configs, self._members[configs[0].name].record.transport_address, deadline)
        else:
            self._spawn(configs, configs, None, deadline)

    def _spawn(
        self, configs: list[NodeConfig], all_configs: list[NodeConfig], seed: str | None, deadline: float
    ) -> None:
        assert self._state is not None
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for config in configs:
            launch = start_config(
                config, all_configs, bootstrapped=self._state.bootstrapped, detached=self._detach, seed_address=seed
            )
            member = self._members[config.name]
            member.process = processes[config.name] = spawn_node(launch, detached=self._detach)
            member.record = member.record.with_changes(pid=member.process.pid)
            if not self._detach:
                _OWNED.add(member.process)
        self._save()
        log_files = {name: self._members[name].record.log_file for name in processes}
        for name, ready in read_ready_lines(processes, log_files, deadline).items():
            member = self._members[name]
            member.record = member.record.with_changes(
                node_id=ready.node_id, http_address=ready.http_address, transport_address=ready.transport_address
            )
        self._save()
