"""Elasticsearch action names, in one place (reference §15.3)."""

from __future__ import annotations

__all__ = [
    "AUTO_CREATE_INDEX",
    "BAN_PARENT",
    "BULK",
    "BULK_SHARD",
    "BULK_SHARD_PRIMARY",
    "BULK_SHARD_REPLICA",
    "CANCEL_TASKS",
    "CANCEL_TASKS_NODE",
    "CLEAR_SCROLL",
    "CLOSE_INDEX",
    "CLUSTER_GET_SETTINGS",
    "CLUSTER_HEALTH",
    "CLUSTER_STATE",
    "CLUSTER_STATS",
    "CLUSTER_STATS_NODE",
    "CLUSTER_UPDATE_SETTINGS",
    "COMMIT_STATE",
    "CREATE_INDEX",
    "CREATE_TASKS_INDEX",
    "DELETE_BY_QUERY",
    "DELETE_DOCUMENT",
    "DELETE_INDEX",
    "DISCOVERY_PEERS",
    "FOLLOWER_CHECK",
    "GET_ALIASES",
    "GET_DATA_STREAMS",
    "GET_DOCUMENT",
    "GET_DOCUMENT_SHARD",
    "GET_INDEX",
    "GET_INDEX_SETTINGS",
    "GET_MAPPINGS",
    "GET_TASK",
    "HANDSHAKE",
    "INDEX_DOCUMENT",
    "INDICES_ALIASES",
    "INDICES_STATS",
    "INDICES_STATS_NODE",
    "JOIN",
    "LEADER_CHECK",
    "LIST_TASKS",
    "LIST_TASKS_NODE",
    "MAIN",
    "MULTI_GET",
    "MULTI_GET_SHARD",
    "NODES_CAPABILITIES",
    "NODES_INFO",
    "NODES_INFO_NODE",
    "NODES_STATS",
    "NODES_STATS_NODE",
    "OPEN_INDEX",
    "PRE_VOTE",
    "PUBLISH_STATE",
    "PUT_MAPPING",
    "REFRESH",
    "REFRESH_SHARD",
    "REFRESH_SHARD_PRIMARY",
    "REFRESH_SHARD_REPLICA",
    "REINDEX",
    "RETHROTTLE",
    "RETHROTTLE_NODE",
    "SCROLL",
    "SEARCH",
    "SEARCH_FETCH",
    "SEARCH_FETCH_SCROLL",
    "SEARCH_FREE_CONTEXT",
    "SEARCH_FREE_CONTEXT_SCROLL",
    "SEARCH_QUERY",
    "SEARCH_QUERY_SCROLL",
    "SEARCH_SHARDS",
    "SHARD_FAILED",
    "SHARD_STARTED",
    "START_JOIN",
    "START_RECOVERY",
    "TEST_TASK",
    "TEST_TASK_NODE",
    "TEST_TASK_NODE_CHILD",
    "UPDATE_BY_QUERY",
    "UPDATE_DOCUMENT",
    "UPDATE_INDEX_SETTINGS",
    "VALIDATE_JOIN",
    "node_level",
]


def node_level(action: str) -> str:
    """The `[n]` child action a fan-out sends to every target node."""
    return f"{action}[n]"


MAIN = "cluster:monitor/main"
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

