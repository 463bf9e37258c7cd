"""`indices:data/read/get` and its `[s]` shard action (mirrors ES `TransportGetAction`, a single-shard action).

The document's shard is found by routing its id; its active copies are tried in turn (round-robin, or `preference`:
`_local`, `_only_local`, `_prefer_nodes:`, `_only_nodes:`, any other text), `direct` when the copy is on the
coordinating node, until one answers (ES `TransportSingleShardAction`: any failure of a copy moves on to the next;
when none is left, a shard-not-available failure becomes `No shard available for [...]` and any other is relayed).
Only documents written through the document and bulk APIs have an id to find:
they answer with their `_version`, `_seq_no` and `_primary_term`, and an empty `_source` (documents are counted, not
stored).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from node.actions.support.services import NodeServices
from node.actions.support.shard_copies import shard_iterator, try_copies
from node.actions.support.transport_action import TransportAction
from node.cluster.state import DiscoveryNode
from node.common.action_names import GET_DOCUMENT, GET_DOCUMENT_SHARD
from node.data.allocation import copies_of, routing_view
from node.data.doc_routing import shard_id
from node.data.errors import NoShardAvailableActionError, ShardNotFoundError
from node.data.index_metadata import indices_of
from node.data.index_resolver import concrete_single_index
from node.data.shard_iterator import CopyFailure, is_shard_not_available
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["GetAction", "GetRequest"]


@dataclass(frozen=True, slots=True)
class GetRequest:
    index: str
    id: str
    routing: str | None = None
    preference: str | None = None


class GetAction(TransportAction[GetRequest, dict[str, Any]]):
    name = GET_DOCUMENT

    def __init__(self, services: NodeServices) -> None:
        super().__init__(services)
        self._turns = itertools.count()

    def register(self) -> None:
        self.transport.register_action(
            GET_DOCUMENT_SHARD, pb.ShardSearchRequest, pb.ShardSearchResponse, self._on_shard
        )

    async def execute(self, task: Task, request: GetRequest) -> dict[str, Any]:
        """The get response body; `found` tells whether the document exists.

        Raises:
            IndexNotFoundError: no such index.
            NoShardAvailableActionError: no copy of the document's shard could answer (caused by the last failure).
            ElasticsearchError: every copy failed, the last one with more than "not available" (ES relays it).
        """
        index, doc_id, routing = request.index, request.id, request.routing
        state = self.cluster.state()
        metadata = routing_view(state.metadata, set(state.nodes))
        indices = indices_of(metadata)
        index = concrete_single_index(index, indices)  # an alias of one index, a date-math name; never closed
        meta = indices[index]
        shard = shard_id(doc_id, meta.number_of_shards, routing)
        copies = shard_iterator(
            state, meta, shard, copies_of(metadata, index)[shard], request.preference, self.local_node.id,
            next(self._turns),
        )  # fmt: skip
        shard_request = pb.ShardSearchRequest(index=index, index_uuid=meta.uuid, shard=shard, doc_ids=[doc_id])

        async def get_from(node: DiscoveryNode) -> dict[str, Any]:
            default = self.cluster.node_request_timeout
            with self.task_manager.child_request(task, node.id):
                response = await self.transport.send_request(
                    node, GET_DOCUMENT_SHARD, shard_request, parent=task,
                    timeout=default.seconds if default is not None else None,
                )  # fmt: skip
            body: dict[str, Any] = json.loads(response.result_json)
            return body

        outcome = await try_copies(copies, state, get_from)
        if not isinstance(outcome, CopyFailure):
            return outcome.response
        if outcome.node_id is not None and not is_shard_not_available(outcome.error):
            raise outcome.error
        failure = NoShardAvailableActionError(f"No shard available for [get [{index}][{doc_id}]: routing [{routing}]]")
        if outcome.node_id is not None:
            failure.cause = outcome.error
        raise failure

    async def _on_shard(self, task: Task, request: pb.ShardSearchRequest) -> pb.ShardSearchResponse:
        state = self.cluster.state()
        meta = indices_of(state.metadata).get(request.index)
        if meta is None or meta.uuid != request.index_uuid:
            raise ShardNotFoundError(request.index, request.index_uuid, request.shard)
        doc_id = request.doc_ids[0]
        found = await self.services.shards.get_document((request.index_uuid, request.shard), doc_id)
        body: dict[str, Any] = {"_index": request.index, "_id": doc_id}
        if found is None:
            body["found"] = False
        else:
            version, seq_no = found
            term = meta.primary_terms[request.shard]
            body.update({"_version": version, "_seq_no": seq_no, "_primary_term": term, "found": True, "_source": {}})
        return pb.ShardSearchResponse(result_json=json.dumps(body, separators=(",", ":")))
