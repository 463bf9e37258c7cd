"""Elasticsearch errors, as one hierarchy.

Every error a client can see is an `ElasticsearchError`: it knows its ES `type`, its HTTP status, an optional cause
and ES metadata fields, and renders itself the way ES does (`to_dict`). Errors cross the gRPC wire as that dict and
are rebuilt on the other side (`from_dict`), so a remote failure is rendered unwrapped, as ES does.

    ElasticsearchError                  "exception"                              500
    ├── IllegalArgumentError            "illegal_argument_exception"             400
    │   ├── ActionRequestValidationError "action_request_validation_exception"   400
    │   └── NumberFormatError           "number_format_exception"                400 (only ever a cause)
    ├── IllegalStateError               "illegal_state_exception"                500
    ├── UnsupportedOperationError       "unsupported_operation_exception"        500
    ├── MediaTypeHeaderError            "media_type_header_exception"            400
    ├── ResourceNotFoundError           "resource_not_found_exception"           404
    │   └── IndexNotFoundError          "index_not_found_exception"              404
    ├── TaskCancelledError              "task_cancelled_exception"               400
    ├── ElasticsearchTimeoutError       "timeout_exception"                      429 (ES 9.x)
    ├── CircuitBreakingError            "circuit_breaking_exception"             429
    ├── MasterNotDiscoveredError        "master_not_discovered_exception"        503
    ├── NotMasterError                  "not_master_exception"                   503
    ├── FailedToCommitClusterStateError "failed_to_commit_cluster_state_exception" 503
    ├── CoordinationStateRejectedError  "coordination_state_rejected_exception"  500
    ├── NodeClosedError                 "node_closed_exception"                  500
    ├── FailedNodeError                 "failed_node_exception"                  500 (a `node_failures` entry)
    ├── NoSuchNodeError                 "no_such_node_exception"                 404 (cause of a failed node)
    ├── SecurityError                   "security_exception"                     401 (authentication failed)
    └── TransportError                  "transport_exception"                    500
        ├── ConnectTransportError       "connect_transport_exception"            500
        │   ├── NodeNotConnectedError   "node_not_connected_exception"           500
        │   └── NodeDisconnectedError   "node_disconnected_exception"            500
        ├── ReceiveTimeoutTransportError "receive_timeout_transport_exception"   500
        └── SendRequestTransportError   "send_request_transport_exception"       500

Subclasses register themselves by their ES type (`__init_subclass__`), here and in `node.data.errors`, so
`from_wire` rebuilds the same class on the receiving node and callers can use `isinstance` after a hop.

`PlainRestError` is apart: ES answers a few REST-level failures (405, unknown path, duplicate single-valued header)
with a bare string instead of an error object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "ActionRequestValidationError",
    "CircuitBreakingError",
    "ConnectTransportError",
    "CoordinationStateRejectedError",
    "ElasticsearchError",
    "ElasticsearchTimeoutError",
    "FailedNodeError",
    "FailedToCommitClusterStateError",
    "IllegalArgumentError",
    "IllegalStateError",
    "IndexNotFoundError",
    "MasterNotDiscoveredError",
    "MediaTypeHeaderError",
    "NoSuchNodeError",
    "NodeClosedError",
    "NodeDisconnectedError",
    "NodeNotConnectedError",
    "NotMasterError",
    "NumberFormatError",
    "PlainRestError",
    "ReceiveTimeoutTransportError",
    "ResourceNotFoundError",
    "SecurityError",
    "SendRequestTransportError",
    "TaskCancelledError",
    "TransportError",
    "UnsupportedOperationError",
    "status_name",
]


_BY_TYPE: dict[str, type[ElasticsearchError]] = {}


class ElasticsearchError(Exception):
    """Base of every error rendered to a client.

    Attributes:
        reason: the ES `reason` text.
        cause: the `caused_by` error, if any.
        metadata: extra ES fields rendered after `reason` (e.g. `node_id`, `resource.id`), in insertion order.
    """

    es_type: ClassVar[str] = "exception"
    default_status: ClassVar[int] = 500
    # ES's root-cause guess descends only through ElasticsearchException causes; plain Java exceptions
    # (IllegalArgumentException, NumberFormatException, ...) stop the descent and are their own root cause.
    es_level: ClassVar[bool] = True

    def __init__(
        self,
        reason: str,
        *,
        cause: ElasticsearchError | None = None,
        metadata: Mapping[str, Any] | None = None,
        status: int | None = None,
        es_type: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.status = status if status is not None else self.default_status
        if es_type is not None:
            self.es_type = es_type  # type: ignore[misc]  # an error rebuilt from the wire keeps its ES type

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass that names its own ES type joins the wire registry, so it survives a hop between nodes."""
        super().__init_subclass__(**kwargs)
        if "es_type" in cls.__dict__:
            _BY_TYPE.setdefault(cls.es_type, cls)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.es_type!r}, {self.reason!r})"

    def to_dict(self, *, with_cause: bool = True) -> dict[str, Any]:
        """The ES rendering of this error: `type`, `reason`, metadata, then `caused_by`."""
        out: dict[str, Any] = {"type": self.es_type, "reason": self.reason}
        out.update(self.metadata)
        if with_cause and self.cause is not None:
            out["caused_by"] = self.cause.to_dict()
        return out

    def root_causes(self) -> list[ElasticsearchError]:
        """Mirrors ES `ElasticsearchException#guessRootCauses`."""
        current: ElasticsearchError = self
        while current.es_level and current.cause is not None and current.cause.es_level:
            current = current.cause
        return [current]

    def to_response_body(self) -> dict[str, Any]:
        """The whole REST error body `{"error": {...}, "status": N}`."""
        error: dict[str, Any] = {"root_cause": [c.to_dict(with_cause=False) for c in self.root_causes()]}
        error.update(self.to_dict())
        return {"error": error, "status": self.status}

    def to_wire(self) -> dict[str, Any]:
        """A dict that `from_wire` turns back into an equivalent error on another node."""
        return {
            "type": self.es_type,
            "reason": self.reason,
            "status": self.status,
            "es_level": self.es_level,
            "metadata": self.metadata,
            "cause": self.cause.to_wire() if self.cause is not None else None,
        }

    @staticmethod
    def from_wire(data: Mapping[str, Any]) -> ElasticsearchError:
        cls = _BY_TYPE.get(data["type"], ElasticsearchError)
        cause = ElasticsearchError.from_wire(data["cause"]) if data.get("cause") else None
        err = cls.__new__(cls)
        ElasticsearchError.__init__(
            err,
            data["reason"],
            cause=cause,
            metadata=data.get("metadata") or {},
            status=data.get("status"),
            es_type=data["type"] if cls is ElasticsearchError else None,
        )
        if cls is ElasticsearchError and not data.get("es_level", True):
            err.es_level = False  # type: ignore[misc]
        return err


