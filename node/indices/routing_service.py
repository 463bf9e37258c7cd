"""The master's follow-up reroutes (mirrors ES `RoutingService#reroute` and `AllocationService#reroute`).

Coordination only publishes membership changes; after every applied state the master checks whether the routing
still fits the cluster (a data node left or joined, an index has no routing yet, `.tasks` was just added) and, if
not, submits one reroute state update, never more than one at a time. Shard-started, shard-failed and index
changes reroute inside their own state updates, so a reroute here is mostly about nodes.

A master whose process applied no state before it was elected started from the state it loaded from disk: it drops
the transient cluster settings there, which ES never writes to disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from node.cluster.service import ClusterService
from node.cluster.state import ClusterState
from node.common.background import BackgroundTasks
from node.data.allocation import AllocationEnable, reroute
from node.data.cluster_settings import TRANSIENT_KEY, SimCosts, without_transient
from node.data.index_metadata import upgrade_legacy
from node.errors import ElasticsearchError
from node.storage.store import new_node_id

__all__ = ["RoutingService", "data_node_ids", "reroute_state"]

log = logging.getLogger(__name__)


def data_node_ids(state: ClusterState) -> list[str]:
    """The data nodes of the state, in node-name order (the allocator's tie-break order)."""
    return [n.id for n in state.nodes_sorted() if n.is_data]


def reroute_state(state: ClusterState, version_created: str) -> ClusterState:
    """The state with its routing brought in line with its data nodes; `state` itself when nothing changes."""
    metadata = upgrade_legacy(state.metadata, new_node_id, time.time_ns() // 1_000_000, version_created)
    enable: AllocationEnable = SimCosts.from_metadata(metadata).allocation_enable  # type: ignore[assignment]
    rerouted = reroute(metadata, data_node_ids(state), enable)
    if rerouted is state.metadata:
        return state
    return state.with_changes(metadata=rerouted)


class RoutingService:
    """Submits a reroute on the master whenever an applied state needs one."""

    def __init__(self, cluster: ClusterService, version_created: str) -> None:
        self._is_master = lambda: cluster.is_master
        self._submit = cluster.submit_state_update
        self._background = BackgroundTasks("routing service", log)
        self._spawn = self._background.spawn
        self._version_created = version_created
        self._pending = False
        self._again = False

    def on_applied(self, old: ClusterState, new: ClusterState) -> None:
        if not self._is_master():
            return
        if old.version == 0 and TRANSIENT_KEY in new.metadata:
            self._spawn(self._run("drop transient settings loaded from disk", _drop_transient))
        if self._pending:
            self._again = True
            return
        if reroute_state(new, self._version_created) is not new:
            self._pending = True
            self._spawn(self._run_reroute())

    async def _run_reroute(self) -> None:
        try:
            while True:
                self._again = False
                await self._run("cluster_reroute(routing service)", self.reroute)
                if not self._again:
                    return
        finally:
            self._pending = False

    async def join(self) -> None:
        """Waits for the reroutes in flight (tests use it instead of sleeping)."""
        await self._background.join()

    async def close(self) -> None:
        await self._background.close()

    def reroute(self, state: ClusterState) -> ClusterState:
        return reroute_state(state, self._version_created)

    async def _run(self, source: str, update: Callable[[ClusterState], ClusterState]) -> None:
        try:
            await self._submit(source, update)
        except ElasticsearchError as e:  # no longer master, or a failed publication: the next master reroutes
            log.debug("[%s] failed: %s", source, e)


def _drop_transient(state: ClusterState) -> ClusterState:
    metadata = without_transient(state.metadata)
    return state if metadata is state.metadata else state.with_changes(metadata=metadata)
