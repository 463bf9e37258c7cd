from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransportRequest(_message.Message):
    __slots__ = ("action", "parent_task_id", "headers", "payload", "source_node_id")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    action: str
    parent_task_id: str
    headers: _containers.ScalarMap[str, str]
    payload: bytes
    source_node_id: str
    def __init__(self, action: _Optional[str] = ..., parent_task_id: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., payload: _Optional[bytes] = ..., source_node_id: _Optional[str] = ...) -> None: ...

class TransportResponse(_message.Message):
    __slots__ = ("payload", "error_json")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ERROR_JSON_FIELD_NUMBER: _ClassVar[int]
    payload: bytes
    error_json: str
    def __init__(self, payload: _Optional[bytes] = ..., error_json: _Optional[str] = ...) -> None: ...

class TransportFrames(_message.Message):
    __slots__ = ("frames",)
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    frames: _containers.RepeatedCompositeFieldContainer[TransportFrame]
    def __init__(self, frames: _Optional[_Iterable[_Union[TransportFrame, _Mapping]]] = ...) -> None: ...

class TransportFrame(_message.Message):
    __slots__ = ("request_id", "request", "response", "cancel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    request: TransportRequest
    response: TransportResponse
    cancel: bool
    def __init__(self, request_id: _Optional[int] = ..., request: _Optional[_Union[TransportRequest, _Mapping]] = ..., response: _Optional[_Union[TransportResponse, _Mapping]] = ..., cancel: _Optional[bool] = ...) -> None: ...

class DiscoveryNode(_message.Message):
    __slots__ = ("id", "name", "ephemeral_id", "host", "transport_address", "http_address", "roles", "attributes", "version")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    ephemeral_id: str
    host: str
    transport_address: str
    http_address: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.ScalarMap[str, str]
    version: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., ephemeral_id: _Optional[str] = ..., host: _Optional[str] = ..., transport_address: _Optional[str] = ..., http_address: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Mapping[str, str]] = ..., version: _Optional[str] = ...) -> None: ...

class HandshakeRequest(_message.Message):
    __slots__ = ("cluster_name", "sender")
    CLUSTER_NAME_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    cluster_name: str
    sender: DiscoveryNode
    def __init__(self, cluster_name: _Optional[str] = ..., sender: _Optional[_Union[DiscoveryNode, _Mapping]] = ...) -> None: ...

class HandshakeResponse(_message.Message):
    __slots__ = ("cluster_name", "node")
    CLUSTER_NAME_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    cluster_name: str
    node: DiscoveryNode
    def __init__(self, cluster_name: _Optional[str] = ..., node: _Optional[_Union[DiscoveryNode, _Mapping]] = ...) -> None: ...

class PeersRequest(_message.Message):
    __slots__ = ("sender", "known_peers")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    KNOWN_PEERS_FIELD_NUMBER: _ClassVar[int]
    sender: DiscoveryNode
    known_peers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sender: _Optional[_Union[DiscoveryNode, _Mapping]] = ..., known_peers: _Optional[_Iterable[str]] = ...) -> None: ...

class PeersResponse(_message.Message):
    __slots__ = ("master", "has_master", "known_peers", "term")
    MASTER_FIELD_NUMBER: _ClassVar[int]
    HAS_MASTER_FIELD_NUMBER: _ClassVar[int]
    KNOWN_PEERS_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    master: DiscoveryNode
    has_master: bool
    known_peers: _containers.RepeatedScalarFieldContainer[str]
    term: int
    def __init__(self, master: _Optional[_Union[DiscoveryNode, _Mapping]] = ..., has_master: _Optional[bool] = ..., known_peers: _Optional[_Iterable[str]] = ..., term: _Optional[int] = ...) -> None: ...

class PreVoteRequest(_message.Message):
    __slots__ = ("candidate", "current_term")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TERM_FIELD_NUMBER: _ClassVar[int]
    candidate: DiscoveryNode
    current_term: int
    def __init__(self, candidate: _Optional[_Union[DiscoveryNode, _Mapping]] = ..., current_term: _Optional[int] = ...) -> None: ...