# The data plane (node/data and the index, write, search and reindex actions; reference §14, §15).
CREATE_INDEX = "indices:admin/create"
AUTO_CREATE_INDEX = "indices:admin/auto_create"
DELETE_INDEX = "indices:admin/delete"
GET_INDEX = "indices:admin/get"
GET_DATA_STREAMS = "indices:admin/data_stream/get"
INDICES_ALIASES = "indices:admin/aliases"
GET_ALIASES = "indices:admin/aliases/get"
UPDATE_INDEX_SETTINGS = "indices:admin/settings/update"
GET_INDEX_SETTINGS = "indices:monitor/settings/get"
PUT_MAPPING = "indices:admin/mapping/put"
GET_MAPPINGS = "indices:admin/mappings/get"
CLOSE_INDEX = "indices:admin/close"
OPEN_INDEX = "indices:admin/open"
INDICES_STATS = "indices:monitor/stats"
INDICES_STATS_NODE = node_level(INDICES_STATS)
CLUSTER_UPDATE_SETTINGS = "cluster:admin/settings/update"
CLUSTER_GET_SETTINGS = "cluster:monitor/settings"
SHARD_STARTED = "internal:cluster/shard/started"
SHARD_FAILED = "internal:cluster/shard/failure"
START_RECOVERY = "internal:index/shard/recovery/start_recovery"
BULK = "indices:data/write/bulk"
BULK_SHARD = "indices:data/write/bulk[s]"
BULK_SHARD_PRIMARY = "indices:data/write/bulk[s][p]"
BULK_SHARD_REPLICA = "indices:data/write/bulk[s][r]"
INDEX_DOCUMENT = "indices:data/write/index"
GET_DOCUMENT = "indices:data/read/get"
GET_DOCUMENT_SHARD = "indices:data/read/get[s]"
MULTI_GET = "indices:data/read/mget"
MULTI_GET_SHARD = "indices:data/read/mget[shard][s]"
UPDATE_DOCUMENT = "indices:data/write/update"
REFRESH = "indices:admin/refresh"
REFRESH_SHARD = "indices:admin/refresh[s]"
REFRESH_SHARD_PRIMARY = "indices:admin/refresh[s][p]"
REFRESH_SHARD_REPLICA = "indices:admin/refresh[s][r]"
DELETE_DOCUMENT = "indices:data/write/delete"
SEARCH = "indices:data/read/search"
SEARCH_QUERY = "indices:data/read/search[phase/query]"
SEARCH_FETCH = "indices:data/read/search[phase/fetch/id]"
SEARCH_FREE_CONTEXT = "indices:data/read/search[free_context]"
SEARCH_QUERY_SCROLL = "indices:data/read/search[phase/query/scroll]"
SEARCH_FETCH_SCROLL = "indices:data/read/search[phase/fetch/id/scroll]"
SEARCH_FREE_CONTEXT_SCROLL = "indices:data/read/search[free_context/scroll]"
SCROLL = "indices:data/read/scroll"
CLEAR_SCROLL = "indices:data/read/scroll/clear"
SEARCH_SHARDS = "indices:admin/shards/search_shards"
REINDEX = "indices:data/write/reindex"
UPDATE_BY_QUERY = "indices:data/write/update/byquery"
DELETE_BY_QUERY = "indices:data/write/delete/byquery"
RETHROTTLE = "cluster:admin/reindex/rethrottle"
RETHROTTLE_NODE = node_level(RETHROTTLE)

NODES_INFO = "cluster:monitor/nodes/info"
NODES_CAPABILITIES = "cluster:monitor/nodes/capabilities"
NODES_INFO_NODE = node_level(NODES_INFO)
NODES_STATS = "cluster:monitor/nodes/stats"
NODES_STATS_NODE = node_level(NODES_STATS)
CLUSTER_STATS = "cluster:monitor/stats"
CLUSTER_STATS_NODE = node_level(CLUSTER_STATS)
CLUSTER_STATE = "cluster:monitor/state"
CLUSTER_HEALTH = "cluster:monitor/health"

HANDSHAKE = "internal:transport/handshake"
DISCOVERY_PEERS = "internal:discovery/request_peers"
PRE_VOTE = "internal:cluster/request_pre_vote"
START_JOIN = "internal:cluster/coordination/start_join"
JOIN = "internal:cluster/coordination/join"
VALIDATE_JOIN = "internal:cluster/coordination/join/validate"
PUBLISH_STATE = "internal:cluster/coordination/publish_state"
COMMIT_STATE = "internal:cluster/coordination/commit_state"
LEADER_CHECK = "internal:coordination/fault_detection/leader_check"
FOLLOWER_CHECK = "internal:coordination/fault_detection/follower_check"
