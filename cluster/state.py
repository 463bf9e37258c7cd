"""The cluster home directory: `cluster.json`, the node data directories, and whether each node is alive.

A cluster home (`--home`, default `./.simcluster`) is what `simcluster up` creates and every later command acts
on, in the manner of ccm's `~/.ccm/<cluster>/cluster.conf`:

```
<home>/cluster.json              cluster name, base ports, and one record per node (written atomically)
<home>/.cluster.lock             held while a launcher reads, merges and writes cluster.json
<home>/nodes/<name>/             the node's data directory (node id, coordination state, task results)
<home>/nodes/<name>/logs/node.log
<home>/nodes/<name>/node.pid     the pid of a node the spawner forked (`cluster.spawner`)
<home>/certs/                    the cluster CA and the transport and HTTP certificates (`cluster.credentials`)
<home>/elastic-password          the `elastic` user's password, with `--security` (0600)
```

Each node record keeps the `NodeConfig` that starts the node again, minus what the launcher decides at every
start (seed hosts, initial master nodes, stdin watching), so `up` on an existing home restarts the same nodes with
the same names, data directories and preferred ports, and they keep their ids and their cluster.

Liveness is read from pids, never assumed: a node is DOWN when there is no such process (or the pid now belongs to
something else), PAUSED when the process is stopped (SIGSTOP), and UP when it also answers `GET /` (`cluster.probe`).
A dead node is a state, never an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster.errors import ClusterStateError, NoClusterError, UnknownNodeError
from cluster.rest_client import RestEndpoint
from node.config import NodeConfig, PortRange, parse_port_range

__all__ = [
    "DEFAULT_HOME",
    "PID_FILE",
    "ClusterFile",
    "ClusterHome",
    "ClusterStatus",
    "NodeRecord",
    "NodeState",
    "NodeStatus",
    "ProcessState",
    "config_from_json",
    "config_to_json",
    "is_node_process",
    "node_process_alive",
    "parse_proc_stat_state",
    "process_state",
]

DEFAULT_HOME = Path(".simcluster")
# Written in a node's data directory by the spawner that forked it (`cluster.spawner`): such a node's command line
# is the spawner's, so this file is what ties its pid to the data directory.
PID_FILE = "node.pid"
FORMAT_VERSION = 1
_CMDLINE_SETTLE_S = 0.5

# Decided by the launcher at every start, so they are never stored: seeds depend on where the other nodes are now,
# initial master nodes matter only before the cluster first formed, and stdin watching on foreground vs detached.
_PER_START_FIELDS = frozenset({"seed_hosts", "initial_master_nodes", "watch_stdin"})


def _optional_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


_FIELD_PARSERS: dict[str, Callable[[Any], Any]] = {
    "data_dir": Path,
    "log_file": _optional_path,
    "http_port": parse_port_range,
    "transport_port": parse_port_range,
    "transport_ssl_key": _optional_path,
    "transport_ssl_certificate": _optional_path,
    "transport_ssl_certificate_authorities": _optional_path,
    "http_ssl_key": _optional_path,
    "http_ssl_certificate": _optional_path,
    "elastic_password_file": _optional_path,
}


def _to_json(value: object) -> object:
    if isinstance(value, (PortRange, Path)):
        return str(value)
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    return value


def _tuples(value: object) -> object:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def _stored_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(NodeConfig) if f.init and f.name not in _PER_START_FIELDS]


def config_to_json(config: NodeConfig) -> dict[str, Any]:
    """The stored part of a `NodeConfig`, as JSON-ready values (generic so a new field needs no change here)."""
    return {name: _to_json(getattr(config, name)) for name in _stored_fields()}


def config_from_json(data: dict[str, Any]) -> NodeConfig:
    """Rebuilds a stored `NodeConfig`; unknown keys (a field since removed) are ignored, missing ones defaulted."""
    known = set(_stored_fields())
    kwargs = {k: _FIELD_PARSERS.get(k, _tuples)(v) for k, v in data.items() if k in known}
    return NodeConfig(**kwargs)


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """What the home knows about one node: how to start it, and what its last start reported.

    Attributes:
        config: the stored configuration (preferred ports as ranges, no seeds); the launcher adds the per-start
            fields.
        node_id: the persistent id from the last ready line (`None` before the first start).
        pid: the process id of the last start; `None` once the launcher saw the process exit.
        http_address / transport_address: the addresses actually bound at the last start.
    """

    config: NodeConfig
    node_id: str | None = None
    pid: int | None = None
    http_address: str | None = None
    transport_address: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def log_file(self) -> Path:
        return self.config.log_path

    @property
    def roles(self) -> tuple[str, ...]:
        return self.config.roles

    @property
    def http_url(self) -> str | None:
        return None if self.endpoint is None else self.endpoint.url

    @property
    def endpoint(self) -> RestEndpoint | None:
        """How the launcher reaches the node's REST API: HTTPS trusting the cluster CA (which signs the HTTP
        certificate as well as the transport one) and the `elastic` password when the node is secured."""
        if self.http_address is None:
            return None
        return RestEndpoint(
            self.http_address,
            self.config.transport_ssl_certificate_authorities if self.config.http_ssl_enabled else None,
            self.config.elastic_password_file,
        )

    def with_changes(self, **changes: object) -> NodeRecord:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "node_id": self.node_id,
            "pid": self.pid,
            "http_address": self.http_address,
            "transport_address": self.transport_address,
            "roles": list(self.roles),
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
            "config": config_to_json(self.config),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeRecord:
        return cls(
            config=config_from_json(data["config"]),
            node_id=data.get("node_id"),
            pid=data.get("pid"),
            http_address=data.get("http_address"),
            transport_address=data.get("transport_address"),
        )


@dataclass(frozen=True, slots=True)
class ClusterFile:
    """The contents of `cluster.json`.

    Attributes:
        cluster_name: the `cluster.name` every node was started with.
        http_port / transport_port: base ports (`0` for ephemeral), as given to the first `up`.
        nodes: one record per node, in start order (the first is the seed of an ephemeral-port cluster).
        bootstrapped: the cluster has formed once; from then on nodes start without `--initial-master-nodes`,
            as ES asks (a node whose data was wiped must not bootstrap a second cluster).
        host: the address every node binds (`--host`).
        security: HTTPS and basic authentication on every node's REST API (`--security`).
    """

    cluster_name: str
    http_port: int
    transport_port: int
    nodes: tuple[NodeRecord, ...]
    bootstrapped: bool = False
    host: str = "127.0.0.1"
    security: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(record.name for record in self.nodes)

    def record(self, name: str) -> NodeRecord:
        for record in self.nodes:
            if record.name == name:
                return record
        raise UnknownNodeError(f"no node named [{name}]; the cluster has {', '.join(self.names)}")

    def with_record(self, new: NodeRecord) -> ClusterFile:
        """A copy with the record of the same name replaced (appended when the name is new)."""
        if new.name not in self.names:
            return dataclasses.replace(self, nodes=(*self.nodes, new))
        return dataclasses.replace(self, nodes=tuple(new if r.name == new.name else r for r in self.nodes))

    def without(self, name: str) -> ClusterFile:
        """A copy without the record of `name` (`simcluster node remove`)."""
        return dataclasses.replace(self, nodes=tuple(r for r in self.nodes if r.name != name))

    def with_changes(self, **changes: object) -> ClusterFile:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "cluster_name": self.cluster_name,
            "http_port": self.http_port,
            "transport_port": self.transport_port,
            "bootstrapped": self.bootstrapped,
            "host": self.host,
            "security": self.security,
            "nodes": [record.to_json() for record in self.nodes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterFile:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported cluster.json version [{data.get('version')}]")
        return cls(
            cluster_name=data["cluster_name"],
            http_port=int(data["http_port"]),
            transport_port=int(data["transport_port"]),
            nodes=tuple(NodeRecord.from_json(item) for item in data["nodes"]),
            bootstrapped=bool(data.get("bootstrapped", False)),
            host=str(data.get("host", "127.0.0.1")),
            security=bool(data.get("security", False)),
        )


@dataclass(frozen=True, slots=True)
class ClusterHome:
    """A cluster home directory; `root` is made absolute so stored paths survive a change of working directory."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(os.path.abspath(self.root)))

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def node_dir(self, name: str) -> Path:
        return self.root / "nodes" / name

    def exists(self) -> bool:
        return self.state_file.is_file()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Holds the home's lock: the CLI in one terminal and a foreground `up` (or a test fixture) in another
        both update cluster.json, and a read-merge-write must not lose the other's change."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".cluster.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def load(self) -> ClusterFile:
        """Reads `cluster.json`; `NoClusterError` when there is none, `ClusterStateError` when it is damaged."""
        try:
            text = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NoClusterError(
                f"no cluster in {self.root} (no cluster.json); start one with `simcluster up`"
            ) from None
        try:
            return ClusterFile.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as e:
            raise ClusterStateError(f"cannot read {self.state_file}: {e}") from None

    def load_if_exists(self) -> ClusterFile | None:
        return self.load() if self.exists() else None

    def save(self, state: ClusterFile) -> None:
        """Writes `cluster.json` atomically (temporary file, fsync, rename): a reader never sees half a file."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(state.to_json(), f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_file)
        finally:
            tmp.unlink(missing_ok=True)


class ProcessState(enum.Enum):
    """What the kernel says about a pid."""

    RUNNING = "running"
    STOPPED = "stopped"  # SIGSTOP: `T` (or `t`, traced) in /proc/<pid>/stat
    GONE = "gone"  # no such process, or a zombie waiting to be reaped


class NodeState(enum.StrEnum):
    """A node's state as `simcluster status` shows it.

    UNRESPONSIVE is a live, running process that did not answer `GET /` in time: still starting, or hung.
    """

    UP = "UP"
    DOWN = "DOWN"
    PAUSED = "PAUSED"
    UNRESPONSIVE = "UNRESPONSIVE"


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One node as `simcluster status` reports it; addresses and id are the last known ones when DOWN."""

    name: str
    state: NodeState
    node_id: str | None
    pid: int | None
    http_address: str | None
    transport_address: str | None
    roles: tuple[str, ...]
    is_master: bool
    data_dir: Path
    log_file: Path
    https: bool = False

    @property
    def http_url(self) -> str | None:
        return None if self.http_address is None else f"{'https' if self.https else 'http'}://{self.http_address}"


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    """The whole cluster at one instant; `master` is the elected master's name, `None` when no node knows one."""

    cluster_name: str
    home: Path
    nodes: tuple[NodeStatus, ...]
    master: str | None

    def node(self, name: str) -> NodeStatus:
        return next(n for n in self.nodes if n.name == name)

    def by_state(self, state: NodeState) -> tuple[NodeStatus, ...]:
        return tuple(n for n in self.nodes if n.state is state)


