"""Node processes seen from the launcher: spawn, read the ready line, signal, stop, read the log tail.

Every node is `[sys.executable, "-m", "node", *config.to_argv()]` started with fork+exec (never `multiprocessing`:
gRPC and fork do not mix) in a session of its own, so a Ctrl-C in the user's terminal reaches only the launcher,
which then stops the nodes in order, and so a signal to the node's process group reaches nothing else.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import selectors
import signal
import site
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import node.config
from cluster.errors import NodeStartError
from cluster.spawner import NodeProcess, shared_spawner, spawner_enabled
from cluster.state import PID_FILE, node_process_alive
from node.config import NodeConfig
from node.settings import without_setting_variables

__all__ = [
    "LOG_TAIL_LINES",
    "MemoryUse",
    "ReadyLine",
    "StopOutcome",
    "child_environment",
    "memory_use",
    "parse_ready_line",
    "read_ready_lines",
    "reset_peak_memory",
    "signal_group",
    "spawn_node",
    "stop_pids",
    "stop_processes",
    "tail_lines",
    "wait_until",
]

LOG_TAIL_LINES = 20
_POLL_INTERVAL = 0.05

# The directory holding the `node` package the launcher imported: children must run that same code, not whatever
# `node/` directory happens to sit in the user's working directory.
_PACKAGE_ROOT = str(Path(node.config.__file__).resolve().parents[1])
# An installed package is found without help; putting site-packages on PYTHONPATH would rank it above the stdlib.
_NEEDS_PYTHONPATH = _PACKAGE_ROOT not in {str(Path(p).resolve()) for p in site.getsitepackages()}


@dataclass(frozen=True, slots=True)
class ReadyLine:
    """The one JSON line a node prints on stdout once both its servers listen."""

    name: str
    node_id: str
    pid: int
    http_address: str
    transport_address: str
    cluster_name: str


class StopOutcome(enum.StrEnum):
    """How a node ended when asked to stop."""

    STOPPED = "stopped"  # exited after SIGTERM (or stdin EOF)
    KILLED = "killed"  # still alive after the grace period, so SIGKILL
    ALREADY_DOWN = "already down"


def parse_ready_line(line: bytes) -> ReadyLine | None:
    """Parses a ready line; `None` for any other line (a stray print must not abort the start)."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("event") != "ready":
            return None
        return ReadyLine(
            name=str(data["name"]),
            node_id=str(data["node_id"]),
            pid=int(data["pid"]),
            http_address=str(data["http_address"]),
            transport_address=str(data["transport_address"]),
            cluster_name=str(data["cluster_name"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def child_environment(*, settings: bool = False) -> dict[str, str]:
    """The environment of a node process: the launcher's, plus quiet gRPC and an import path pinned to this code.

    `PYTHONSAFEPATH` keeps `python -m node` from importing a `node` package out of the working directory first.
    Variables a node would read as settings (`cluster.name=...`, `ES_SETTING_...`) are left out: a launched node is
    configured by the launcher's flags, and in ES's order such a variable would win over them. With `settings`
    they stay (`simcluster node run` is the user's own node, configured by them).
    """
    env = dict(os.environ) if settings else without_setting_variables(os.environ)
    env["GRPC_VERBOSITY"] = "ERROR"
    env["PYTHONSAFEPATH"] = "1"
    if _NEEDS_PYTHONPATH:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
    return env


def spawn_node(
    config: NodeConfig, *, detached: bool, wrap: Callable[[list[str]], list[str]] | None = None
) -> NodeProcess:
    """Starts one node; stderr is appended to its log file so a crash before logging is set up is still seen.

    A foreground node gets a stdin pipe the launcher holds open (the node watches it and exits on EOF: fate
    sharing with the launcher, even when the launcher is SIGKILLed); a detached one gets /dev/null. The node is
    forked by the preloaded spawner (`cluster.spawner`) where the system allows it, else started with fork+exec;
    either way it leads a session of its own. `wrap` turns the node's command into the one to run (a `--hosts`
    node runs it in its network namespace; such a node is always started with fork+exec).
    """
    config.log_path.parent.mkdir(parents=True, exist_ok=True)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with open(config.log_path, "ab") as stderr:
        if wrap is None and spawner_enabled():
            spawner = shared_spawner(child_environment(), sys.executable)
            try:
                return spawner.spawn(
                    config.to_argv(), stdin_pipe=not detached, stderr=stderr, pid_file=config.data_dir / PID_FILE
                )
            except OSError as e:
                raise NodeStartError(f"{config.name} could not be started: {e}", {}) from None
        command = [sys.executable, "-m", "node", *config.to_argv()]
        return subprocess.Popen(
            command if wrap is None else wrap(command),
            stdin=subprocess.DEVNULL if detached else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
            env=child_environment(),
        )


def read_ready_lines(
    processes: Mapping[str, NodeProcess],
    log_files: Mapping[str, Path],
    deadline: float,
    on_ready: Callable[[str], None] | None = None,
) -> dict[str, ReadyLine]:
    """Reads every node's ready line concurrently, until `deadline` (a `time.monotonic()` value); `on_ready` is
    called with each node's name as its line arrives.

    Raises:
        NodeStartError: a process closed stdout (exited) before its ready line, or the deadline passed; the error
            carries the tail of the log of the node concerned.
    """
    ready: dict[str, ReadyLine] = {}
    buffers = {name: b"" for name in processes}
    with selectors.DefaultSelector() as selector:
        for name, proc in processes.items():
            assert proc.stdout is not None
            selector.register(proc.stdout, selectors.EVENT_READ, name)
        while len(ready) < len(processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                late = sorted(set(processes) - set(ready))
                raise NodeStartError(
                    f"{', '.join(late)} did not report ready in time",
                    {name: tail_lines(log_files[name]) for name in late},
                )
            for key, _ in selector.select(remaining):
                name = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    proc = processes[name]
                    code = _wait_briefly(proc)
                    raise NodeStartError(
                        f"{name} exited{'' if code is None else f' with code {code}'} before it was ready"
                        f" (log: {log_files[name]})",
                        {name: tail_lines(log_files[name])},
                    )
                buffers[name] += chunk
                while b"\n" in buffers[name] and name not in ready:
                    line, _, buffers[name] = buffers[name].partition(b"\n")
                    parsed = parse_ready_line(line)
                    if parsed is not None:
                        ready[name] = parsed
                        selector.unregister(key.fileobj)
                        if on_ready is not None:
                            on_ready(name)
    return ready


def _wait_briefly(proc: NodeProcess) -> int | None:
    try:
        return proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        return None  # closed stdout but lives on: the caller tears it down


def signal_group(pid: int, sig: signal.Signals) -> bool:
    """Sends `sig` to the node's process group (the node leads its own session); False when it is gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Not a group leader we own (started without a session of its own): fall back to the process itself.
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return False
    return True


def _terminate(pid: int) -> None:
    # SIGCONT after SIGTERM: a paused (SIGSTOPped) node would otherwise sit on the SIGTERM until SIGKILL.
    signal_group(pid, signal.SIGTERM)
    signal_group(pid, signal.SIGCONT)


def stop_processes(processes: Mapping[str, NodeProcess], grace: float) -> dict[str, StopOutcome]:
    """Stops nodes this launcher started, all at once: close stdins, SIGTERM the groups, wait, SIGKILL, reap.

    Every node gets the same `grace` deadline, so stopping N nodes takes at most one grace period, not N.
    """
    outcomes: dict[str, StopOutcome] = {}
    for name, proc in processes.items():
        if proc.stdin is not None and not proc.stdin.closed:
            with contextlib.suppress(OSError):  # the node already exited and the pipe is broken
                proc.stdin.close()
        if proc.poll() is None:
            _terminate(proc.pid)
        else:
            outcomes[name] = StopOutcome.ALREADY_DOWN
    deadline = time.monotonic() + grace
    for name, proc in processes.items():
        if name in outcomes:
            continue
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            outcomes[name] = StopOutcome.STOPPED
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            outcomes[name] = StopOutcome.KILLED
    for proc in processes.values():
        if proc.stdout is not None:
            proc.stdout.close()
    return outcomes


def stop_pids(pids: Mapping[str, tuple[int, Path]], grace: float) -> dict[str, StopOutcome]:
    """Stops nodes another launcher started (detached), known by pid and data directory: SIGTERM, wait, SIGKILL.

    They are not our children, so their exit is observed through /proc rather than `waitpid` (init reaps them),
    and a pid is only signalled while it still is that node (`is_node_process`).
    """
    outcomes: dict[str, StopOutcome] = {}
    for name, (pid, data_dir) in pids.items():
        if node_process_alive(pid, data_dir):
            _terminate(pid)
        else:
            outcomes[name] = StopOutcome.ALREADY_DOWN
    running = {name: target for name, target in pids.items() if name not in outcomes}
    wait_until(lambda: not any(node_process_alive(pid, d) for pid, d in running.values()), grace)
    for name, (pid, data_dir) in running.items():
        if node_process_alive(pid, data_dir):
            signal_group(pid, signal.SIGKILL)
            outcomes[name] = StopOutcome.KILLED
        else:
            outcomes[name] = StopOutcome.STOPPED
    killed = [target for name, target in running.items() if outcomes[name] is StopOutcome.KILLED]
    wait_until(lambda: not any(node_process_alive(pid, d) for pid, d in killed), 5.0)
    return outcomes


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Polls `predicate` every 50 ms until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(_POLL_INTERVAL, remaining))
    return True


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """A process's resident memory now and at its peak (`VmRSS`, `VmHWM`), in bytes."""

    resident: int
    peak: int


def memory_use(pid: int) -> MemoryUse | None:
    """Reads `/proc/<pid>/status` (Linux); None when the process is gone or the system has no such file."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    fields = {name: value.split() for name, _, value in (line.partition(":") for line in lines)}
    try:
        return MemoryUse(int(fields["VmRSS"][0]) * 1024, int(fields["VmHWM"][0]) * 1024)
    except (KeyError, IndexError, ValueError):  # a zombie has no memory lines
        return None


def reset_peak_memory(pid: int) -> bool:
    """Restarts a process's `VmHWM` from its current resident size (`clear_refs` 5, Linux 4.0+), so a later
    `memory_use` tells the peak of what happened since; False when that is not possible."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def tail_lines(path: Path, count: int = LOG_TAIL_LINES) -> list[str]:
    """The last `count` lines of a log file (empty when there is none yet), read without loading all of it."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024 * max(1, count // 50 + 1)))
            data = f.read()
    except FileNotFoundError:
        return []
    lines = deque(data.decode(errors="replace").splitlines(), maxlen=count)
    return list(lines)
