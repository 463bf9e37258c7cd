"""Elasticsearch action names, in one place (reference §15.3)."""

from __future__ import annotations

__all__ = [
    "BAN_PARENT",
    "CANCEL_TASKS",
    "CANCEL_TASKS_NODE",
    "CLUSTER_HEALTH",
    "CLUSTER_STATE",
    "COMMIT_STATE",
    "CREATE_TASKS_INDEX",
    "DISCOVERY_PEERS",
    "FOLLOWER_CHECK",
    "GET_STORED_TASK_RESULT",
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
    "STORE_TASK_RESULT_REPLICA",
    "TEST_TASK",
    "TEST_TASK_NODE",
    "TEST_TASK_NODE_CHILD",
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

# `POST /_sim/tasks`, the counterpart of ES's test-task plugin: a parent, one `[n]` per node, optional `[n][n]`.
TEST_TASK = "cluster:admin/tasks/test"
TEST_TASK_NODE = node_level(TEST_TASK)
TEST_TASK_NODE_CHILD = node_level(TEST_TASK_NODE)

# The stored-results store (ES: the `.tasks` index). Simulator-internal names, so the data plane can later own the
# real `indices:admin/auto_create` and `indices:data/{write/bulk[s][r],read/get[s]}` actions.
CREATE_TASKS_INDEX = "internal:sim/tasks/create_index"
STORE_TASK_RESULT_REPLICA = "internal:sim/tasks/store_result[r]"
GET_STORED_TASK_RESULT = "internal:sim/tasks/get_result"

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
