"""The shard copies of this node, as the write, get, search and recovery code uses them (ES `IndicesService` and
`IndexShard`).

Every call runs one `node.indices.shard_store` function in the node store's single writer thread (off the event
loop). While a replica recovers, the operations its primary replicates to it are buffered and replayed once the
primary's documents are installed, skipping those the copy already holds (ES replays the translog operations above
the snapshot's sequence number).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from node.data.shard_query import ShardHit, ShardQuery, StoredDocument
from node.indices import shard_store
from node.indices.shard_stats import ShardOperationStats, common_stats
from node.indices.shard_store import PrimaryOutcome, RecoveryPage, ShardDocs, ShardKey
from node.storage.store import NodeStore

__all__ = ["LocalShards"]

# How many documents the searchers of a node's copies may hold at once (parsed sources are kept with them).
SEARCHER_DOCUMENTS = 200_000


class _Searchers:
    """The live documents each copy's last full search read, reused until the copy changes (ES keeps a searcher
    until the next refresh; here every write is a refresh). Bounded by `SEARCHER_DOCUMENTS`, least recently used
    first out."""

    def __init__(self, capacity: int = SEARCHER_DOCUMENTS) -> None:
        self._capacity = capacity
        self._generations: dict[ShardKey, int] = {}
        self._held: OrderedDict[ShardKey, tuple[int, list[StoredDocument]]] = OrderedDict()

    def changed(self, key: ShardKey | None = None) -> None:
        """The copy (every copy when None) is about to change: its searcher is stale from now on."""
        if key is None:
            self._generations.clear()
            self._held.clear()
            return
        self._generations[key] = self._generations.get(key, 0) + 1
        self._held.pop(key, None)

    def generation(self, key: ShardKey) -> int:
        return self._generations.get(key, 0)

    def get(self, key: ShardKey) -> list[StoredDocument] | None:
        held = self._held.get(key)
        if held is None or held[0] != self.generation(key):
            return None
        self._held.move_to_end(key)
        return held[1]

    def keep(self, key: ShardKey, generation: int, documents: list[StoredDocument]) -> None:
        if generation != self.generation(key) or len(documents) > self._capacity:
            return
        self._held[key] = (generation, documents)
        self._held.move_to_end(key)
        while sum(len(d) for _, d in self._held.values()) > self._capacity:
            self._held.popitem(last=False)


class LocalShards:
    """This node's shard copies: counts, primary and replica operations, recovery; `stats` counts what they did."""

    def __init__(self, store: NodeStore) -> None:
        self._store = store
        self._recovering: dict[ShardKey, list[list[Any]]] = {}
        self._searchers = _Searchers()
        self.stats = ShardOperationStats()

    async def create(self, key: ShardKey) -> bool:
        """Opens the copy, creating it empty if needed; True when it already held data."""
        self._searchers.changed(key)
        return await self._store.execute(partial(shard_store.create_shard, key))

    async def exists(self, key: ShardKey) -> bool:
        return await self._store.execute(partial(shard_store.has_shard, key))

    async def delete_all_but(self, keep_uuids: set[str]) -> list[str]:
        self.stats.forget_all_but(keep_uuids)
        self._searchers.changed()
        return await self._store.execute(partial(shard_store.delete_indices, keep_uuids))

    async def counts(self, keys: Iterable[ShardKey]) -> dict[ShardKey, ShardDocs]:
        return await self._store.execute(partial(shard_store.doc_counts, list(keys)))

    async def count(self, key: ShardKey) -> int:
        docs = (await self.counts([key])).get(key)
        return docs.count if docs is not None else 0

    async def copy_stats(
        self, keys: Iterable[ShardKey], open_contexts: Mapping[ShardKey, int] | None = None
    ) -> dict[ShardKey, dict[str, Any]]:
        """ES `CommonStats` of each copy this node holds: its documents from the store, its counters from `stats`."""
        docs = await self.counts(keys)
        contexts = open_contexts or {}
        return {
            key: common_stats(count.count, self.stats.get(key), contexts.get(key, 0)) for key, count in docs.items()
        }

    async def get_document(self, key: ShardKey, doc_id: str) -> StoredDocument | None:
        started = time.monotonic_ns()
        found = await self._store.execute(partial(shard_store.get_document, key, doc_id))
        self.stats.on_get(key, found is not None, time.monotonic_ns() - started)
        return found

    async def get_documents(self, key: ShardKey, doc_ids: Sequence[str]) -> dict[str, StoredDocument]:
        """Several documents of one copy (a multi-get's shard request), each counted as a get."""
        started = time.monotonic_ns()
        found = await self._store.execute(partial(shard_store.get_documents, key, list(doc_ids)))
        elapsed = (time.monotonic_ns() - started) // max(len(doc_ids), 1)
        for doc_id in doc_ids:
            self.stats.on_get(key, doc_id in found, elapsed)
        return found

    async def search(self, key: ShardKey, request: ShardQuery) -> tuple[int, list[ShardHit]]:
        """The query phase on this copy, with the documents its last search read while the copy is unchanged."""
        generation = self._searchers.generation(key)
        outcome = await self._store.execute(
            partial(shard_store.search, key, request, documents=self._searchers.get(key))
        )
        if outcome.documents is not None:
            self._searchers.keep(key, generation, outcome.documents)
        return outcome.total, outcome.hits

    async def apply_on_primary(
        self, key: ShardKey, index: str, operations: Sequence[Mapping[str, Any]], primary_term: int
    ) -> PrimaryOutcome:
        started = time.monotonic_ns()
        self._searchers.changed(key)
        with self.stats.writing(key):
            outcome = await self._store.execute(
                partial(shard_store.apply_on_primary, key, index, operations, primary_term)
            )
        indexed = deleted = failed = noops = 0
        for result in outcome.results:
            kind = result.get("result")
            if "error" in result:
                failed += 1
            elif kind in ("deleted", "not_found"):
                deleted += 1
            elif kind == "noop":
                noops += 1
            else:
                indexed += 1
        self.stats.on_write(key, indexed, deleted, failed, noops, time.monotonic_ns() - started)
        return outcome

    async def apply_on_replica(self, key: ShardKey, effects: Sequence[Sequence[Any]]) -> None:
        """Applies a primary's effects, or buffers them while this copy recovers (buffered ones are not counted:
        ES counts no recovery operations)."""
        buffer = self._recovering.get(key)
        if buffer is not None:
            buffer.extend(list(e) for e in effects)
            return
        started = time.monotonic_ns()
        self._searchers.changed(key)
        with self.stats.writing(key):
            await self._store.execute(partial(shard_store.apply_effects, key, effects))
        indexed = sum(1 for e in effects if e[0] == "put")
        self.stats.on_write(key, indexed, len(effects) - indexed, 0, 0, time.monotonic_ns() - started)

    async def recovery_page(self, key: ShardKey, after: str | None, limit: int) -> RecoveryPage:
        return await self._store.execute(partial(shard_store.recovery_page, key, after, limit))

    # ---- recovery (target side) ------------------------------------------------------------------------------

    def begin_recovery(self, key: ShardKey) -> None:
        """From now on replicated operations for `key` are buffered (call before asking the primary)."""
        self._recovering.setdefault(key, [])

    def is_recovering(self, key: ShardKey) -> bool:
        return key in self._recovering

    async def install_page(self, key: ShardKey, page: RecoveryPage, first: bool) -> None:
        self._searchers.changed(key)
        await self._store.execute(partial(shard_store.install_page, key, page, first))

    async def finish_recovery(self, key: ShardKey, max_seq_no: int) -> None:
        """Counts the installed documents, then replays the buffered operations above `max_seq_no` (the primary's
        when the first page was read: every later operation was buffered here)."""
        self._searchers.changed(key)
        await self._store.execute(partial(shard_store.finish_install, key, max_seq_no))
        while True:
            buffer = self._recovering.get(key)
            if not buffer:
                self._recovering.pop(key, None)
                return
            pending = [e for e in buffer if int(e[3]) > max_seq_no]
            buffer.clear()
            if pending:
                self._searchers.changed(key)
                await self._store.execute(partial(shard_store.apply_effects, key, pending))

    def abandon_recovery(self, key: ShardKey) -> None:
        self._recovering.pop(key, None)
