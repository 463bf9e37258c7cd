"""The shard copies of this node, as the write, search and recovery code uses them (ES `IndicesService` and
`IndexShard`, reduced to document counts).

Every call runs one `node.indices.shard_store` function in the node store's single writer thread. While a replica
recovers, the operations its primary replicates to it are buffered and replayed after the snapshot is installed,
skipping those the snapshot already holds (ES replays the translog operations above the snapshot's sequence number).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from node.indices import shard_store
from node.indices.shard_stats import ShardOperationStats, common_stats
from node.indices.shard_store import PrimaryOutcome, ShardDocs, ShardKey, Snapshot
from node.storage.store import NodeStore

__all__ = ["LocalShards"]


class LocalShards:
    """This node's shard copies: counts, primary and replica operations, recovery; `stats` counts what they did."""

    def __init__(self, store: NodeStore) -> None:
        self._store = store
        self._recovering: dict[ShardKey, list[list[Any]]] = {}
        self.stats = ShardOperationStats()

    async def create(self, key: ShardKey) -> bool:
        """Opens the copy, creating it empty if needed; True when it already held data."""
        return await self._store.execute(partial(shard_store.create_shard, key))

    async def exists(self, key: ShardKey) -> bool:
        return await self._store.execute(partial(shard_store.has_shard, key))

    async def delete_all_but(self, keep_uuids: set[str]) -> list[str]:
        self.stats.forget_all_but(keep_uuids)
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

    async def get_document(self, key: ShardKey, doc_id: str) -> tuple[int, int] | None:
        started = time.monotonic_ns()
        found = await self._store.execute(partial(shard_store.get_document, key, doc_id))
        self.stats.on_get(key, found is not None, time.monotonic_ns() - started)
        return found

    async def document_refs(self, key: ShardKey) -> tuple[list[str], int]:
        return await self._store.execute(partial(shard_store.document_refs, key))

    async def document_ids(self, key: ShardKey, offset: int, limit: int) -> list[str]:
        return await self._store.execute(partial(shard_store.document_ids, key, offset, limit))

    async def apply_on_primary(self, key: ShardKey, operations: Sequence[Mapping[str, Any]]) -> PrimaryOutcome:
        started = time.monotonic_ns()
        with self.stats.writing(key):
            outcome = await self._store.execute(partial(shard_store.apply_on_primary, key, operations))
        indexed = deleted = failed = noops = 0
        for op, result in zip(operations, outcome.results, strict=False):
            if "error" in result:
                failed += 1
            elif op["op"] in ("delete", "bulk_delete"):
                deleted += int(result.get("count", 1))
            elif op["op"] == "bulk_update":
                noops += int(result.get("count", 0))
            else:
                indexed += int(result.get("count", 1))
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
        with self.stats.writing(key):
            await self._store.execute(partial(shard_store.apply_effects, key, effects))
        indexed = sum(1 if e[0] == "put" else int(e[1]) for e in effects if e[0] in ("put", "add"))
        deleted = sum(1 if e[0] == "del" else int(e[1]) for e in effects if e[0] in ("del", "remove"))
        self.stats.on_write(key, indexed, deleted, 0, 0, time.monotonic_ns() - started)

    async def snapshot(self, key: ShardKey) -> Snapshot:
        return await self._store.execute(partial(shard_store.snapshot, key))

    # ---- recovery (target side) ------------------------------------------------------------------------------

    def begin_recovery(self, key: ShardKey) -> None:
        """From now on replicated operations for `key` are buffered (call before asking the primary)."""
        self._recovering.setdefault(key, [])

    def is_recovering(self, key: ShardKey) -> bool:
        return key in self._recovering

    async def finish_recovery(self, key: ShardKey, copy: Snapshot) -> None:
        """Installs the snapshot, then replays the buffered operations it does not hold yet."""
        await self._store.execute(partial(shard_store.install, key, copy))
        while True:
            buffer = self._recovering.get(key)
            if not buffer:
                self._recovering.pop(key, None)
                return
            pending = [e for e in buffer if int(e[-1]) > copy.max_seq_no]
            buffer.clear()
            if pending:
                await self._store.execute(partial(shard_store.apply_effects, key, pending))

    def abandon_recovery(self, key: ShardKey) -> None:
        self._recovering.pop(key, None)
