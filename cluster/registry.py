"""The launcher's members: one record (and, when this launcher started it, one process) per node, kept in step with
`cluster.json`.

Several launchers may act on one home at once: `simcluster up` in the foreground in one terminal (or a test
fixture) and `simcluster node kill|start|add ...` in another. Each keeps its own members in memory; cluster.json is
the meeting point. Every write therefore happens under the home's lock as read, merge, write:

* a record this launcher changed since it last synchronised (*dirty*) replaces the stored one, except that a
  record naming a live node process that is not ours is never overwritten: another launcher has restarted that
  node meanwhile, and its pid must not be lost (it would leave a process nobody can stop);
* every other stored record is adopted, so a launcher sees nodes that others started, added or removed.

Only the registry mutates members and cluster.json; the launcher asks it to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from cluster.errors import ClusterError
from cluster.spawner import NodeProcess
from cluster.state import ClusterFile, ClusterHome, NodeRecord, node_process_alive

__all__ = ["Member", "NodeRegistry"]


@dataclasses.dataclass(slots=True)
class Member:
    """One node of the cluster: its record, and its process when this launcher started it."""

    record: NodeRecord
    process: NodeProcess | None = None

    @property
    def name(self) -> str:
        return self.record.name

    def alive(self) -> bool:
        """Whether the node's process exists (running or paused), by `waitpid` when ours, else through /proc."""
        if self.process is not None and self.process.pid == self.record.pid:
            return self.process.poll() is None
        return self.record.pid is not None and node_process_alive(self.record.pid, self.record.data_dir)


class NodeRegistry:
    """The members of one cluster home and their synchronisation with `cluster.json`."""

    def __init__(self, home: ClusterHome) -> None:
        self._home = home
        self._state: ClusterFile | None = None
        self._members: dict[str, Member] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()

    @property
    def state(self) -> ClusterFile:
        if self._state is None:
            raise ClusterError(f"the cluster in {self._home.root} has not been started")
        return self._state

    @property
    def known(self) -> bool:
        return self._state is not None

    @property
    def members(self) -> dict[str, Member]:
        """Members by name, in start order (read-only use: change them through the methods below)."""
        return self._members

    def member(self, name: str) -> Member:
        """The member called `name`; `UnknownNodeError` (listing the names) when there is none."""
        if name not in self._members:
            self.state.record(name)  # raises UnknownNodeError
        return self._members[name]

    def adopt(self, state: ClusterFile) -> None:
        """Starts over from `state` (a new cluster, or the stored one)."""
        self._state = state
        self._members = {record.name: Member(record) for record in state.nodes}
        self._dirty.clear()
        self._removed.clear()

    def update(self, name: str, **changes: object) -> NodeRecord:
        member = self._members[name]
        member.record = member.record.with_changes(**changes)
        self._dirty.add(name)
        return member.record

    def set_process(self, name: str, process: NodeProcess | None) -> None:
        self._members[name].process = process

    def add(self, record: NodeRecord) -> Member:
        """A new member (`node add`); saved with the next `save()`."""
        member = self._members[record.name] = Member(record)
        self._dirty.add(record.name)
        self._removed.discard(record.name)
        return member

    def remove(self, name: str) -> None:
        """Forgets a member (`node remove`); removed from cluster.json with the next `save()`."""
        self._members.pop(name, None)
        self._dirty.discard(name)
        self._removed.add(name)

    def exited(self) -> list[Member]:
        """Members whose process this launcher started and which have exited since (not yet reaped)."""
        return [m for m in self._members.values() if m.process is not None and m.process.poll() is not None]

    def save(self, *, bootstrapped: bool | None = None) -> None:
        """Merges this launcher's changes into cluster.json (see the module docstring) and adopts the others'."""
        with self._home.locked():
            stored = self._home.load_if_exists()
            base = self.state if stored is None else stored
            records = {r.name: r for r in base.nodes if r.name not in self._removed}
            for name in self._dirty:
                if name in self._members:
                    records[name] = _merge(records.get(name), self._members[name].record)
            state = base.with_changes(
                nodes=tuple(records.values()),
                bootstrapped=base.bootstrapped or bool(bootstrapped),
            )
            self._home.save(state)
        self._dirty.clear()
        self._removed.clear()
        self._sync(state)

    def refresh(self) -> None:
        """Adopts what other launchers wrote to cluster.json since this one last looked."""
        if self._state is None:
            return
        stored = self._home.load_if_exists()
        if stored is not None:
            self._sync(stored)

    def _sync(self, state: ClusterFile) -> None:
        self._state = state
        by_name = {r.name: r for r in state.nodes}
        for name in [n for n in self._members if n not in by_name and n not in self._dirty]:
            member = self._members[name]
            if member.process is None or member.process.poll() is not None:
                del self._members[name]  # removed by another launcher
        for record in state.nodes:
            known = self._members.get(record.name)
            if known is None:
                self._members[record.name] = Member(record)
            elif record.name not in self._dirty:
                known.record = record
        order = list(by_name) + [n for n in self._members if n not in by_name]
        self._members = {n: self._members[n] for n in order if n in self._members}

    def records(self) -> Iterable[NodeRecord]:
        return (m.record for m in self._members.values())


def _merge(stored: NodeRecord | None, ours: NodeRecord) -> NodeRecord:
    """Our record, unless the stored one names a different live node process (started by another launcher)."""
    if stored is None or stored.pid is None or stored.pid == ours.pid:
        return ours
    return stored if node_process_alive(stored.pid, stored.data_dir) else ours
