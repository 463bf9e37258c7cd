"""Applying committed cluster states on one node (mirrors ES `ClusterApplierService`).

The applier owns the node's view of the cluster: the last applied state. It applies states one at a time, in
order, synchronously on the event loop, logs what changed in ES's words, calls the composition root's `on_applied`
listener (which closes channels to departed nodes, drops their bans and cancels their orphaned tasks) and wakes
whoever waits for a condition on the state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from node.cluster.state import ClusterState
from node.coordination.membership import describe_node

__all__ = ["ClusterApplierService", "describe_changes"]

log = logging.getLogger(__name__)

StatePredicate = Callable[[ClusterState], bool]


def describe_changes(old: ClusterState, new: ClusterState) -> str | None:
    """The ES summary of a node-level change (`master node changed {...}, added {...}, removed {...}`), or None."""
    parts: list[str] = []
    if old.master_node_id != new.master_node_id:
        previous = f"[{describe_node(old.master)}]" if old.master is not None else "[]"
        current = f"[{describe_node(new.master)}]" if new.master is not None else "[]"
        parts.append(f"master node changed {{previous {previous}, current {current}}}")
    added = [n for node_id, n in new.nodes.items() if old.nodes.get(node_id) != n]
    removed = [n for node_id, n in old.nodes.items() if new.nodes.get(node_id) != n]
    if removed:
        parts.append("removed {" + ",".join(describe_node(n) for n in sorted(removed, key=lambda n: n.name)) + "}")
    if added:
        parts.append("added {" + ",".join(describe_node(n) for n in sorted(added, key=lambda n: n.name)) + "}")
    return ", ".join(parts) if parts else None


class ClusterApplierService:
    """Holds the applied state, applies new ones and lets callers wait for a condition on it."""

    def __init__(
        self, node_name: str, initial: ClusterState, on_applied: Callable[[ClusterState, ClusterState], None]
    ) -> None:
        self._node_name = node_name
        self._state = initial
        self._on_applied = on_applied
        self._waiters: list[tuple[StatePredicate, asyncio.Future[ClusterState]]] = []

    @property
    def state(self) -> ClusterState:
        return self._state

    def apply(self, new: ClusterState, source: str) -> None:
        """Makes `new` the applied state and tells every listener; never raises."""
        old, self._state = self._state, new
        summary = describe_changes(old, new)
        if summary is not None:
            log.info(
                "[%s] %s, term: %d, version: %d, reason: %s", self._node_name, summary, new.term, new.version, source
            )
        else:
            log.debug(
                "[%s] applied cluster state term: %d, version: %d, reason: %s",
                self._node_name,
                new.term,
                new.version,
                source,
            )
        try:
            self._on_applied(old, new)
        except Exception:  # a listener's bug must not stop this node from following the cluster
            log.exception(
                "[%s] failed to notify the cluster state listener of version [%d]", self._node_name, new.version
            )
        self._notify_waiters()

    def _notify_waiters(self) -> None:
        remaining = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            try:
                matched = predicate(self._state)
            except Exception as e:  # noqa: BLE001 - the waiter's own predicate failed: it gets the error
                future.set_exception(e)
                continue
            if matched:
                future.set_result(self._state)
            else:
                remaining.append((predicate, future))
        self._waiters = remaining

    async def wait_for_state(self, predicate: StatePredicate, timeout: float) -> ClusterState | None:
        """The first applied state (the current one included) matching `predicate`, or None after `timeout` s."""
        if predicate(self._state):
            return self._state
        future: asyncio.Future[ClusterState] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            future.cancel()
