"""The data plane of one node, wired in one place (the composition root builds one `DataPlane`).

It owns this node's shard copies (`LocalShards`), keeps them in line with the applied routing
(`IndicesClusterStateService`), lets the master reroute after membership changes (`RoutingService`), and exposes the
actions the REST handlers call: index admin, indices stats, bulk, search and the reindex family.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from node.actions.bulk import BulkAction
from node.actions.get import GetAction
from node.actions.indices_admin import IndicesAdminAction
from node.actions.indices_stats import IndicesStatsAction
from node.actions.refresh import RefreshAction
from node.actions.reindex import ReindexAction
from node.actions.rethrottle import RethrottleAction
from node.actions.search import SearchAction
from node.config import NodeConfig
from node.coordination import Coordinator
from node.coordination.state import ClusterState, DiscoveryNode
from node.data.cluster_settings import SimCosts
from node.data.indices_cluster_state import IndicesClusterStateService
from node.data.local_shards import LocalShards
from node.data.master_requests import MasterRequests
from node.data.recovery import PeerRecovery
from node.data.routing_service import RoutingService
from node.data.shard_state import ShardStateAction
from node.storage.store import NodeStore
from node.storage.task_results import TaskResultsService
from node.tasks.manager import TaskManager
from node.transport.service import TransportService

__all__ = ["DataPlane"]

log = logging.getLogger(__name__)


class DataPlane:
    """Indices, shards, writes, search and reindex on one node."""

    def __init__(
        self,
        config: NodeConfig,
        store: NodeStore,
        task_manager: TaskManager,
        transport: TransportService,
        coordinator: Coordinator,
        local_node: Callable[[], DiscoveryNode],
        task_results: TaskResultsService,
    ) -> None:
        self._coordinator = coordinator
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False
        node_id = local_node().id
        state = self.cluster_state
        wait_for_state = coordinator.wait_for_state
        submit = coordinator.submit_state_update
        self.shards = LocalShards(store)
        self.master_requests = MasterRequests(transport, task_manager, state, wait_for_state, node_id)
        self.routing = RoutingService(
            is_master=lambda: coordinator.is_master,
            submit_state_update=submit,
            spawn=self._spawn,
            version_created=config.es_version,
        )
        self.shard_state = ShardStateAction(transport, self.master_requests, submit, self.routing.reroute)
        self.recovery = PeerRecovery(transport, self.shards, state, wait_for_state, node_id)
        self.indices_cluster_state = IndicesClusterStateService(node_id, self.shards, self.shard_state, self.recovery)
        self.indices_admin = IndicesAdminAction(
            transport, self.master_requests, submit, wait_for_state, self.routing.reroute, config.es_version
        )
        self.indices_stats = IndicesStatsAction(transport, task_manager, state, self.shards)
        self.search = SearchAction(transport, task_manager, state, node_id, self.shards)
        self.bulk = BulkAction(
            transport, task_manager, state, wait_for_state, node_id, self.shards, self.shard_state, self.indices_admin
        )
        self.get = GetAction(transport, task_manager, state, node_id, self.shards)
        self.refresh = RefreshAction(transport, task_manager, state, wait_for_state, node_id, self.shard_state)
        self.reindex = ReindexAction(task_manager, state, node_id, self.search, self.bulk, task_results)
        self.rethrottle = RethrottleAction(transport, task_manager, state, node_id, self.reindex)

    def cluster_state(self) -> ClusterState:
        return self._coordinator.state

    def costs(self) -> SimCosts:
        """The simulated costs in effect on this node (the `sim.*` cluster settings it applied)."""
        return SimCosts.from_metadata(self.cluster_state().metadata)

    def on_applied(self, old: ClusterState, new: ClusterState) -> None:
        """Called by the composition root for every applied state, in order."""
        self.indices_cluster_state.on_applied(old, new)
        self.routing.on_applied(old, new)

    async def close(self) -> None:
        self._closed = True
        await self.reindex.close()
        await self.indices_cluster_state.close()
        await self.search.close()
        pending = list(self._background)
        for background in pending:
            background.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._closed:
            coro.close()
            return
        background = asyncio.ensure_future(coro)
        self._background.add(background)
        background.add_done_callback(self._done)

    def _done(self, background: asyncio.Task[Any]) -> None:
        self._background.discard(background)
        if not background.cancelled() and background.exception() is not None:
            log.error("data plane background work failed", exc_info=background.exception())
