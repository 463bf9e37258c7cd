"""`LocalCluster`: N node processes on this machine, the one class behind `simcluster` and the e2e fixtures.

Mirrors Elasticsearch's own test cluster (`InternalTestCluster`: `stopNode`, `restartNode`, `startNode`) and ccm's
library: the same object starts a cluster, waits for it to form, reports status, kills, pauses, restarts, adds and
removes single nodes and tears everything down, so the CLI and the tests exercise one code path.

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
* Single nodes: `kill_node` (SIGKILL, or any signal), `stop_node` (SIGTERM, SIGKILL after a grace), `start_node`
  (same data directory, so the same node id; seeded with the nodes running now), `restart_node`, `pause_node` /
  `resume_node` (SIGSTOP / SIGCONT, as ccm and Jepsen's hammer-time), `add_node` (the next `node-N`, joining the
  running cluster without bootstrapping) and `remove_node`.

Every start makes sure the home holds the cluster's credentials (`cluster.credentials`: a CA, the transport
certificate every node presents, the HTTPS certificate and, with `security`, the `elastic` password) and points every
node's settings at them, so a home created before credentials existed gets them, and `security` can be switched on
or off between starts.

A cluster started by another process (`simcluster up --detach`) is adopted with `LocalCluster.attach(home)`:
its nodes are then known by pid only, and every verb works the same way on them. Launchers sharing a home meet in
`cluster.json` (`cluster.registry`), so a node restarted from the CLI is also stopped by the foreground `up`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self

from cluster.credentials import ClusterCredentials
from cluster.errors import (
    ClusterError,
    ClusterFormationError,
    ClusterRunningError,
    ClusterStateError,
    NodeStartError,
    NodeStateError,
)
from cluster.netns import HostNetwork, check_hosts_support, start_watcher
from cluster.plan import added_node_config, new_node_configs, next_node_name, on_free_ports, start_config
from cluster.probe import find_master, node_states, poll_health
from cluster.process import (
    StopOutcome,
    child_environment,
    read_ready_lines,
    signal_group,
    spawn_node,
    stop_pids,
    stop_processes,
    tail_lines,
    wait_until,
)
from cluster.progress import FormationProgress
from cluster.registry import Member, NodeRegistry
from cluster.spawner import NodeProcess, shared_spawner, spawner_enabled
from cluster.state import (
    ClusterFile,
    ClusterHome,
    ClusterStatus,
    NodeRecord,
    NodeState,
    NodeStatus,
    ProcessState,
    node_process_alive,
    process_state,
)
from node.config import NodeConfig, PortRange

__all__ = ["FAST_FAILURE_DETECTION", "LocalCluster"]

# Leader/follower checks every 200 ms, out after 3 failures: a killed node leaves the cluster in about a second.
FAST_FAILURE_DETECTION: Mapping[str, int] = MappingProxyType(
    {"fd_interval_ms": 200, "fd_timeout_ms": 500, "fd_retries": 3}
)

_BLIND_POLL_S = 0.5
# A `--hosts` node has its namespace to itself: it binds the ports a real host would.
_HOST_PORTS: Mapping[str, Any] = MappingProxyType(
    {"http_port": PortRange(9200, 9200), "transport_port": PortRange(9300, 9300)}
)
_SIGNAL_SETTLE_S = 5.0  # how long a SIGKILL, SIGSTOP or SIGCONT may take to show in /proc

# Foreground node processes of every LocalCluster in this interpreter, stopped at exit if nobody else did.
_OWNED: set[NodeProcess] = set()


def _stop_leftovers() -> None:
    stop_processes({str(p.pid): p for p in _OWNED if p.returncode is None}, grace=2.0)
    _OWNED.clear()


atexit.register(_stop_leftovers)


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
        masters: how many of the nodes (the first ones) are master-eligible; fewer than all makes them dedicated
            masters and the rest data nodes. Default: all up to 10 nodes, else 3 (`cluster.plan.default_masters`).
        host: the address every node binds, HTTP and transport (`127.0.0.1` by default).
        security: HTTPS with the cluster CA and basic authentication as `elastic` on every node's REST API.
        hosts: every node in a network namespace of its own, with its own address on a bridge (`cluster.netns`;
            Linux and root only); a home that was started so keeps it.
        detach: nodes do not watch their stdin, so they outlive this process (`simcluster up --detach`).
        start_timeout: seconds for every node to print its ready line.
        stop_timeout: seconds between SIGTERM and SIGKILL when stopping.
        progress: called as nodes report ready and join while `start()` and `wait_until_formed()` run.
    """

    def __init__(
        self,
        home: Path | str,
        nodes: int = 3,
        *,
        cluster_name: str = "simcluster",
        http_port: int = 9200,
        transport_port: int = 9300,
        host: str = "127.0.0.1",
        security: bool = False,
        node_defaults: Mapping[str, Any] | None = None,
        node_overrides: Mapping[str, Mapping[str, Any]] | None = None,
        masters: int | None = None,
        hosts: bool = False,
        detach: bool = False,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        progress: Callable[[FormationProgress], None] | None = None,
    ) -> None:
        if nodes < 1:
            raise ValueError(f"a cluster needs at least one node, got {nodes}")
        self._home = ClusterHome(Path(home))
        self._count = nodes
        self._cluster_name = cluster_name
        self._http_port = http_port
        self._transport_port = transport_port
        self._host = host
        self._security = security
        self._credentials = ClusterCredentials(self._home.root)
        self.new_elastic_password: str | None = None
        self._node_defaults = dict(node_defaults or {})
        self._node_overrides = {name: dict(o) for name, o in (node_overrides or {}).items()}
        self._masters = masters
        self._hosts = hosts or HostNetwork.path(self._home.root).exists()
        self._network: HostNetwork | None = None
        self._watcher: subprocess.Popen[bytes] | None = None
        self._detach = detach
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._registry = NodeRegistry(self._home)
        self._progress = progress
        self._formation = FormationProgress(nodes)

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
            host=state.host,
            security=state.security,
            detach=True,
            stop_timeout=stop_timeout,
        )
        cluster._registry.adopt(state)
        return cluster

    # -- accessors ------------------------------------------------------------------------------------------------

    @property
    def home(self) -> ClusterHome:
        return self._home

    @property
    def cluster_name(self) -> str:
        return self._cluster_name

    @property
    def security(self) -> bool:
        return self._security

    @property
    def network(self) -> HostNetwork | None:
        """The namespaces and bridge of a `--hosts` cluster (None for one on loopback)."""
        if self._hosts and self._network is None:
            self._network = HostNetwork.load(self._home.root)
        return self._network

    @property
    def credentials(self) -> ClusterCredentials:
        """The home's CA (`ca_certificate`, which HTTPS clients trust) and `elastic_password()`."""
        return self._credentials

    @property
    def names(self) -> tuple[str, ...]:
        self._registry.refresh()
        return tuple(self._registry.members)

    @property
    def nodes(self) -> tuple[NodeRecord, ...]:
        """The last known record of every node (name, id, pid, addresses, config), in start order."""
        self._registry.refresh()
        return tuple(self._registry.records())

    def node(self, name: str) -> NodeRecord:
        """The last known record of one node; `UnknownNodeError` for a name the cluster does not have."""
        self._registry.refresh()
        return self._registry.member(name).record

    def running(self) -> tuple[str, ...]:
        """Names of the nodes whose process is alive (whether or not it answers)."""
        self._registry.refresh()
        return tuple(name for name, m in self._registry.members.items() if m.alive())

    def endpoints(self) -> list[str]:
        """HTTP URLs of the nodes whose process is alive, for `Elasticsearch(hosts=...)` or `ES_HOSTS`."""
        self._registry.refresh()
        return [m.record.http_url for m in self._registry.members.values() if m.alive() and m.record.http_url]

    # -- the whole cluster ----------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Starts every node (a new cluster, or the stored one again) and returns once each printed ready.

        With `security`, the first such start generates the `elastic` password: `new_elastic_password` holds it
        for the caller to show once (it is stored, owner-only, in the home).

        Raises:
            ClusterRunningError: nodes of this home are still running.
            ClusterStateError: the home holds a cluster other than the one asked for.
            NodeStartError: a node exited or stayed silent; every node started here is stopped again.
        """
        if any(m.process is not None and m.process.poll() is None for m in self._registry.members.values()):
            raise ClusterRunningError(f"the cluster in {self._home.root} is already started by this launcher")
        if self._hosts:
            check_hosts_support()
            if self._security:
                raise ClusterError("--hosts and --security together are not supported yet")
        elif spawner_enabled():
            shared_spawner(child_environment(), sys.executable)  # its imports overlap the credentials and the plan
        with self._home.locked():
            stored = self._home.load_if_exists()
            if stored is not None:
                self._check_not_running(stored)
                self._check_matches(stored)
                if self._hosts and not HostNetwork.path(self._home.root).exists():
                    # its nodes' addresses and seeds are loopback ones, which no namespace can reach
                    raise ClusterStateError(
                        f"{self._home.root} holds cluster [{stored.cluster_name}] on loopback, not on --hosts; "
                        "restart it without --hosts, or use another home"
                    )
            self.new_elastic_password = self._credentials.ensure(host=self._host, security=self._security)
            state = self._with_credentials(stored if stored is not None else self._new_state())
            if stored is not None and state != stored:
                self._home.save(state)  # the registry merges into what is stored: store the new settings first
        self._registry.adopt(state)
        try:
            if self._hosts:
                self._create_network(state)
            self._spawn_all()
        except BaseException:
            self.stop()
            raise

    def wait_until_formed(self, timeout: float = 30.0) -> None:
        """Waits until every node sees a cluster of all N nodes with an elected master.

        Raises:
            ClusterFormationError: the deadline passed or a node exited; carries the tail of every node's log.
        """
        self._registry.refresh()
        members = list(self._registry.members.values())
        deadline = time.monotonic() + timeout
        for joined, member in enumerate(members):
            self._report(up=len(members), master_elected=joined > 0, joined=joined)
            view = poll_health(member.record, len(members), deadline, member.alive)
            if not view.formed:
                what = (
                    f"{member.name} exited while the cluster was forming (log: {member.record.log_file})"
                    if view.exited
                    else f"the cluster did not form with all {len(members)} nodes within {timeout:g}s:"
                    f" {member.name} {view.last_seen}"
                )
                raise ClusterFormationError(what, self.log_tails(20))
        self._report(up=len(members), master_elected=True, joined=len(members))
        self._registry.save(bootstrapped=True)

    def stop(self, timeout: float | None = None) -> dict[str, StopOutcome]:
        """Stops every node (SIGTERM, then SIGKILL after `timeout` seconds) and keeps their data."""
        if not self._registry.known:
            self._remove_network()
            return {}
        self._registry.refresh()
        outcomes = self._stop_members(list(self._registry.members.values()), timeout)
        self._remove_network()
        return {name: outcomes[name] for name in self._registry.members}

    # -- observation ----------------------------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        """Every node's state (UP/DOWN/PAUSED/UNRESPONSIVE) and the elected master, probed in parallel."""
        self._reap()
        self._registry.refresh()
        members = list(self._registry.members.values())
        records = [m.record for m in members]
        states = node_states(records)
        master = find_master([r for r, s in zip(records, states, strict=True) if s is NodeState.UP], records)
        nodes = tuple(
            NodeStatus(
                name=r.name,
                state=state,
                node_id=r.node_id,
                pid=r.pid,
                http_address=r.http_address,
                transport_address=r.transport_address,
                roles=r.roles,
                is_master=r.name == master,
                data_dir=r.data_dir,
                log_file=r.log_file,
                https=r.config.http_ssl_enabled,
            )
            for r, state in zip(records, states, strict=True)
        )
        return ClusterStatus(self._cluster_name, self._home.root, nodes, master)

    def wait_for_exits(self, timeout: float | None) -> dict[str, int | None]:
        """Blocks until a node started by this launcher exits (or `timeout`); returns their exit codes by name.

        Watches the nodes' stdout pipes, which reach EOF when a process exits, so this sleeps in the kernel
        instead of polling, and it drains anything a node wrote there so the pipe can never fill up. A node that
        closed its stdout yet lives on, or one started by another launcher, can only be polled, every half second.
        """
        owned = {name: m.process for name, m in self._registry.members.items() if m.process is not None}
        watched = {p.stdout: name for name, p in owned.items() if p.stdout is not None and not p.stdout.closed}
        blind = [name for name, p in owned.items() if name not in watched.values() and p.poll() is None]
        if not watched:
            time.sleep(_BLIND_POLL_S if timeout is None else min(timeout, _BLIND_POLL_S))
        ended: list[str] = []
        if watched:
            if blind:
                timeout = _BLIND_POLL_S if timeout is None else min(timeout, _BLIND_POLL_S)
            with selectors.DefaultSelector() as selector:
                for stream in watched:
                    selector.register(stream, selectors.EVENT_READ)
                for key, _ in selector.select(timeout):
                    if not key.fileobj.read1(65536):  # type: ignore[union-attr]
                        ended.append(watched[key.fileobj])  # type: ignore[index]
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
        return {name: tail_lines(m.record.log_file, lines) for name, m in self._registry.members.items()}

    # -- single nodes ---------------------------------------------------------------------------------------------

    def kill_node(self, name: str, sig: signal.Signals = signal.SIGKILL) -> bool:
        """Sends `sig` to a node's process group; False when the node was not running.

        After SIGKILL this waits (up to 5 s) until the process is gone, so the next `status()` shows it DOWN.
        """
        member = self._member(name)
        pid = member.record.pid
        if pid is None or not member.alive():
            return False
        if not signal_group(pid, sig):
            return False
        if sig == signal.SIGKILL:
            if member.process is not None and member.process.pid == pid:
                member.process.wait(timeout=_SIGNAL_SETTLE_S)
            else:
                wait_until(lambda: not node_process_alive(pid, member.record.data_dir), _SIGNAL_SETTLE_S)
            self._reap()
        return True

    def stop_node(self, name: str, timeout: float | None = None) -> StopOutcome:
        """Stops one node gracefully: SIGTERM (and SIGCONT, should it be paused), SIGKILL after `timeout` s."""
        return self._stop_members([self._member(name)], timeout)[name]

    def pause_node(self, name: str) -> bool:
        """SIGSTOPs a node (ccm `pause`, Jepsen hammer-time): alive, connections open, answering nothing.

        Returns False when it was paused already. Raises `NodeStateError` when the node is down.
        """
        return self._signal_state(name, signal.SIGSTOP, ProcessState.STOPPED, "pause")

    def resume_node(self, name: str) -> bool:
        """SIGCONTs a paused node; False when it was not paused. Raises `NodeStateError` when it is down."""
        return self._signal_state(name, signal.SIGCONT, ProcessState.RUNNING, "resume")

    def start_node(self, name: str, *, wait: bool = True, timeout: float = 30.0) -> bool:
        """Starts a node that is down, with its data directory (so its node id) and seeded with the running nodes.

        Returns False when it was running already. With `wait`, returns once the node knows an elected master.

        Raises:
            ClusterError: the cluster never formed (a lone node must not bootstrap a cluster of its own).
            NodeStartError: the node exited before it was ready, or did not join within `timeout`.
        """
        member = self._member(name)
        if member.alive():
            return False
        if not self._registry.state.bootstrapped:
            raise ClusterError(f"cluster [{self._cluster_name}] has never formed; start it whole with `simcluster up`")
        alive = [m.record for m in self._registry.members.values() if m.alive()]
        # Seeded with the master-eligible nodes running now (ES's advice): they lead it to the master.
        running = [r.transport_address for r in alive if r.config.is_master_eligible] or [
            r.transport_address for r in alive
        ]
        configs = [m.record.config for m in self._registry.members.values()]
        self._spawn([member.record.config], configs, [a for a in running if a], time.monotonic() + self._start_timeout)
        if wait:
            self.wait_until_joined(name, timeout)
        return True

    def restart_node(self, name: str, *, wait: bool = True, timeout: float = 30.0) -> StopOutcome:
        """Stops a node (SIGTERM, SIGKILL after the stop timeout) and starts it again with the same data directory."""
        outcome = self.stop_node(name)
        self.start_node(name, wait=wait, timeout=timeout)
        return outcome

    def add_node(self, *, roles: Sequence[str] | None = None, wait: bool = True, timeout: float = 30.0) -> NodeRecord:
        """Starts a new node, `node-<N+1>`, that joins the running cluster (ccm `add`, minikube `node add`).

        It is seeded with the running nodes and starts without `initial_master_nodes`, as a node joining an
        existing ES cluster must; its record is added to `cluster.json`.
        """
        self._registry.refresh()
        state = self._registry.state
        if not state.bootstrapped:
            raise ClusterError(f"cluster [{self._cluster_name}] has never formed; start it with `simcluster up` first")
        name = next_node_name(state.names)
        try:
            config = added_node_config(self._home, state, name, roles=roles)
        except ValueError as e:
            raise ClusterStateError(str(e)) from None
        network = self.network
        if network is not None:
            network = self._network = network.with_nodes([name])
            network.save()
            network.add_host(name)
            config = config.with_changes(host=network.address(name), **_HOST_PORTS)
        self._registry.add(NodeRecord(config))
        self._registry.save()
        try:
            self.start_node(name, wait=wait, timeout=timeout)
        except NodeStartError:
            self._registry.remove(name)
            self._registry.save()
            raise
        return self._member(name).record

    def remove_node(self, name: str, *, keep_data: bool = False) -> StopOutcome:
        """Stops a node and removes it from `cluster.json`, and its directory unless `keep_data`.

        Like a plain node shutdown in ES: a removed master-eligible node stays in the voting configuration (ES
        would first add a voting-config exclusion), so removing half of the master-eligible nodes loses the quorum.
        """
        member = self._member(name)
        if len(self._registry.members) == 1:
            raise NodeStateError(f"{name} is the last node of cluster [{self._cluster_name}]; use `simcluster down`")
        outcome = self.stop_node(name)
        self._registry.remove(name)
        self._registry.save()
        if not keep_data:
            shutil.rmtree(member.record.data_dir, ignore_errors=True)
        return outcome

    def wait_until_joined(self, name: str, timeout: float = 30.0) -> None:
        """Waits until the node knows an elected master (it has joined a cluster, whatever its size).

        Raises:
            NodeStartError: the node exited, or found no master within `timeout`; carries the node's log tail.
        """
        member = self._member(name)
        view = poll_health(member.record, None, time.monotonic() + timeout, member.alive)
        if not view.formed:
            what = "exited" if view.exited else f"did not join the cluster within {timeout:g}s: it {view.last_seen}"
            raise NodeStartError(
                f"{name} {what} (log: {member.record.log_file})", {name: tail_lines(member.record.log_file)}
            )

    # -- internals ------------------------------------------------------------------------------------------------

    def _report(self, **changes: Any) -> None:
        if self._progress is None:
            return
        self._formation = replace(self._formation, total=len(self._registry.members) or self._count, **changes)
        self._progress(self._formation)

    def _member(self, name: str) -> Member:
        self._registry.refresh()
        return self._registry.member(name)

    def _signal_state(self, name: str, sig: signal.Signals, wanted: ProcessState, verb: str) -> bool:
        member = self._member(name)
        pid = member.record.pid
        if pid is None or not member.alive():
            raise NodeStateError(
                f"cannot {verb} {name}: it is not running; start it with `simcluster node start {name}`"
            )
        if process_state(pid) is wanted:
            return False
        signal_group(pid, sig)
        wait_until(lambda: process_state(pid) in (wanted, ProcessState.GONE), _SIGNAL_SETTLE_S)
        return True

    def _stop_members(self, members: list[Member], timeout: float | None) -> dict[str, StopOutcome]:
        grace = self._stop_timeout if timeout is None else timeout
        owned = {m.name: m.process for m in members if m.process is not None and m.process.pid == m.record.pid}
        adopted = {
            m.name: (m.record.pid, m.record.data_dir)
            for m in members
            if m.name not in owned and m.record.pid is not None
        }
        outcomes = {**stop_processes(owned, grace), **stop_pids(adopted, grace)}
        for member in members:
            outcomes.setdefault(member.name, StopOutcome.ALREADY_DOWN)
            self._forget_process(member)
            self._registry.update(member.name, pid=None)
        self._registry.save()
        return outcomes

    def _forget_process(self, member: Member) -> None:
        process = member.process
        if process is None:
            return
        _OWNED.discard(process)
        if process.stdout is not None and process.poll() is not None:
            process.stdout.close()
        self._registry.set_process(member.name, None)

    def _reap(self) -> None:
        """Forgets owned processes that exited, so cluster.json says they are down (unless restarted elsewhere)."""
        exited = self._registry.exited()
        for member in exited:
            pid = member.process.pid  # type: ignore[union-attr]
            self._forget_process(member)
            if member.record.pid == pid:
                self._registry.update(member.name, pid=None)
        if exited:
            self._registry.save()

    def _create_network(self, state: ClusterFile) -> None:
        """The namespaces and the bridge (what an earlier start left is removed first); a foreground launcher also
        starts the watcher that removes them should it die."""
        network = self._network = HostNetwork.plan(self._home.root, state.names)
        network.create()
        if not self._detach and self._watcher is None:
            self._watcher = start_watcher(self._home.root, child_environment())

    def _remove_network(self) -> None:
        network = self.network
        if network is not None:
            network.destroy()
        if self._watcher is not None:
            with contextlib.suppress(OSError):
                self._watcher.stdin.close()  # type: ignore[union-attr]
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watcher.wait(timeout=30.0)
            self._watcher = None

    def _with_credentials(self, state: ClusterFile) -> ClusterFile:
        """`state` with `security` and every node's settings pointing at the home's credentials."""
        settings = self._credentials.node_settings(security=self._security)
        records = tuple(r.with_changes(config=r.config.with_changes(**settings)) for r in state.nodes)
        return state.with_changes(nodes=records, security=self._security)

    def _new_state(self) -> ClusterFile:
        try:
            configs = new_node_configs(
                self._home,
                self._count,
                cluster_name=self._cluster_name,
                http_port=self._http_port,
                transport_port=self._transport_port,
                host=self._host,
                node_defaults=self._node_defaults,
                node_overrides=self._node_overrides,
                masters=self._masters,
            )
        except ValueError as e:
            raise ClusterStateError(str(e)) from None
        if self._hosts:
            network = HostNetwork.plan(self._home.root, [c.name for c in configs])
            configs = tuple(c.with_changes(host=network.address(c.name), **_HOST_PORTS) for c in configs)
        return ClusterFile(
            cluster_name=self._cluster_name,
            http_port=self._http_port,
            transport_port=self._transport_port,
            nodes=tuple(NodeRecord(config) for config in configs),
            host=self._host,
        )

    def _check_matches(self, stored: ClusterFile) -> None:
        asked = (self._count, self._cluster_name, self._http_port, self._transport_port, self._host)
        held = (len(stored.nodes), stored.cluster_name, stored.http_port, stored.transport_port, stored.host)
        if asked != held:
            raise ClusterStateError(
                f"{self._home.root} already holds cluster [{stored.cluster_name}] with {len(stored.nodes)} nodes,"
                f" http port {stored.http_port}, transport port {stored.transport_port}, host {stored.host};"
                f" restart it without changing these (`simcluster up --home {self._home.root}`), or use another home"
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

    def _spawn_all(self) -> None:
        configs = [m.record.config for m in self._registry.members.values()]
        deadline = time.monotonic() + self._start_timeout
        if len(configs) > 1 and configs[0].transport_port.first == 0:
            # Ephemeral ports cannot be seeded in advance: the first node's real address seeds all the others.
            self._spawn(configs[:1], configs, [], deadline)
            first = self._registry.member(configs[0].name).record.transport_address
            self._spawn(configs[1:], configs, [first] if first else [], deadline)
        else:
            if self.network is None:  # in namespaces every node has its own address, and its ports are free
                configs = on_free_ports(configs, _port_is_free)
            self._spawn(configs, configs, [], deadline)

    def _spawn(
        self, configs: list[NodeConfig], all_configs: list[NodeConfig], seeds: list[str], deadline: float
    ) -> None:
        bootstrapped = self._registry.state.bootstrapped
        processes: dict[str, NodeProcess] = {}
        for config in configs:
            launch = start_config(
                config, all_configs, bootstrapped=bootstrapped, detached=self._detach, seed_addresses=seeds
            )
            network = self.network
            wrap = None if network is None else functools.partial(network.command, config.name)
            process = processes[config.name] = spawn_node(launch, detached=self._detach, wrap=wrap)
            self._registry.set_process(config.name, process)
            self._registry.update(config.name, pid=process.pid)
            if not self._detach:
                _OWNED.add(process)
        self._registry.save()
        log_files = {name: self._registry.member(name).record.log_file for name in processes}
        already_up = sum(1 for m in self._registry.members.values() if m.name not in processes and m.alive())
        seen_ready: set[str] = set()

        def on_ready(name: str) -> None:
            seen_ready.add(name)
            self._report(up=already_up + len(seen_ready))

        try:
            ready_lines = read_ready_lines(processes, log_files, deadline, on_ready)
        except NodeStartError:
            self._stop_members([self._registry.member(name) for name in processes], 2.0)
            raise
        for name, ready in ready_lines.items():
            self._registry.update(
                name, node_id=ready.node_id, http_address=ready.http_address, transport_address=ready.transport_address
            )
        self._registry.save()


def _port_is_free(host: str, port: int) -> bool:
    """Whether a node could bind `port` on `host` now: taken while anything listens there (a port that only has
    connections in TIME_WAIT is free, as the node's own sockets reuse addresses)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
