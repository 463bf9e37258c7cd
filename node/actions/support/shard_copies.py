"""One shard request tried on the copies of a shard in turn (mirrors ES `AbstractSearchAsyncAction#performPhaseOnShard`
and `#onShardFailure`, and `TransportSingleShardAction.AsyncSingleAction#perform`).

Search's query phase and get both read through `try_copies`: the request goes to the first copy of the shard's
`ShardIterator`; any failure of that copy — its node gone from the cluster or disconnected, the request timed out,
the shard not there or not started — sends it to the next copy, and only when none is left does the shard fail,
with the failure `keep_failure` chose. The request's own cancellation (`task_cancelled_exception`) ends the walk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from node.cluster.node_selector import resolve_nodes
from node.cluster.state import ClusterState, DiscoveryNode
from node.data.allocation import ShardCopy
from node.data.errors import NoShardAvailableActionError
from node.data.index_metadata import IndexMetadata
from node.data.shard_iterator import CopyFailure, ShardIterator, keep_failure, ordered_copies
from node.errors import ElasticsearchError, TaskCancelledError

__all__ = ["CopyAnswer", "shard_iterator", "try_copies"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CopyAnswer(Generic[T]):
    """The answer of the copy that served the request, and its node."""

    node_id: str
    response: T


def shard_iterator(
    state: ClusterState,
    index: IndexMetadata,
    shard: int,
    copies: Sequence[ShardCopy],
    preference: str | None,
    local_node: str,
    turn: int,
) -> ShardIterator:
    """The active copies of one shard, on nodes of `state`, in the order a read with `preference` tries them."""
    active = [c.node for c in copies if c.active and c.node is not None and c.node in state.nodes]

    def select_nodes(selectors: str) -> list[str]:
        return resolve_nodes(state, local_node, [s.strip() for s in selectors.split(",") if s.strip()])

    nodes = ordered_copies(active, preference, local_node=local_node, turn=turn, select_nodes=select_nodes)
    return ShardIterator(index.name, index.uuid, shard, nodes)


async def try_copies(
    iterator: ShardIterator, state: ClusterState, attempt: Callable[[DiscoveryNode], Awaitable[T]]
) -> CopyAnswer[T] | CopyFailure:
    """Sends the shard request (`attempt`) to each remaining copy of `iterator` until one answers.

    Returns the first answer, or the shard's failure once every copy failed (`no_shard_available_action_exception`
    without a reason when the shard had no active copy at all).
    """
    kept: CopyFailure | None = None
    while (node_id := iterator.next_or_none()) is not None:
        node = state.nodes.get(node_id)
        try:
            if node is None:  # ES: the copy's node is not among the nodes the request was routed with
                raise NoShardAvailableActionError(None)  # type: ignore[arg-type]  # ES renders "reason": null
            return CopyAnswer(node_id, await attempt(node))
        except TaskCancelledError as e:
            return keep_failure(kept, CopyFailure(node_id, e))
        except ElasticsearchError as e:
            log.debug(
                "[%s][%d] failed on [%s], %d copies left: %s",
                iterator.index, iterator.shard, node_id, iterator.remaining(), e,
            )  # fmt: skip
            kept = keep_failure(kept, CopyFailure(node_id, e))
    return kept if kept is not None else CopyFailure(None, NoShardAvailableActionError(None))  # type: ignore[arg-type]