def status_of(error: Mapping[str, Any]) -> int:
    """The HTTP status ES gives a rendered error (`{"type": ..., "reason": ...}`), by its type (ES
    `ExceptionsHelper#status`): the registered class's status, 500 for a type it does not know."""
    return _BY_TYPE.get(str(error.get("type")), ElasticsearchError).default_status


class IllegalArgumentError(ElasticsearchError):
    es_type = "illegal_argument_exception"
    default_status = 400
    es_level = False


class ActionRequestValidationError(IllegalArgumentError):
    """`Validation Failed: 1: <msg>;2: <msg>;` as ES's `ValidationException`."""

    es_type = "action_request_validation_exception"

    def __init__(self, *messages: str) -> None:
        text = "".join(f"{i}: {m};" for i, m in enumerate(messages, start=1))
        super().__init__(f"Validation Failed: {text}")


class NumberFormatError(IllegalArgumentError):
    es_type = "number_format_exception"


class IllegalStateError(ElasticsearchError):
    es_type = "illegal_state_exception"
    default_status = 500
    es_level = False


class UnsupportedOperationError(ElasticsearchError):
    es_type = "unsupported_operation_exception"
    default_status = 500
    es_level = False


class MediaTypeHeaderError(ElasticsearchError):
    es_type = "media_type_header_exception"
    default_status = 400
    es_level = False


class ResourceNotFoundError(ElasticsearchError):
    es_type = "resource_not_found_exception"
    default_status = 404


class IndexNotFoundError(ResourceNotFoundError):
    es_type = "index_not_found_exception"

    def __init__(self, index: str) -> None:
        super().__init__(
            f"no such index [{index}]",
            metadata={
                "resource.type": "index_expression",
                "resource.id": index,
                "index_uuid": "_na_",
                "index": index,
            },
        )


