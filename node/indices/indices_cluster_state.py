"""Makes this node's shard copies follow the routing it applied (mirrors ES `IndicesClusterStateService`).

On every applied state, for each copy the routing assigns to this node:

- an initializing primary is opened (created empty for a new index, reopened from its existing data otherwise)
  and reported started;
- an initializing replica recovers from its primary (`PeerRecovery`) and is reported started, or failed when the
  recovery fails (the master then allocates it again);

and the data of every index that is no longer in the metadata is deleted. Each copy is handled once per
assignment; the work runs in background asyncio tasks that `close` cancels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from node.cluster.state import ClusterState
from node.common.background import BackgroundTasks
from node.data.allocation import routing_of
from node.data.index_metadata import indices_of
from node.errors import ElasticsearchError
from node.indices.local_shards import LocalShards
from node.indices.recovery import PeerRecovery
from node.indices.shard_state import ShardStateAction

__all__ = ["IndicesClusterStateService"]

log = logging.getLogger(__name__)

# A failed recovery is reported after a pause, so a source that is about to leave the cluster is not retried in a
# tight loop before the master notices.
_RECOVERY_RETRY_DELAY_S = 0.2


class IndicesClusterStateService:
    def __init__(
        self, local_node_id: str, shards: LocalShards, shard_state: ShardStateAction, recovery: PeerRecovery
    ) -> None:
        self._local_node_id = local_node_id
        self._shards = shards
        self._shard_state = shard_state
        self._recovery = recovery
        self._in_flight: set[tuple[str, int, bool]] = set()  # (index uuid, shard, primary) being started here
        self._background = BackgroundTasks("shard lifecycle", log)
        self._known_uuids: set[str] | None = None

    def on_applied(self, old: ClusterState, new: ClusterState) -> None:
        if self._background.closed or new.master_node_id is None or new.version == 0:
            return
        indices = indices_of(new.metadata)
        uuids = {index.uuid for index in indices.values() if index.uuid != "_na_"}
        if uuids != self._known_uuids:
            self._known_uuids = uuids
            self._spawn(self._delete_removed(uuids))
        node = new.nodes.get(self._local_node_id)
        if node is None or not node.is_data:
            return
        for name, routing in routing_of(new.metadata).items():
            index = indices.get(name)
            if index is None or index.uuid == "_na_":
                continue
            for shard_id, copies in enumerate(routing):
                for copy in copies:
                    if copy.node != self._local_node_id or copy.state != "INITIALIZING":
                        continue
                    key = (index.uuid, shard_id, copy.primary)
                    if key in self._in_flight:
                        continue
                    self._in_flight.add(key)
                    if copy.primary:
                        self._spawn(self._start_primary(name, index.uuid, shard_id, key, copy.recovery or ""))
                    else:
                        primary = next((c for c in copies if c.primary and c.active), None)
                        source = new.nodes.get(primary.node) if primary is not None and primary.node else None
                        if source is None:
                            self._in_flight.discard(key)
                            continue
                        # Buffer replicated operations from now on, before anything can reach this copy.
                        self._shards.begin_recovery((index.uuid, shard_id))
                        self._spawn(self._recover_replica(name, index.uuid, shard_id, key, source, new.version))

    async def close(self) -> None:
        await self._background.close()

    async def _delete_removed(self, keep: set[str]) -> None:
        deleted = await self._shards.delete_all_but(keep)
        if deleted:
            log.info("deleted the shard data of removed indices %s", deleted)

    async def _start_primary(
        self, index: str, uuid: str, shard: int, key: tuple[str, int, bool], recovery: str
    ) -> None:
        try:
            existed = await self._shards.create((uuid, shard))
            message = (
                "after existing store recovery"
                if existed and recovery == "EXISTING_STORE"
                else "after new shard recovery"
            )
            await self._shard_state.shard_started(index, uuid, shard, self._local_node_id, message)
        except ElasticsearchError as e:
            log.warning("failed to start primary [%s][%d]: %s", index, shard, e)
        finally:
            self._in_flight.discard(key)

    async def _recover_replica(
        self, index: str, uuid: str, shard: int, key: tuple[str, int, bool], source: Any, state_version: int
    ) -> None:
        try:
            try:
                await self._recovery.recover(index, uuid, shard, source, state_version)
            except ElasticsearchError as e:
                log.info("recovery of [%s][%d] from [%s] failed: %s", index, shard, source.name, e)
                await asyncio.sleep(_RECOVERY_RETRY_DELAY_S)
                await self._shard_state.shard_failed(
                    index, uuid, shard, self._local_node_id, f"failed recovery: {e.reason}"
                )
                return
            await self._shard_state.shard_started(index, uuid, shard, self._local_node_id, "after peer recovery")
        except ElasticsearchError as e:
            log.warning("failed to report the recovery of [%s][%d]: %s", index, shard, e)
        finally:
            self._in_flight.discard(key)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._background.spawn(coro)
