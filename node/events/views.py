"""What the live view (`/_sim/ui/`) is told about a node, as pure functions from domain objects to JSON.

A node publishes its own events only: its tasks, its fault rules, and the cluster states it applied. Events about
the cluster (a master elected, a node joining or leaving, an index created) are seen by every node, so each carries
a `key` that is the same on every node: the page shows one entry per key and lists the nodes that reported it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from node.cluster.state import ClusterState, DiscoveryNode
from node.data.allocation import routing_of, routing_view
from node.data.health import cluster_health
from node.errors import ElasticsearchError, TaskCancelledError
from node.tasks.task import Task

__all__ = ["cluster_changes", "cluster_view", "node_view", "task_ended", "task_view"]


def node_view(node: DiscoveryNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "ephemeral_id": node.ephemeral_id,
        "roles": list(node.roles),
        "transport_address": node.transport_address,
        "http_address": node.http_address,
        "attributes": dict(node.attributes),
        "version": node.version,
    }


def task_view(task: Task) -> dict[str, Any]:
    """A task as the tree shows it: the fields of a detailed `GET /_tasks` entry that do not change while it runs."""
    return {
        "node": task.node_id,
        "id": task.id,
        "type": task.type,
        "action": task.action,
        "description": task.description,
        "start_time_in_millis": task.start_time_millis,
        "cancellable": task.cancellable,
        "cancelled": task.cancelled,
        "cancel_reason": task.cancel_reason,
        "parent_task_id": str(task.parent_task_id) if task.parent_task_id.is_set else None,
        "headers": dict(task.headers),
    }


def task_ended(task: Task, failure: BaseException | None) -> dict[str, Any]:
    """How a task ended: `completed`, `cancelled` (it stopped on its cancellation, or its caller went away) or
    `failed`, with the error's ES type and reason."""
    out: dict[str, Any] = {"node": task.node_id, "id": task.id}
    if failure is None:
        out["outcome"] = "completed"
    elif isinstance(failure, TaskCancelledError) or not isinstance(failure, Exception):
        out["outcome"] = "cancelled"
    else:
        out["outcome"] = "failed"
        es_type = failure.es_type if isinstance(failure, ElasticsearchError) else type(failure).__name__
        out["error"] = {"type": es_type, "reason": str(failure)}
    return out


def _copy_view(copy: Mapping[str, Any]) -> dict[str, Any]:
    return {"node": copy.get("node"), "primary": bool(copy["primary"]), "state": copy["state"]}


def cluster_view(state: ClusterState) -> dict[str, Any]:
    """The cluster as one node applied it: nodes, master, health and every shard copy (Cerebro's grid)."""
    live = set(state.nodes)
    health = cluster_health(state.metadata, None, live)
    metadata = routing_view(state.metadata, live)
    indices = []
    for name, shards in sorted(routing_of(metadata).items()):
        indices.append(
            {
                "name": name,
                "status": health.indices[name].status if name in health.indices else "red",
                "shards": [[_copy_view(copy.to_json()) for copy in shard] for shard in shards],
            }
        )
    return {
        "cluster_name": state.cluster_name,
        "cluster_uuid": state.cluster_uuid,
        "term": state.term,
        "version": state.version,
        "master_node_id": state.master_node_id,
        "nodes": [node_view(n) for n in state.nodes_sorted()],
        "health": {
            "status": health.status,
            "number_of_nodes": len(state.nodes),
            "number_of_data_nodes": sum(1 for n in state.nodes.values() if n.is_data),
            "active_primary_shards": health.active_primary_shards,
            "active_shards": health.active_shards,
            "initializing_shards": health.initializing_shards,
            "unassigned_shards": health.unassigned_shards,
        },
        "indices": indices,
    }


def _joined(node: DiscoveryNode, version: int) -> dict[str, Any]:
    return {"kind": "node_joined", "key": f"joined:{node.id}:{node.ephemeral_id}:{version}", "subject": node.name}


def cluster_changes(old: ClusterState, new: ClusterState, local: DiscoveryNode) -> list[dict[str, Any]]:
    """The events one applied state brings, as this node saw them (ES's `master node changed`, `added`,
    `removed` log lines, plus indices created and deleted).

    A node's first state after it started tells only that it joined: the rest happened before its time. A master
    is `elected` in a new term; a node that finds the master of its own term again (after a partition healed)
    rejoined, which the master reports as that node joining. Keys carry the state version, so a node that leaves
    and joins again with the same process is a new entry each time.
    """
    if not old.nodes:
        own = new.nodes.get(local.id)
        return [_joined(own, new.version)] if own is not None and new.master_node_id is not None else []
    events: list[dict[str, Any]] = []
    if old.master_node_id != new.master_node_id:
        master = new.master
        if master is not None and new.term > old.term:
            events.append(
                {
                    "kind": "master_elected",
                    "key": f"master:{new.term}:{master.id}",
                    "subject": master.name,
                    "term": new.term,
                }
            )
        elif master is None:
            gone = old.master
            events.append(
                {
                    "kind": "master_lost",
                    "key": f"no-master:{old.term}:{old.version}:{old.master_node_id}",
                    "subject": gone.name if gone is not None else old.master_node_id,
                    "term": old.term,
                }
            )
    for node_id, node in old.nodes.items():
        now = new.nodes.get(node_id)
        if now is None or now.ephemeral_id != node.ephemeral_id:
            key = f"left:{node.id}:{node.ephemeral_id}:{new.version}"
            events.append({"kind": "node_left", "key": key, "subject": node.name})
    for node_id, node in new.nodes.items():
        before = old.nodes.get(node_id)
        if before is None or before.ephemeral_id != node.ephemeral_id:
            events.append(_joined(node, new.version))
    old_indices = _index_uuids(old)
    new_indices = _index_uuids(new)
    for name, uuid in sorted(new_indices.items()):
        if _replaced(old_indices.get(name), uuid):
            events.append({"kind": "index_created", "key": f"index+:{name}:{uuid}", "subject": name})
    for name, uuid in sorted(old_indices.items()):
        if _replaced(uuid, new_indices.get(name)):
            events.append({"kind": "index_deleted", "key": f"index-:{name}:{uuid}", "subject": name})
    return events


def _index_uuids(state: ClusterState) -> dict[str, str]:
    entries = state.metadata.get("indices") or {}
    return {name: str((entry.get("settings") or {}).get("index.uuid", "")) for name, entry in entries.items()}


def _replaced(before: str | None, after: str | None) -> bool:
    """Whether an index name now means another index: created, deleted, or deleted and created again. An index
    without a uuid yet (`.tasks` as the results service first writes it) getting one is the same index."""
    if before is None or after is None:
        return before != after
    return bool(before) and bool(after) and before != after
