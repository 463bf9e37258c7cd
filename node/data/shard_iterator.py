"""The copies of a shard in the order a read tries them, and the failure a shard reports when every copy failed
(mirrors ES `ShardIterator`, `OperationRouting#preferenceActiveShardIterator` and the failure bookkeeping of
`AbstractSearchAsyncAction#onShardFailure` and `TransportSingleShardAction.AsyncSingleAction#perform`).

A read (a search's query phase, a get) sends its shard request to the first copy of the shard's iterator; when that
copy fails, for whatever reason other than the request's own cancellation, the request goes to the next copy, and
the shard has failed only when no copy is left. Of the failures seen on the way, ES reports the first one, unless a
later one says more than "this copy is not available" (`TransportActions#isReadOverrideException`).

Order of the copies, for a `preference`:

    none            every active copy, rotated by a per-request turn (ES spreads reads with adaptive replica
                    selection; a round-robin spreads them evenly here)
    _local          the copy on the coordinating node first, then the others
    _only_local     the copy on the coordinating node only
    _prefer_nodes:X the copies on the nodes X selects first, then the others
    _only_nodes:X   the copies on the nodes X selects only
    any other text  a rotation fixed by the text, so one user keeps reading the same copies
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from node.data.errors import NoShardAvailableActionError, SearchContextMissingError
from node.errors import ElasticsearchError, IndexNotFoundError

__all__ = [
    "CopyFailure",
    "ShardIterator",
    "is_shard_not_available",
    "keep_failure",
    "ordered_copies",
]

# ES `TransportActions#isShardNotAvailableException`.
_SHARD_NOT_AVAILABLE = frozenset(
    {
        "shard_not_found_exception",
        IndexNotFoundError.es_type,
        "illegal_index_shard_state_exception",
        NoShardAvailableActionError.es_type,
        "unavailable_shards_exception",
        "already_closed_exception",
    }
)


def is_shard_not_available(error: ElasticsearchError) -> bool:
    """Whether `error` only says the copy could not serve the shard (ES `isShardNotAvailableException`)."""
    return error.es_type in _SHARD_NOT_AVAILABLE


@dataclass(slots=True)
class ShardIterator:
    """ES `ShardIterator`: one shard and the nodes of its copies, in the order to try them."""

    index: str
    uuid: str
    shard: int
    nodes: tuple[str, ...]
    _position: int = field(default=0, repr=False)

    def next_or_none(self) -> str | None:
        """The node of the next copy to try; None once every copy was tried."""
        if self._position >= len(self.nodes):
            return None
        node = self.nodes[self._position]
        self._position += 1
        return node

    def remaining(self) -> int:
        return len(self.nodes) - self._position


def ordered_copies(
    active: Sequence[str],
    preference: str | None,
    *,
    local_node: str,
    turn: int,
    select_nodes: Callable[[str], Collection[str]],
) -> tuple[str, ...]:
    """The nodes of a shard's active copies (primary first in `active`) in the order a read tries them.

    Args:
        turn: this request's turn of the round-robin over the copies.
        select_nodes: resolves the node selectors of `_prefer_nodes:`/`_only_nodes:` to node ids.
    """
    if not active:
        return ()
    if preference is not None and not preference.startswith("_"):
        turn = sum(preference.encode())
    start = turn % len(active)
    rotated = (*active[start:], *active[:start])
    if preference in ("_local", "_only_local"):
        chosen: Collection[str] = {local_node}
        only = preference == "_only_local"
    elif preference is not None and preference.startswith(("_prefer_nodes:", "_only_nodes:")):
        chosen = set(select_nodes(preference.partition(":")[2]))
        only = preference.startswith("_only_nodes:")
    else:
        return rotated
    first = tuple(n for n in rotated if n in chosen)
    return first if only else (*first, *(n for n in rotated if n not in chosen))


@dataclass(frozen=True, slots=True)
class CopyFailure:
    """How a shard request failed on one copy: the copy's node (None when no copy was there to try) and the error."""

    node_id: str | None
    error: ElasticsearchError


def keep_failure(kept: CopyFailure | None, failure: CopyFailure) -> CopyFailure:
    """The failure a shard reports after `failure`, given the one kept so far.

    ES keeps the first failure of a shard, unless a later one is more than "not available on this copy" (a read
    override exception) and is not a missing search context.
    """
    if kept is None:
        return failure
    error = failure.error
    if not is_shard_not_available(error) and not isinstance(error, SearchContextMissingError):
        return failure
    return kept
