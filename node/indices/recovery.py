"""Peer recovery of a replica from its primary (mirrors ES `PeerRecoveryTargetService` and
`PeerRecoverySourceService`: phase 1 copies the primary's documents, phase 2 replays what happened meanwhile).

The target node, on applying a state that assigns it an initializing replica, starts buffering the operations the
primary replicates to it and asks the primary's node for its documents (`internal:index/shard/recovery/start_recovery`),
a page of `RECOVERY_PAGE_SIZE` documents at a time in `_id` order, as ES sends files in chunks. The source waits
until it applied that cluster state too (so every later write also goes to the target), reads the page, and answers
after the simulated copy time (`sim.recovery.doc_time` per document). The target installs each page, then replays
the buffered operations above the primary's sequence number of the first page, and reports the shard started.
"""

from __future__ import annotations

import json

from node.cluster.service import ClusterService
from node.cluster.state import DiscoveryNode
from node.common.action_names import START_RECOVERY
from node.data.allocation import copies_of
from node.data.errors import IllegalIndexShardStateError
from node.indices.local_shards import LocalShards
from node.indices.shard_store import RecoveryPage
from node.indices.simulated_work import simulate
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["PeerRecovery"]

RECOVERY_TIMEOUT_S = 60.0
RECOVERY_PAGE_SIZE = 1000
_STATE_WAIT_S = 30.0


class PeerRecovery:
    def __init__(self, transport: TransportService, cluster: ClusterService, shards: LocalShards) -> None:
        self._transport = transport
        self._cluster = cluster
        self._shards = shards
        self._local_node_id = transport.local_node.id
        transport.register_action(START_RECOVERY, pb.StartRecoveryRequest, pb.StartRecoveryResponse, self._on_source)

    async def recover(self, index: str, uuid: str, shard: int, source: DiscoveryNode, state_version: int) -> None:
        """Recovers this node's copy from `source`; the caller reports started or failed.

        Raises:
            ElasticsearchError: the source failed or could not be reached.
        """
        key = (uuid, shard)
        self._shards.begin_recovery(key)
        try:
            await self._shards.create(key)
            after = ""
            max_seq_no: int | None = None
            while True:
                request = pb.StartRecoveryRequest(
                    index=index, index_uuid=uuid, shard=shard, target_node_id=self._local_node_id,
                    state_version=state_version, after_id=after, page_size=RECOVERY_PAGE_SIZE,
                )  # fmt: skip
                response = await self._transport.send_request(
                    source, START_RECOVERY, request, timeout=RECOVERY_TIMEOUT_S
                )
                page = RecoveryPage.from_json(json.loads(response.snapshot_json))
                await self._shards.install_page(key, page, first=max_seq_no is None)
                if max_seq_no is None:
                    max_seq_no = page.max_seq_no
                if page.done or page.last_id is None:
                    break
                after = page.last_id
            await self._shards.finish_recovery(key, max_seq_no)
        except BaseException:
            self._shards.abandon_recovery(key)
            raise

    async def _on_source(self, task: Task, request: pb.StartRecoveryRequest) -> pb.StartRecoveryResponse:
        """On the primary's node: wait for the state that assigned the target, then send a page of documents."""
        state = await self._cluster.wait_for_state(lambda s: s.version >= request.state_version, _STATE_WAIT_S)
        if state is None:
            raise IllegalIndexShardStateError(
                f"[{request.index}][{request.shard}] timed out waiting for cluster state version [{request.state_version}]"
            )
        state = self._cluster.state()
        shard = copies_of(state.metadata, request.index)
        copies = shard[request.shard] if request.shard < len(shard) else ()
        if not any(c.primary and c.active and c.node == self._local_node_id for c in copies):
            raise IllegalIndexShardStateError(
                f"[{request.index}][{request.shard}] is not the active primary on this node"
            )
        page = await self._shards.recovery_page(
            (request.index_uuid, request.shard), request.after_id or None, request.page_size or RECOVERY_PAGE_SIZE
        )
        costs = self._cluster.costs()
        await simulate(None, costs.recovery_doc * len(page.rows), costs.check_interval)
        return pb.StartRecoveryResponse(snapshot_json=json.dumps(page.to_json(), separators=(",", ":")))
