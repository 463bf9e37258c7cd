"""Elasticsearch action names, in one place (reference §15.3)."""

from __future__ import annotations

__all__ = [
    "BAN_PARENT",
    "CANCEL_TASKS",
    "CANCEL_TASKS_NODE",
    "CLUSTER_HEALTH",
    "CLUSTER_STATE",
    "COMMIT_STATE",
    "DISCOVERY_PEERS",
    "FOLLOWER_CHECK",
    "GET_TASK",
    "HANDSHAKE",
    "JOIN",
    "LEADER_CHECK",
    "LIST_TASKS",
    "LIST_TASKS_NODE",
    "NODES_INFO",
    "NODES_INFO_NODE",
    "PRE_VOTE",
    "PUBLISH_STATE",
    "START_JOIN",
    "node_level",
]


def node_level(action: str) -> str:
    """The `[n]` child action a fan-out sends to every target node."""
    return f"{action}[n]"


LIST_TASKS = "cluster:monitor/tasks/lists"
LIST_TASKS_NODE = node_level(LIST_TASKS)
GET_TASK = "cluster:monitor/task/get"
CANCEL_TASKS = "cluster:admin/tasks/cancel"
CANCEL_TASKS_NODE = node_level(CANCEL_TASKS)
BAN_PARENT = "internal:admin/tasks/ban"

NODES_INFO = "cluster:monitor/nodes/info"
NODES_INFO_NODE = node_level(NODES_INFO)
CLUSTER_HEALTH = "cluster:monitor/health"
CLUSTER_STATE = "cluster:monitor/state"

HANDSHAKE = "internal:transport/handshake"
DISCOVERY_PEERS = "internal:discovery/request_peers"
PRE_VOTE = "internal:cluster/request_pre_vote"
START_JOIN = "internal:cluster/coordination/start_join"
JOIN = "internal:cluster/coordination/join"
PUBLISH_STATE = "internal:cluster/coordination/publish_state"
COMMIT_STATE = "internal:cluster/coordination/commit_state"
LEADER_CHECK = "internal:coordination/fault_detection/leader_check"
FOLLOWER_CHECK = "internal:coordination/fault_detection/follower_check"
