"""Reading the nodes' JSON logs from outside: `simcluster logs [-f] [NAME]`, and what the chaos runner learns from them.

Each node writes ECS-style JSON lines (`@timestamp`, `log.level`, `message`, ...) to `<home>/nodes/<name>/logs/node.log`,
with anything a crashing interpreter printed to stderr appended raw. `simcluster logs` prints those lines as they
are, like `docker compose logs`: one node's lines plain, several nodes' lines merged by timestamp and prefixed with
the node name. A raw line keeps the timestamp of the JSON line before it, so a traceback stays under its cause.

`masters_by_term` reads the coordination log lines (ES: `master node changed {previous [...], current [...]}, term:
N, ...`) to tell which node each node saw elected in each term: two names for one term would be a split brain.
"""

from __future__ import annotations

import heapq
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from cluster.process import tail_lines

__all__ = ["follow_logs", "log_timestamp", "masters_by_term", "merge_logs", "prefixed", "read_log"]

_POLL_S = 0.2
_MASTER_CHANGED = re.compile(r"master node changed \{previous \[.*?\], current \[\{([^}]*)\}\{[^}]*\}\]\}, term: (\d+)")


def log_timestamp(line: str) -> str | None:
    """The `@timestamp` of a JSON log line (ISO-8601 UTC, so it sorts as text); `None` for any other line."""
    if not line.startswith("{"):
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    stamp = doc.get("@timestamp") if isinstance(doc, dict) else None
    return stamp if isinstance(stamp, str) else None


def read_log(path: Path, last: int | None = None) -> list[str]:
    """The lines of one log file (the last `last` of them), empty when it does not exist yet."""
    if last is not None:
        return tail_lines(path, last)
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def _keyed(name: str, lines: Iterable[str]) -> Iterator[tuple[str, str, str]]:
    stamp = ""
    for line in lines:
        stamp = log_timestamp(line) or stamp
        yield stamp, name, line


def merge_logs(logs: Mapping[str, Iterable[str]]) -> Iterator[tuple[str, str]]:
    """`(name, line)` of several nodes' lines in timestamp order; equal stamps keep node order, then file order."""
    order = {name: i for i, name in enumerate(logs)}
    streams = [_keyed(name, lines) for name, lines in logs.items()]
    for _stamp, name, line in heapq.merge(*streams, key=lambda item: (item[0], order[item[1]])):
        yield name, line


def prefixed(name: str, line: str, width: int) -> str:
    """`node-1 | line`, names padded to `width` so the lines of several nodes align."""
    return f"{name.ljust(width)} | {line}"


def follow_logs(
    paths: Mapping[str, Path],
    *,
    stop: Callable[[], bool] = lambda: False,
    poll_interval: float = _POLL_S,
) -> Iterator[tuple[str, str]]:
    """`(name, line)` for every complete line appended to any of `paths` from now on (`tail -F`).

    A file that does not exist yet is waited for; one that shrank (a node's data was wiped and it started again)
    is read again from its start. Runs until `stop()` is true (or the consumer stops iterating).
    """
    offsets = {name: _size(path) for name, path in paths.items()}
    partial = {name: b"" for name in paths}
    while not stop():
        idle = True
        for name, path in paths.items():
            size = _size(path)
            if size < offsets[name]:
                offsets[name], partial[name] = 0, b""
            if size == offsets[name]:
                continue
            with open(path, "rb") as f:
                f.seek(offsets[name])
                chunk = f.read(size - offsets[name])
            offsets[name] += len(chunk)
            *lines, partial[name] = (partial[name] + chunk).split(b"\n")
            for line in lines:
                idle = False
                yield name, line.decode(errors="replace")
        if idle:
            time.sleep(poll_interval)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def masters_by_term(logs: Mapping[str, Iterable[str]]) -> dict[int, set[str]]:
    """For each term, the names of the masters that any node applied as elected in it (from `master node changed`).

    Raft/Zen2 safety says at most one per term; the caller reports a term with more as a split brain.
    """
    masters: dict[int, set[str]] = {}
    for lines in logs.values():
        for line in lines:
            if "master node changed" not in line:
                continue
            message = line
            if line.startswith("{"):
                try:
                    message = str(json.loads(line).get("message", ""))
                except ValueError:
                    continue
            match = _MASTER_CHANGED.search(message)
            if match is not None:
                masters.setdefault(int(match.group(2)), set()).add(match.group(1))
    return masters
