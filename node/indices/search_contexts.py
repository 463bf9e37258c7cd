"""The open search contexts of this node (mirrors ES `SearchService`'s active readers and `ShardSearchContextId`).

A query phase opens a context on the shard it searched when a fetch (or a scroll round) will come back for it; the
context remembers which documents of the shard the search reads (`start`..`end`, a slice's share) and, for a
scroll, how far it got. Fetching frees a non-scroll context; `[free_context]` frees one nobody fetched from; a
clear-scroll frees scroll contexts. Contexts whose keep-alive ran out are dropped lazily.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field

from node.data.errors import SearchContextMissingError
from node.indices.shard_store import synthetic_id
from node.storage.store import new_node_id

__all__ = ["SearchContext", "SearchContexts"]

# ES `search.default_keep_alive`: how long a non-scroll context waits for its fetch phase.
DEFAULT_KEEP_ALIVE_S = 300.0


@dataclass(slots=True)
class SearchContext:
    id: str
    index: str
    uuid: str
    shard: int
    start: int
    end: int
    position: int
    size: int
    scroll: bool
    expires_at: float
    # A scroll's point-in-time view of the shard: tracked ids, then `untracked` documents.
    tracked: list[str] = field(default_factory=list)
    untracked: int = 0
    _tracked_set: frozenset[str] | None = None

    @property
    def total(self) -> int:
        return self.end - self.start

    def page(self, offset: int, limit: int) -> list[str]:
        """Documents `offset` to `offset + limit` of the view, within this context's range."""
        out = []
        for i in range(offset, min(offset + limit, self.end)):
            out.append(
                self.tracked[i] if i < len(self.tracked) else synthetic_id(self.uuid, self.shard, i - len(self.tracked))
            )
        return out

    def is_tracked(self, doc_id: str) -> bool:
        if self._tracked_set is None:
            self._tracked_set = frozenset(self.tracked)
        return doc_id in self._tracked_set


class SearchContexts:
    def __init__(self) -> None:
        self.session_id = new_node_id()
        self._ids = itertools.count(1)
        self._contexts: dict[str, SearchContext] = {}

    def open(
        self,
        index: str,
        uuid: str,
        shard: int,
        start: int,
        end: int,
        size: int,
        keep_alive_s: float | None,
        view: tuple[list[str], int] = ([], 0),
    ) -> SearchContext:
        self._reap()
        scroll = keep_alive_s is not None
        context = SearchContext(
            id=str(next(self._ids)), index=index, uuid=uuid, shard=shard, start=start, end=end, position=start,
            size=size, scroll=scroll,
            expires_at=time.monotonic() + (keep_alive_s if keep_alive_s is not None else DEFAULT_KEEP_ALIVE_S),
            tracked=view[0], untracked=view[1],
        )  # fmt: skip
        self._contexts[context.id] = context
        return context

    def get(self, context_id: str, keep_alive_s: float | None = None) -> SearchContext:
        """The live context, its keep-alive extended when a scroll round gives a new one.

        Raises:
            SearchContextMissingError: freed, expired, or never opened on this node.
        """
        context = self._contexts.get(context_id)
        if context is None or context.expires_at < time.monotonic():
            self._contexts.pop(context_id, None)
            raise SearchContextMissingError(context_id)
        if keep_alive_s is not None:
            context.expires_at = time.monotonic() + keep_alive_s
        return context

    def free(self, context_id: str) -> bool:
        return self._contexts.pop(context_id, None) is not None

    def free_index(self, uuid: str) -> None:
        for context_id in [c.id for c in self._contexts.values() if c.uuid == uuid]:
            del self._contexts[context_id]

    def __len__(self) -> int:
        return len(self._contexts)

    def open_by_shard(self) -> Counter[tuple[str, int]]:
        """Live contexts per (index uuid, shard): the `search.open_contexts` of each copy."""
        self._reap()
        return Counter((c.uuid, c.shard) for c in self._contexts.values())

    def _reap(self) -> None:
        now = time.monotonic()
        for context_id in [c.id for c in self._contexts.values() if c.expires_at < now]:
            del self._contexts[context_id]