def parse_proc_stat_state(stat: str) -> str:
    """The state letter of a `/proc/<pid>/stat` line; the command name in parentheses may itself hold `) `."""
    return stat[stat.rindex(")") + 2]


def process_state(pid: int) -> ProcessState:
    """Reads `/proc/<pid>/stat`; on systems without /proc only RUNNING or GONE can be told apart."""
    try:
        letter = parse_proc_stat_state(Path(f"/proc/{pid}/stat").read_text())
    except FileNotFoundError:
        return ProcessState.GONE
    except OSError:
        return _process_state_by_signal(pid)
    if letter in "Tt":
        return ProcessState.STOPPED
    if letter in "ZXx":
        return ProcessState.GONE
    return ProcessState.RUNNING


def _process_state_by_signal(pid: int) -> ProcessState:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ProcessState.GONE
    except PermissionError:
        return ProcessState.RUNNING  # alive, owned by someone else; `is_node_process` rules it out
    return ProcessState.RUNNING


def is_node_process(pid: int, data_dir: Path) -> bool:
    """True when `pid` is a node started with this data directory.

    Guards every signal sent to a pid read from `cluster.json`: after a reboot the pid may belong to anything.
    Where `/proc` cannot be read the pid is trusted.
    """
    argv = _read_cmdline(pid)
    if argv is None:
        return _process_state_by_signal(pid) is not ProcessState.GONE
    args = [arg.decode(errors="replace") for arg in argv.split(b"\0")]
    if "node.spawner" in args:  # forked by the spawner, so its command line is the spawner's: ask its pid file
        try:
            return (data_dir / PID_FILE).read_text().strip() == str(pid)
        except OSError:
            return False
    return "node" in args and any(
        args[i] == "--data-dir" and Path(args[i + 1]) == data_dir for i in range(len(args) - 1)
    )


def _read_cmdline(pid: int) -> bytes | None:
    """`/proc/<pid>/cmdline`; `None` when /proc cannot tell, `b""` for no such process.

    A process caught between `execve` closing its close-on-exec pipes (which is when `Popen` returns) and the
    kernel laying out its new arguments shows an empty command line for a moment: that is waited out, briefly.
    """
    deadline = time.monotonic() + _CMDLINE_SETTLE_S
    while True:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return b""
        except OSError:
            return None
        if argv or time.monotonic() >= deadline or process_state(pid) is ProcessState.GONE:
            return argv
        time.sleep(0.005)


def node_process_alive(pid: int, data_dir: Path) -> bool:
    """True while `pid` is the node of `data_dir` and has not exited (a zombie counts as exited)."""
    return is_node_process(pid, data_dir) and process_state(pid) is not ProcessState.GONE