class PreVoteResponse(_message.Message):
    __slots__ = ("current_term", "last_accepted_term", "last_accepted_version", "has_leader")
    CURRENT_TERM_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCEPTED_TERM_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCEPTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    HAS_LEADER_FIELD_NUMBER: _ClassVar[int]
    current_term: int
    last_accepted_term: int
    last_accepted_version: int
    has_leader: bool
    def __init__(self, current_term: _Optional[int] = ..., last_accepted_term: _Optional[int] = ..., last_accepted_version: _Optional[int] = ..., has_leader: _Optional[bool] = ...) -> None: ...

class StartJoinRequest(_message.Message):
    __slots__ = ("candidate", "term")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    candidate: DiscoveryNode
    term: int
    def __init__(self, candidate: _Optional[_Union[DiscoveryNode, _Mapping]] = ..., term: _Optional[int] = ...) -> None: ...

class JoinRequest(_message.Message):
    __slots__ = ("sender", "term", "last_accepted_term", "last_accepted_version", "is_vote")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCEPTED_TERM_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCEPTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_VOTE_FIELD_NUMBER: _ClassVar[int]
    sender: DiscoveryNode
    term: int
    last_accepted_term: int
    last_accepted_version: int
    is_vote: bool
    def __init__(self, sender: _Optional[_Union[DiscoveryNode, _Mapping]] = ..., term: _Optional[int] = ..., last_accepted_term: _Optional[int] = ..., last_accepted_version: _Optional[int] = ..., is_vote: _Optional[bool] = ...) -> None: ...

class JoinResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClusterStateMessage(_message.Message):
    __slots__ = ("cluster_name", "cluster_uuid", "term", "version", "master_node_id", "nodes", "voting_config", "metadata_json")
    CLUSTER_NAME_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_UUID_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MASTER_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    VOTING_CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    cluster_name: str
    cluster_uuid: str
    term: int
    version: int
    master_node_id: str
    nodes: _containers.RepeatedCompositeFieldContainer[DiscoveryNode]
    voting_config: _containers.RepeatedScalarFieldContainer[str]
    metadata_json: str
    def __init__(self, cluster_name: _Optional[str] = ..., cluster_uuid: _Optional[str] = ..., term: _Optional[int] = ..., version: _Optional[int] = ..., master_node_id: _Optional[str] = ..., nodes: _Optional[_Iterable[_Union[DiscoveryNode, _Mapping]]] = ..., voting_config: _Optional[_Iterable[str]] = ..., metadata_json: _Optional[str] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ClusterStateMessage
    def __init__(self, state: _Optional[_Union[ClusterStateMessage, _Mapping]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("term", "version")
    TERM_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    term: int
    version: int
    def __init__(self, term: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class CommitRequest(_message.Message):
    __slots__ = ("term", "version")
    TERM_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    term: int
    version: int
    def __init__(self, term: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class CommitResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ValidateJoinRequest(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ClusterStateMessage
    def __init__(self, state: _Optional[_Union[ClusterStateMessage, _Mapping]] = ...) -> None: ...

class ValidateJoinResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LeaderCheckRequest(_message.Message):
    __slots__ = ("sender_id",)
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    sender_id: str
    def __init__(self, sender_id: _Optional[str] = ...) -> None: ...

class LeaderCheckResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FollowerCheckRequest(_message.Message):
    __slots__ = ("sender_id", "term")
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    sender_id: str
    term: int
    def __init__(self, sender_id: _Optional[str] = ..., term: _Optional[int] = ...) -> None: ...

class FollowerCheckResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TasksNodeRequest(_message.Message):
    __slots__ = ("request_json",)
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    request_json: str
    def __init__(self, request_json: _Optional[str] = ...) -> None: ...

class TasksNodeResponse(_message.Message):
    __slots__ = ("failures", "tasks_json")
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    TASKS_JSON_FIELD_NUMBER: _ClassVar[int]
    failures: _containers.RepeatedCompositeFieldContainer[TaskFailureMessage]
    tasks_json: str
    def __init__(self, failures: _Optional[_Iterable[_Union[TaskFailureMessage, _Mapping]]] = ..., tasks_json: _Optional[str] = ...) -> None: ...

class NodesInfoNodeRequest(_message.Message):
    __slots__ = ("metrics",)
    METRICS_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, metrics: _Optional[_Iterable[str]] = ...) -> None: ...

class NodesInfoNodeResponse(_message.Message):
    __slots__ = ("info_json",)
    INFO_JSON_FIELD_NUMBER: _ClassVar[int]
    info_json: str
    def __init__(self, info_json: _Optional[str] = ...) -> None: ...

class NodesStatsNodeRequest(_message.Message):
    __slots__ = ("metrics", "index_metrics", "level")
    METRICS_FIELD_NUMBER: _ClassVar[int]
    INDEX_METRICS_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedScalarFieldContainer[str]
    index_metrics: _containers.RepeatedScalarFieldContainer[str]
    level: str
    def __init__(self, metrics: _Optional[_Iterable[str]] = ..., index_metrics: _Optional[_Iterable[str]] = ..., level: _Optional[str] = ...) -> None: ...

class NodesStatsNodeResponse(_message.Message):
    __slots__ = ("stats_json",)
    STATS_JSON_FIELD_NUMBER: _ClassVar[int]
    stats_json: str
    def __init__(self, stats_json: _Optional[str] = ...) -> None: ...

class NodesCapabilitiesNodeRequest(_message.Message):
    __slots__ = ("method", "path", "parameters", "capabilities")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    method: str
    path: str
    parameters: _containers.RepeatedScalarFieldContainer[str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, method: _Optional[str] = ..., path: _Optional[str] = ..., parameters: _Optional[_Iterable[str]] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class NodesCapabilitiesNodeResponse(_message.Message):
    __slots__ = ("supported",)
    SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    supported: bool
    def __init__(self, supported: _Optional[bool] = ...) -> None: ...

class BanParentRequest(_message.Message):
    __slots__ = ("parent_task_id", "ban", "reason", "wait_for_completion")
    PARENT_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    BAN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_COMPLETION_FIELD_NUMBER: _ClassVar[int]
    parent_task_id: str
    ban: bool
    reason: str
    wait_for_completion: bool
    def __init__(self, parent_task_id: _Optional[str] = ..., ban: _Optional[bool] = ..., reason: _Optional[str] = ..., wait_for_completion: _Optional[bool] = ...) -> None: ...

class BanParentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TaskFailureMessage(_message.Message):
    __slots__ = ("task_id", "node_id", "error_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    node_id: str
    error_json: str
    def __init__(self, task_id: _Optional[int] = ..., node_id: _Optional[str] = ..., error_json: _Optional[str] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("request_json",)
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    request_json: str
    def __init__(self, request_json: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ("result_json",)
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    result_json: str
    def __init__(self, result_json: _Optional[str] = ...) -> None: ...

class StoreResultRequest(_message.Message):
    __slots__ = ("task_id", "document_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    document_json: str
    def __init__(self, task_id: _Optional[str] = ..., document_json: _Optional[str] = ...) -> None: ...

class StoreResultResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestTaskNodeRequest(_message.Message):
    __slots__ = ("duration_millis", "cancellable", "fail", "check_interval_millis", "depth")
    DURATION_MILLIS_FIELD_NUMBER: _ClassVar[int]
    CANCELLABLE_FIELD_NUMBER: _ClassVar[int]
    FAIL_FIELD_NUMBER: _ClassVar[int]
    CHECK_INTERVAL_MILLIS_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    duration_millis: int
    cancellable: bool
    fail: bool
    check_interval_millis: int
    depth: int
    def __init__(self, duration_millis: _Optional[int] = ..., cancellable: _Optional[bool] = ..., fail: _Optional[bool] = ..., check_interval_millis: _Optional[int] = ..., depth: _Optional[int] = ...) -> None: ...

class TestTaskNodeResponse(_message.Message):
    __slots__ = ("result_json",)
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    result_json: str
    def __init__(self, result_json: _Optional[str] = ...) -> None: ...

class MasterRequest(_message.Message):
    __slots__ = ("body_json", "description")
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    body_json: str
    description: str
    def __init__(self, body_json: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class MasterResponse(_message.Message):
    __slots__ = ("body_json", "state_version")
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    body_json: str
    state_version: int
    def __init__(self, body_json: _Optional[str] = ..., state_version: _Optional[int] = ...) -> None: ...

class ShardStateRequest(_message.Message):
    __slots__ = ("index", "index_uuid", "shard", "node_id", "primary_term", "message")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    INDEX_UUID_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_TERM_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    index: str
    index_uuid: str
    shard: int
    node_id: str
    primary_term: int
    message: str
    def __init__(self, index: _Optional[str] = ..., index_uuid: _Optional[str] = ..., shard: _Optional[int] = ..., node_id: _Optional[str] = ..., primary_term: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ShardStateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StartRecoveryRequest(_message.Message):
    __slots__ = ("index", "index_uuid", "shard", "target_node_id", "state_version", "after_id", "page_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    INDEX_UUID_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    TARGET_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: str
    index_uuid: str
    shard: int
    target_node_id: str
    state_version: int
    after_id: str
    page_size: int
    def __init__(self, index: _Optional[str] = ..., index_uuid: _Optional[str] = ..., shard: _Optional[int] = ..., target_node_id: _Optional[str] = ..., state_version: _Optional[int] = ..., after_id: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class StartRecoveryResponse(_message.Message):
    __slots__ = ("snapshot_json",)
    SNAPSHOT_JSON_FIELD_NUMBER: _ClassVar[int]
    snapshot_json: str
    def __init__(self, snapshot_json: _Optional[str] = ...) -> None: ...

class IndicesStatsNodeRequest(_message.Message):
    __slots__ = ("index_uuids", "with_stats")
    INDEX_UUIDS_FIELD_NUMBER: _ClassVar[int]
    WITH_STATS_FIELD_NUMBER: _ClassVar[int]
    index_uuids: _containers.RepeatedScalarFieldContainer[str]
    with_stats: bool
    def __init__(self, index_uuids: _Optional[_Iterable[str]] = ..., with_stats: _Optional[bool] = ...) -> None: ...

class IndicesStatsNodeResponse(_message.Message):
    __slots__ = ("stats_json",)
    STATS_JSON_FIELD_NUMBER: _ClassVar[int]
    stats_json: str
    def __init__(self, stats_json: _Optional[str] = ...) -> None: ...

class BulkShardRequest(_message.Message):
    __slots__ = ("index", "index_uuid", "shard", "requests", "operations_json", "primary_term", "timeout_millis", "state_version")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    INDEX_UUID_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_TERM_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MILLIS_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    index: str
    index_uuid: str
    shard: int
    requests: int
    operations_json: str
    primary_term: int
    timeout_millis: int
    state_version: int
    def __init__(self, index: _Optional[str] = ..., index_uuid: _Optional[str] = ..., shard: _Optional[int] = ..., requests: _Optional[int] = ..., operations_json: _Optional[str] = ..., primary_term: _Optional[int] = ..., timeout_millis: _Optional[int] = ..., state_version: _Optional[int] = ...) -> None: ...

class BulkShardResponse(_message.Message):
    __slots__ = ("result_json",)
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    result_json: str
    def __init__(self, result_json: _Optional[str] = ...) -> None: ...

class ShardSearchRequest(_message.Message):
    __slots__ = ("index", "index_uuid", "shard", "context_id", "size", "slice_id", "slice_max", "keep_alive_millis", "doc_ids", "max_docs", "fetch", "query_json", "fetch_json")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    INDEX_UUID_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    SLICE_ID_FIELD_NUMBER: _ClassVar[int]
    SLICE_MAX_FIELD_NUMBER: _ClassVar[int]
    KEEP_ALIVE_MILLIS_FIELD_NUMBER: _ClassVar[int]
    DOC_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_DOCS_FIELD_NUMBER: _ClassVar[int]
    FETCH_FIELD_NUMBER: _ClassVar[int]
    QUERY_JSON_FIELD_NUMBER: _ClassVar[int]
    FETCH_JSON_FIELD_NUMBER: _ClassVar[int]
    index: str
    index_uuid: str
    shard: int
    context_id: str
    size: int
    slice_id: int
    slice_max: int
    keep_alive_millis: int
    doc_ids: _containers.RepeatedScalarFieldContainer[str]
    max_docs: int
    fetch: bool
    query_json: str
    fetch_json: str
    def __init__(self, index: _Optional[str] = ..., index_uuid: _Optional[str] = ..., shard: _Optional[int] = ..., context_id: _Optional[str] = ..., size: _Optional[int] = ..., slice_id: _Optional[int] = ..., slice_max: _Optional[int] = ..., keep_alive_millis: _Optional[int] = ..., doc_ids: _Optional[_Iterable[str]] = ..., max_docs: _Optional[int] = ..., fetch: _Optional[bool] = ..., query_json: _Optional[str] = ..., fetch_json: _Optional[str] = ..., **kwargs) -> None: ...

class ShardSearchResponse(_message.Message):
    __slots__ = ("result_json",)
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    result_json: str
    def __init__(self, result_json: _Optional[str] = ...) -> None: ...
