"""Starting node processes through a preloaded fork server (`python -m node.spawner`), seen from the launcher.

A node spawned with fork+exec imports grpc, aiohttp and the node's modules itself: about 0.35 s of CPU each, so
100 nodes cost two cores half a minute before any of them serves (performance-baselines §2.8, P11). The spawner
imports them once, creates no gRPC object, and forks a child per node (the one fork pattern gRPC supports, P1).
It is itself started with fork+exec, so no process that holds gRPC state (a test process, say) ever forks.

What the launcher gets back behaves like `subprocess.Popen` (`NodeProcess`): a pid that leads its own process
group, a stdin pipe the node watches (fate-sharing with a foreground launcher), its stdout pipe (the ready line),
and `poll`/`wait`/`returncode`, answered through a pidfd and the spawner, the node's parent. One spawner serves
every cluster of this interpreter; it ends when the interpreter does (its socket closes), and nodes started
detached outlive it, adopted by init, as they outlive a launcher that exits.

`SIMCLUSTER_SPAWNER=exec` (or a system without `pidfd_open` or `fork`) starts every node with fork+exec instead.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Protocol

__all__ = ["ForkedNode", "NodeProcess", "NodeSpawner", "shared_spawner", "spawner_enabled"]

_READY_TIMEOUT_S = 120.0  # imports on a machine loaded by 100 other processes take a while


class NodeProcess(Protocol):
    """What the launcher uses of a node process it started (a `subprocess.Popen` or a `ForkedNode`)."""

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def spawner_enabled() -> bool:
    return os.environ.get("SIMCLUSTER_SPAWNER", "fork") != "exec" and hasattr(os, "pidfd_open") and hasattr(os, "fork")


class ForkedNode:
    """A node forked by the spawner, with `subprocess.Popen`'s interface for what the launcher needs."""

    def __init__(self, spawner: NodeSpawner, pid: int, stdin: IO[bytes] | None, stdout: IO[bytes]) -> None:
        self._spawner = spawner
        self.pid = pid
        self.stdin = stdin
        self.stdout: IO[bytes] | None = stdout
        self._returncode: int | None = None
        self._pidfd: int | None = os.pidfd_open(pid)

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def _exited(self, timeout: float) -> bool:
        if self._pidfd is None:
            return True
        ready, _, _ = select.select([self._pidfd], [], [], timeout)
        return bool(ready)

    def poll(self) -> int | None:
        if self._returncode is None and self._exited(0):
            self._collect()
        return self._returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._returncode is None:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._exited(1.0 if remaining is None else remaining):
                self._collect()
            elif deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"node pid {self.pid}", timeout or 0.0)
        return self._returncode

    def _collect(self) -> None:
        # The spawner reaps its children when it next reads a request; ask until it has this one's status.
        for _ in range(100):
            status = self._spawner.status(self.pid)
            if status is not None:
                self._finish(status)
                return
            time.sleep(0.01)
        self._finish(-9)  # the spawner is gone: the exit status went with it

    def _finish(self, status: int) -> None:
        self._returncode = status
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class NodeSpawner:
    """The launcher's end of one `python -m node.spawner` process."""

    def __init__(self, env: dict[str, str], python: str, stderr: int | IO[bytes] = subprocess.DEVNULL) -> None:
        self.env = env
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket = ours
        self._lock = threading.Lock()
        self._buffer = b""
        self._process = subprocess.Popen(
            [python, "-m", "node.spawner", "--socket-fd", str(theirs.fileno())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            pass_fds=(theirs.fileno(),),
            env=env,
            start_new_session=True,
        )
        theirs.close()
        self._ready = False

    def alive(self) -> bool:
        return self._process.poll() is None

    def _read_message(self, timeout: float) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            self._socket.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                chunk = self._socket.recv(65536)
            except TimeoutError:
                raise OSError(f"the node spawner did not answer within {timeout:g}s") from None
            if not chunk:
                raise OSError("the node spawner exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, object] = json.loads(line)
        return message

    def _ensure_ready(self) -> None:
        if not self._ready:
            self._read_message(_READY_TIMEOUT_S)
            self._ready = True

    def spawn(self, argv: list[str], *, stdin_pipe: bool, stderr: IO[bytes], pid_file: Path) -> ForkedNode:
        """Forks `python -m node ARGV`; raises `OSError` when the spawner is gone or silent."""
        child_in, our_in = os.pipe() if stdin_pipe else (os.open(os.devnull, os.O_RDONLY), -1)
        our_out, child_out = os.pipe()
        try:
            with self._lock:
                self._ensure_ready()
                request = json.dumps({"argv": argv, "pid_file": str(pid_file)}).encode() + b"\n"
                socket.send_fds(self._socket, [request], [child_in, child_out, stderr.fileno()])
                answer = self._read_message(_READY_TIMEOUT_S)
        except BaseException:
            for fd in (our_in, our_out):
                if fd >= 0:
                    os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        stdin = os.fdopen(our_in, "wb", buffering=0) if our_in >= 0 else None
        return ForkedNode(self, int(str(answer["pid"])), stdin, os.fdopen(our_out, "rb"))

    def status(self, pid: int) -> int | None:
        """The exit status of a child that exited (None while it runs, or when the spawner is gone)."""
        try:
            with self._lock:
                self._socket.sendall(json.dumps({"status": pid}).encode() + b"\n")
                value = self._read_message(10.0)["status"]
        except OSError:
            return -9 if not self.alive() else None
        return None if value is None else int(str(value))

    def close(self) -> None:
        """Closes the socket, which ends the spawner (its children live on)."""
        self._socket.close()
        try:
            self._process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


_shared: NodeSpawner | None = None
_shared_lock = threading.Lock()


def shared_spawner(env: dict[str, str], python: str) -> NodeSpawner:
    """The spawner of this interpreter, (re)started when it is gone or the node environment changed."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive() or _shared.env != env:
            if _shared is not None:
                _shared.close()
            _shared = NodeSpawner(env, python)
        return _shared


def _close_shared() -> None:
    if _shared is not None:
        _shared.close()


atexit.register(_close_shared)
