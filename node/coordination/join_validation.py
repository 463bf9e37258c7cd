"""Join validation: a master shows a joining node its cluster state first (mirrors ES `JoinValidationService`).

Before the master adds a node, it sends the node its state (`internal:cluster/coordination/join/validate`). The
joining node refuses the state of a cluster other than the one it belongs to: once a node has committed a cluster
UUID, it is that cluster's node for good, so two clusters that share a name (and credentials, and seed hosts that
overlap) never merge. A node that never committed a UUID (a brand-new node) may join any cluster of its name, as in
ES. The same rule guards publications (`Coordinator._handle_publish`): a state of another cluster is never
accepted, whoever sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from node.cluster.state import ClusterState, DiscoveryNode
from node.common import action_names as names
from node.errors import CoordinationStateRejectedError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:
    from node.transport.service import TransportService

__all__ = ["JoinValidationService", "cluster_uuid_rejection"]

log = logging.getLogger(__name__)


def cluster_uuid_rejection(
    local_uuid: str, uuid_committed: bool, remote_uuid: str, data_path: Path
) -> CoordinationStateRejectedError | None:
    """ES's refusal of another cluster's state by a node that belongs to a cluster; `None` when it may join."""
    if not uuid_committed or local_uuid == remote_uuid:
        return None
    return CoordinationStateRejectedError(
        f"This node previously joined a cluster with UUID [{local_uuid}] and is now trying to join a different"
        f" cluster with UUID [{remote_uuid}]. This is forbidden and usually indicates an incorrect discovery or"
        " cluster bootstrapping configuration. Note that the cluster UUID persists across restarts and can only be"
        f" changed by deleting the contents of the node's data path [{data_path}] which will also remove any data"
        " held by this node."
    )


class JoinValidationService:
    """Sends the master's state to a joining node, and checks the states other masters send to this one.

    Args:
        data_path: the node's data directory, named in the refusal as ES names `path.data`.
        last_accepted: the local node's last accepted state, whose UUID it belongs to once committed.
        uuid_committed: whether that UUID was committed (ES `Metadata#clusterUUIDCommitted`).
        timeout: deadline of one validation round trip.
    """

    def __init__(
        self,
        transport: TransportService,
        *,
        data_path: Path,
        last_accepted: Callable[[], ClusterState],
        uuid_committed: Callable[[], bool],
        timeout: float,
    ) -> None:
        self._transport = transport
        self._data_path = data_path
        self._last_accepted = last_accepted
        self._uuid_committed = uuid_committed
        self._timeout = timeout
        transport.register_action(
            names.VALIDATE_JOIN, pb.ValidateJoinRequest, pb.ValidateJoinResponse, self._handle_validate_join
        )

    async def validate_join(self, joiner: DiscoveryNode, state: ClusterState) -> None:
        """Asks `joiner` whether it can join the cluster of `state`.

        Raises:
            ElasticsearchError: the joiner's refusal (`coordination_state_rejected_exception`), or a transport error.
        """
        request = pb.ValidateJoinRequest(state=state.to_proto())
        await self._transport.send_request(joiner, names.VALIDATE_JOIN, request, timeout=self._timeout)

    async def _handle_validate_join(self, task: Task, request: pb.ValidateJoinRequest) -> pb.ValidateJoinResponse:
        local = self._last_accepted()
        remote_uuid = request.state.cluster_uuid
        rejection = cluster_uuid_rejection(local.cluster_uuid, self._uuid_committed(), remote_uuid, self._data_path)
        if rejection is not None:
            raise rejection
        return pb.ValidateJoinResponse()
