"""Fan-out of one `[n]` action to many nodes, with per-node failures (reference §6; DESIGN §5).

A node that is not in the cluster state, does not answer in time, or fails becomes a `failed_node_exception`
entry — a partial failure is never a failure of the whole request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from node.coordination.state import ClusterState
from node.errors import ElasticsearchError, FailedNodeError, NoSuchNodeError
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.service import TransportService

__all__ = ["NodesResponse", "fan_out"]


@dataclass(slots=True)
class NodesResponse:
    """Per-node responses (keyed by node id, in target order) and the failures of the others."""

    responses: dict[str, Any] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


async def fan_out(
    transport: TransportService,
    task_manager: TaskManager,
    state: ClusterState,
    node_ids: Sequence[str],
    action: str,
    request: Message,
    *,
    parent: Task,
    timeout: float | None,
) -> NodesResponse:
    """Sends `request` as `action` to every node id; counts each as an outstanding child request of `parent`."""

    async def one(node_id: str) -> Any:
        node = state.nodes[node_id]
        with task_manager.child_request(parent, node_id):
            return await transport.send_request(node, action, request, parent=parent, timeout=timeout)

    targets = [n for n in node_ids if n in state.nodes]
    results = await asyncio.gather(*(one(n) for n in targets), return_exceptions=True)
    out = NodesResponse()
    by_node = dict(zip(targets, results, strict=True))
    for node_id in node_ids:
        if node_id not in by_node:
            out.failures.append(FailedNodeError(node_id, NoSuchNodeError(node_id)))
            continue
        result = by_node[node_id]
        if isinstance(result, ElasticsearchError):
            out.failures.append(FailedNodeError(node_id, result))
        elif isinstance(result, BaseException):
            raise result
        else:
            out.responses[node_id] = result
    return out