class TaskCancelledError(ElasticsearchError):
    es_type = "task_cancelled_exception"
    default_status = 400


class ElasticsearchTimeoutError(ElasticsearchError):
    """ES 9.x answers timeouts with 429 (elastic/elasticsearch#116026)."""

    es_type = "timeout_exception"
    default_status = 429


class CircuitBreakingError(ElasticsearchError):
    """ES `CircuitBreakingException`: a breaker refused more bytes; `bytes_wanted`, `bytes_limit`, `durability`."""

    es_type = "circuit_breaking_exception"
    default_status = 429

    def __init__(self, reason: str, bytes_wanted: int, bytes_limit: int, durability: str) -> None:
        super().__init__(
            reason, metadata={"bytes_wanted": bytes_wanted, "bytes_limit": bytes_limit, "durability": durability}
        )


class MasterNotDiscoveredError(ElasticsearchError):
    es_type = "master_not_discovered_exception"
    default_status = 503


class CoordinationStateRejectedError(ElasticsearchError):
    """ES `CoordinationStateRejectedException`: a coordination message that the safety rules refuse."""

    es_type = "coordination_state_rejected_exception"


class NotMasterError(ElasticsearchError):
    """ES `NotMasterException`: a master-only operation reached a node that is not the elected master."""

    es_type = "not_master_exception"
    default_status = 503


class FailedToCommitClusterStateError(ElasticsearchError):
    """ES `FailedToCommitClusterStateException`: a publication did not reach a quorum.

    ES renders it with 500, but its master-node actions retry it until `master_not_discovered_exception` (503);
    simcluster has no such retry layer yet, so the error itself says 503: "try again", not "bug".
    """

    es_type = "failed_to_commit_cluster_state_exception"
    default_status = 503


class NodeClosedError(ElasticsearchError):
    """ES `NodeClosedException`: a coordination request reached a node that is shutting down."""

    es_type = "node_closed_exception"


class FailedNodeError(ElasticsearchError):
    es_type = "failed_node_exception"

    def __init__(self, node_id: str, cause: ElasticsearchError | None) -> None:
        super().__init__(f"Failed node [{node_id}]", cause=cause, metadata={"node_id": node_id})


class NoSuchNodeError(ElasticsearchError):
    es_type = "no_such_node_exception"
    default_status = 404

    def __init__(self, node_id: str) -> None:
        super().__init__(f"No such node [{node_id}]", metadata={"node_id": node_id})


class SecurityError(ElasticsearchError):
    """ES `ElasticsearchSecurityException`; its response headers (`WWW-Authenticate`) are also rendered in the
    body's `header` object, as ES renders an exception's headers."""

    es_type = "security_exception"
    default_status = 401

    def __init__(self, reason: str, *, headers: Mapping[str, list[str]], status: int | None = None) -> None:
        rendered = {name: values[0] if len(values) == 1 else list(values) for name, values in headers.items()}
        super().__init__(reason, metadata={"header": rendered}, status=status)

    @property
    def headers(self) -> dict[str, list[str]]:
        """The HTTP response headers, each with every value it is sent with."""
        rendered = self.metadata.get("header") or {}
        return {name: list(value) if isinstance(value, list) else [value] for name, value in rendered.items()}


class TransportError(ElasticsearchError):
    es_type = "transport_exception"


class ConnectTransportError(TransportError):
    es_type = "connect_transport_exception"


class NodeNotConnectedError(ConnectTransportError):
    es_type = "node_not_connected_exception"


class NodeDisconnectedError(ConnectTransportError):
    es_type = "node_disconnected_exception"


class ReceiveTimeoutTransportError(TransportError):
    es_type = "receive_timeout_transport_exception"


class SendRequestTransportError(TransportError):
    es_type = "send_request_transport_exception"


class PlainRestError(Exception):
    """A REST failure ES renders as `{"error": "<text>", "status": N}` (405, unknown path, bad headers)."""

    def __init__(self, message: str, status: int, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = dict(headers or {})

    def to_response_body(self) -> dict[str, Any]:
        return {"error": self.message, "status": self.status}


_STATUS_NAMES = {
    200: "OK",
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def status_name(status: int) -> str:
    """The `RestStatus` enum name ES writes in `task_failures[].status`."""
    return _STATUS_NAMES.get(status, "INTERNAL_SERVER_ERROR")
