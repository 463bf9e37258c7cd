"""`indices:data/read/get` and its `[s]` shard action (mirrors ES `TransportGetAction`, a single-shard action).

The document's shard is found by routing its id; one active copy answers (round-robin, or `preference`), `direct`
when it is on the coordinating node. Only documents written through the document and bulk APIs have an id to find:
they answer with their `_version`, `_seq_no` and `_primary_term`, and an empty `_source` (documents are counted, not
stored).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from node.actions.names import GET_DOCUMENT_SHARD
from node.coordination.state import ClusterState
from node.data.allocation import copies_of, routing_view
from node.data.doc_routing import shard_id
from node.data.errors import NoShardAvailableActionError, ShardNotFoundError, index_not_found
from node.data.index_metadata import indices_of
from node.data.local_shards import LocalShards
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["GetAction"]


class GetAction:
    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
        shards: LocalShards,
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        self._shards = shards
        self._turns = itertools.count()
        transport.register_action(GET_DOCUMENT_SHARD, pb.ShardSearchRequest, pb.ShardSearchResponse, self._on_shard)

    async def execute(self, task: Task, index: str, doc_id: str, routing: str | None) -> dict[str, Any]:
        """The get response body; `found` tells whether the document exists.

        Raises:
            IndexNotFoundError: no such index.
            NoShardAvailableActionError: no active copy of the document's shard.
        """
        state = self._cluster_state()
        metadata = routing_view(state.metadata, set(state.nodes))
        meta = indices_of(metadata).get(index)
        if meta is None:
            raise index_not_found(index)
        shard = shard_id(doc_id, meta.number_of_shards, routing)
        active = [c.node for c in copies_of(metadata, index)[shard] if c.active and c.node in state.nodes]
        if not active:
            raise NoShardAvailableActionError(f"No shard available for [get [{index}][{doc_id}]: routing [{routing}]]")
        node = state.nodes[active[next(self._turns) % len(active)]]  # type: ignore[index]
        request = pb.ShardSearchRequest(index=index, index_uuid=meta.uuid, shard=shard, doc_ids=[doc_id])
        with self._task_manager.child_request(task, node.id):
            response = await self._transport.send_request(node, GET_DOCUMENT_SHARD, request, parent=task)
        return json.loads(response.result_json)  # type: ignore[no-any-return]

    async def _on_shard(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        state = self._cluster_state()
        meta = indices_of(state.metadata).get(request.index)
        if meta is None or meta.uuid != request.index_uuid:
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)
        doc_id = request.doc_ids[0]
        found = await self._shards.get_document((request.index_uuid, request.shard), doc_id)
        body: dict[str, Any] = {"_index": request.index, "_id": doc_id}
        if found is None:
            body["found"] = False
        else:
            version, seq_no = found
            term = meta.primary_terms[request.shard]
            body.update({"_version": version, "_seq_no": seq_no, "_primary_term": term, "found": True, "_source": {}})
        return pb.ShardSearchResponse(result_json=json.dumps(body, separators=(",", ":")))
