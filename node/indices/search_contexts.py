"""The open search contexts of this node (mirrors ES `SearchService`'s active readers and `ShardSearchContextId`).

A query phase opens a context on the shard it searched when a fetch (or a scroll round) will come back for it; the
context holds the hits the search may fetch (the top `from + size`, or every match of a scroll, with their
documents as they were when the query ran: a scroll reads a point-in-time view, as ES's reader does), how hits are
rendered, and for a scroll how far it got. Fetching frees a non-scroll context; `[free_context]` frees one nobody
fetched from; a clear-scroll frees scroll contexts. Contexts whose keep-alive ran out are dropped lazily.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.data.errors import SearchContextMissingError
from node.data.shard_query import ShardHit
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
    hits: Sequence[ShardHit]
    total: int
    size: int
    scroll: bool
    expires_at: float
    fetch_options: Mapping[str, Any] = field(default_factory=dict)
    position: int = 0
    max_score: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # once per context: every scroll round reports it, and a context holds every match of its shard
        self.max_score = max((h.score for h in self.hits if h.score is not None), default=None)

    def page(self, offset: int, limit: int) -> Sequence[ShardHit]:
        return self.hits[offset : offset + limit]

    def hits_of(self, doc_ids: Sequence[str]) -> list[ShardHit]:
        """The hits a fetch asks for, in its order. The coordinator takes a prefix of each shard's page, so a
        scroll's are the next ones from its position: only those are indexed, never every match of the shard."""
        window = self.hits[self.position : self.position + len(doc_ids)] if self.scroll else self.hits
        by_id = {h.doc.id: h for h in window}
        return [by_id[doc_id] for doc_id in doc_ids if doc_id in by_id]


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
        hits: Sequence[ShardHit],
        total: int,
        size: int,
        keep_alive_s: float | None,
        fetch_options: Mapping[str, Any],
    ) -> SearchContext:
        self._reap()
        context = SearchContext(
            id=str(next(self._ids)), index=index, uuid=uuid, shard=shard, hits=hits, total=total, size=size,
            scroll=keep_alive_s is not None,
            expires_at=time.monotonic() + (keep_alive_s if keep_alive_s is not None else DEFAULT_KEEP_ALIVE_S),
            fetch_options=fetch_options,
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
