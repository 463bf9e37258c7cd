"""`python -m node.spawner`: a preloaded process that forks node processes (a fork server).

Starting a node is import-bound: grpc, aiohttp and the node's own modules cost about 0.35 s of CPU per process, so
100 nodes spawned with fork+exec spend half a minute of two cores on imports alone. The spawner imports all of it
once and then forks one child per node. gRPC supports fork only before any of its objects exist
(performance-baselines P1): the spawner creates none, runs no event loop and no thread; each child builds its own
loop, servers and channels after the fork, exactly as a freshly exec'd `python -m node` would.

Protocol, over the Unix socket whose descriptor is `--socket-fd` (the launcher holds the other end):

- the spawner sends `{"ready": pid}` once its imports are done;
- a request is one JSON line plus three descriptors (SCM_RIGHTS): the child's stdin, stdout and stderr.
  `{"argv": [...], "pid_file": path}` forks a node running `python -m node ARGV`; the answer is `{"pid": pid}`,
  sent once the child's pid is in `pid_file` (so the launcher can recognise the process, whose command line is the
  spawner's). `{"status": pid}` answers `{"status": code}` once that child has exited, `null` while it runs
  (negative: killed by that signal, as `subprocess` reports it).
- EOF on the socket (the launcher closed it or died) ends the spawner; its children live on, adopted by init.

Each child leads a session of its own (so the launcher signals its process group), has the given descriptors as
0, 1 and 2 and nothing else of the spawner's, default signal handlers, and a freshly seeded `random`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import signal
import socket
import sys
import traceback
from pathlib import Path

# The preload: everything a node imports before it serves anything.
import node.cli
import node.server

__all__ = ["main"]

_MAX_MESSAGE = 1 << 20


def _run_child(argv: list[str], fds: list[int], control: socket.socket) -> None:
    """In the forked child: become a node process, never return into the spawner's loop."""
    code = 1
    try:
        control.close()
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
        random.seed()
        gc.enable()
        sys.argv = [sys.argv[0], *argv]
        try:
            node.cli.main.main(args=argv, prog_name="python -m node", standalone_mode=True)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001 - a crash prints its traceback to the node's log, as exec'd nodes do
            traceback.print_exc()
            code = 1
    finally:
        with contextlib.suppress(BaseException):  # a closed pipe must not send the child back into the spawner
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class _Spawner:
    def __init__(self, control: socket.socket) -> None:
        self._control = control
        self._exited: dict[int, int] = {}
        self._buffer = b""

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._exited[pid] = os.waitstatus_to_exitcode(status)

    def _send(self, message: dict[str, object]) -> None:
        self._control.sendall(json.dumps(message).encode() + b"\n")

    def serve(self) -> None:
        self._send({"ready": os.getpid()})
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._control, _MAX_MESSAGE, 3)
            except InterruptedError:
                continue
            if not data:
                return
            self._buffer += data
            self._reap()
            while b"\n" in self._buffer:
                line, _, self._buffer = self._buffer.partition(b"\n")
                self._handle(json.loads(line), fds)
                fds = []

    def _handle(self, request: dict[str, object], fds: list[int]) -> None:
        if "status" in request:
            pid = int(str(request["status"]))
            self._reap()
            self._send({"status": self._exited.get(pid)})
            return
        argv = [str(a) for a in request["argv"]]  # type: ignore[attr-defined]
        pid = os.fork()
        if pid == 0:
            _run_child(argv, fds, self._control)
        for fd in fds:
            os.close(fd)
        pid_file = Path(str(request["pid_file"]))
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{pid}\n")
        self._send({"pid": pid})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m node.spawner", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--socket-fd", type=int, required=True)
    args = parser.parse_args()
    # Objects that exist now are shared with every child: keep the collector off them, so the children's
    # collections do not write to (and so copy) the pages they live on.
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the launcher's to handle; EOF ends the spawner
    control = socket.socket(fileno=args.socket_fd)
    try:
        _Spawner(control).serve()
    finally:
        control.close()
    # Nothing to flush or finalise, and tearing down hundreds of preloaded modules only keeps the launcher waiting.
    os._exit(0)


if __name__ == "__main__":
    main()
