"""The applied cluster state of one node and the ways to act on it (mirrors ES `ClusterService`).

ES's `ClusterService` joins the `ClusterApplierService` (the applied state, appliers and listeners) and the
`MasterService` (state updates on the master). Here coordination (`node.coordination.Coordinator`) owns both
halves — elections decide whose updates are published — and `ClusterService` is the face every other service and
action sees: the state, the local node, appliers, submitting updates, waiting for a state, and the simulated costs
the applied `sim.*` settings put into effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from node.cluster.state import ClusterState, DiscoveryNode
from node.common.time_value import TimeValue
from node.config import NodeConfig
from node.coordination import Coordinator
from node.data.cluster_settings import SimCosts
from node.storage.store import NodeStore
from node.transport.service import TransportService

__all__ = ["ClusterService", "StateApplier"]

log = logging.getLogger(__name__)

StateApplier = Callable[[ClusterState, ClusterState], None]


class ClusterService:
    """The cluster as this node applied it, and its master-side updates."""

    def __init__(self, config: NodeConfig, transport: TransportService, store: NodeStore) -> None:
        self.local_node: DiscoveryNode = transport.local_node
        self.cluster_name = config.cluster_name
        self._node_request_timeout_ms = config.node_request_timeout_ms
        self._appliers: list[StateApplier] = []
        self._costs: tuple[int, SimCosts] | None = None
        self.coordinator = Coordinator(config, self.local_node, transport, store, self._apply)

    # ---- reading --------------------------------------------------------------------------------------------

    def state(self) -> ClusterState:
        """The last applied (committed) state; before the first one, only the cluster name."""
        return self.coordinator.state

    @property
    def is_master(self) -> bool:
        return self.coordinator.is_master

    @property
    def node_request_timeout(self) -> TimeValue | None:
        """How long a fan-out waits for each node when its request sets no timeout (`--node-request-timeout`);
        None: until the node answers or leaves the cluster, as ES's fan-outs wait."""
        millis = self._node_request_timeout_ms
        return None if millis < 0 else TimeValue.of_millis(millis)

    def costs(self) -> SimCosts:
        """The simulated costs of the applied `sim.*` cluster settings (parsed once per applied state)."""
        state = self.state()
        key = id(state.metadata)
        if self._costs is None or self._costs[0] != key:
            self._costs = (key, SimCosts.from_metadata(state.metadata))
        return self._costs[1]

    # ---- acting ---------------------------------------------------------------------------------------------

    def add_applier(self, applier: StateApplier) -> None:
        """Calls `applier(old, new)` for every applied state, in order, on the loop (ES `ClusterStateApplier`).

        Appliers run in the order they were added; one that raises is logged and the others still run.
        """
        self._appliers.append(applier)

    async def submit_state_update(self, source: str, update: Callable[[ClusterState], ClusterState]) -> ClusterState:
        """Runs `update` on the master and publishes the result (ES `MasterService#submitStateUpdateTask`).

        Raises:
            NotMasterError: this node is not the elected master (503).
            FailedToCommitClusterStateError: the publication did not reach a quorum (503).
        """
        return await self.coordinator.submit_state_update(source, update)

    async def wait_for_state(self, predicate: Callable[[ClusterState], bool], timeout: float) -> ClusterState | None:
        """The first applied state (the current one included) matching `predicate`, or None after `timeout` s
        (ES `ClusterStateObserver#waitForNextChange`)."""
        return await self.coordinator.wait_for_state(predicate, timeout)

    async def start(self) -> None:
        await self.coordinator.start()

    async def stop(self) -> None:
        await self.coordinator.stop()

    def _apply(self, old: ClusterState, new: ClusterState) -> None:
        for applier in self._appliers:
            try:
                applier(old, new)
            except Exception:  # one applier's bug must not keep the others from the new state
                log.exception("failed to apply cluster state version [%d] in %r", new.version, applier)
