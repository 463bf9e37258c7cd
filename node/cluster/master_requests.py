"""Requests that only the elected master may run (mirrors ES `TransportMasterNodeAction`).

The node that received the request runs the master operation itself, in its own task, when it is the master;
otherwise it sends the request, as a child of its task, to the master, where the same action registers a
`transport` task. A missing master, a master that steps down or cannot be reached, or a publication that fails to
commit is retried on the next master until `master_timeout` runs out, as ES retries on a cluster state change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf.message import Message

from node.cluster.service import ClusterService
from node.errors import (
    ConnectTransportError,
    CoordinationStateRejectedError,
    ElasticsearchError,
    FailedToCommitClusterStateError,
    MasterNotDiscoveredError,
    NodeClosedError,
    NotMasterError,
    SendRequestTransportError,
)
from node.tasks.task import Task
from node.transport.service import TransportService

__all__ = ["DEFAULT_MASTER_TIMEOUT_S", "MasterRequests", "is_master_unavailable"]

DEFAULT_MASTER_TIMEOUT_S = 30.0
Resp = TypeVar("Resp")

# A master that is gone, stepping down, not elected yet or failing to publish: ES retries on the next cluster state.
_MASTER_UNAVAILABLE: tuple[type[ElasticsearchError], ...] = (
    NotMasterError,
    FailedToCommitClusterStateError,
    NodeClosedError,
    ConnectTransportError,
    SendRequestTransportError,
    CoordinationStateRejectedError,
)


def is_master_unavailable(error: ElasticsearchError) -> bool:
    """Whether a master request failed because of the master itself (and is worth retrying on the next one)."""
    return isinstance(error, _MASTER_UNAVAILABLE)


class MasterRequests:
    """Runs master operations locally or on the elected master, retrying across master changes."""

    def __init__(self, transport: TransportService, cluster: ClusterService) -> None:
        self._transport = transport
        self._cluster = cluster

    async def execute(
        self,
        action: str,
        request: Message,
        *,
        parent: Task | None,
        local: Callable[[Task | None, Any], Awaitable[Resp]],
        timeout: float = DEFAULT_MASTER_TIMEOUT_S,
    ) -> Resp:
        """Runs `local(parent, request)` on this node when it is master, else sends `action` to the master.

        Raises:
            MasterNotDiscoveredError: no master could run it within `timeout` (503, `reason: null` as in ES).
            ElasticsearchError: the master operation's own failure.
        """
        deadline = time.monotonic() + timeout
        while True:
            state = self._cluster.state()
            master = state.master
            remaining = deadline - time.monotonic()
            if master is None:
                if (
                    remaining <= 0
                    or await self._cluster.wait_for_state(lambda s: s.master is not None, remaining) is None
                ):
                    raise MasterNotDiscoveredError(None)  # type: ignore[arg-type]  # ES renders "reason": null
                continue
            try:
                if master.id == self._transport.local_node.id:
                    return await local(parent, request)
                if parent is None:
                    return await self._transport.send_request(master, action, request, timeout=max(remaining, 0.001))
                with self._transport.task_manager.child_request(parent, master.id):
                    return await self._transport.send_request(
                        master, action, request, parent=parent, timeout=max(remaining, 0.001)
                    )
            except ElasticsearchError as e:
                if not is_master_unavailable(e) or time.monotonic() >= deadline:
                    raise
            # ES waits for the next cluster state before retrying; a short pause covers a master that is still
            # electing itself, so a busy loop never forms.
            await self._cluster.wait_for_state(
                lambda s, v=state.version, m=master.id: s.version > v or s.master_node_id != m,  # type: ignore[misc]
                min(max(deadline - time.monotonic(), 0.0), 1.0),
            )
            await asyncio.sleep(0.01)
