"""The data plane's Elasticsearch errors, drawn as one subtree of `node.errors.ElasticsearchError`.

    ElasticsearchError
    ├── InvalidIndexNameError              "invalid_index_name_exception"          400
    ├── InvalidAliasNameError              "invalid_alias_name_exception"          400
    ├── IndexClosedError                   "index_closed_exception"                400
    ├── AliasesNotFoundError               "aliases_not_found_exception"           404
    ├── ResourceAlreadyExistsError         "resource_already_exists_exception"     400
    ├── ParseError                         "parse_exception"                       400
    ├── ParsingError                       "parsing_exception"                     400 (with `line` and `col`)
    ├── XContentParseError                 "x_content_parse_exception"             400 (plain: its own root cause)
    ├── JsonParseError                     "json_parse_exception"                  400 (only ever a cause)
    ├── VersionConflictEngineError         "version_conflict_engine_exception"     409
    ├── DocumentMissingError               "document_missing_exception"            404
    ├── ShardNotFoundError                 "shard_not_found_exception"             404 (retried by the write path)
    ├── UnavailableShardsError             "unavailable_shards_exception"          503
    ├── NoShardAvailableActionError        "no_shard_available_action_exception"   503
    ├── SearchPhaseExecutionError          "search_phase_execution_exception"      503
    ├── SearchContextMissingError          "search_context_missing_exception"      404
    ├── NoLongerPrimaryShardError          "no_longer_primary_shard_exception"     500 (retried by the write path)
    └── IllegalIndexShardStateError        "illegal_index_shard_state_exception"   500 (retried by the write path)

Each class joins the wire registry of `node.errors` by subclassing, so a receiver rebuilds the same class after a
hop and recognises it with `isinstance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from node.errors import ElasticsearchError, IndexNotFoundError

__all__ = [
    "AliasesNotFoundError",
    "DocumentMissingError",
    "IllegalIndexShardStateError",
    "IndexClosedError",
    "InvalidAliasNameError",
    "InvalidIndexNameError",
    "JsonParseError",
    "NoLongerPrimaryShardError",
    "NoShardAvailableActionError",
    "ParseError",
    "ParsingError",
    "ResourceAlreadyExistsError",
    "SearchContextMissingError",
    "SearchPhaseExecutionError",
    "ShardNotFoundError",
    "UnavailableShardsError",
    "VersionConflictEngineError",
    "XContentParseError",
    "index_not_found",
    "is_retryable_shard_error",
]


def _index_metadata(index: str, uuid: str = "_na_") -> dict[str, str]:
    return {"index_uuid": uuid, "index": index}


def index_not_found(index: str) -> IndexNotFoundError:
    """ES's miss for a concrete index name (`resource.type` is `index_or_alias` there, unlike a `.tasks` lookup)."""
    error = IndexNotFoundError(index)
    error.metadata["resource.type"] = "index_or_alias"
    return error


class InvalidIndexNameError(ElasticsearchError):
    es_type = "invalid_index_name_exception"
    default_status = 400

    def __init__(self, index: str, detail: str) -> None:
        super().__init__(f"Invalid index name [{index}], {detail}", metadata=_index_metadata(index))


class InvalidAliasNameError(ElasticsearchError):
    """ES `InvalidAliasNameException`: `Invalid alias name [a], <why>`, with the index it was added to."""

    es_type = "invalid_alias_name_exception"
    default_status = 400

    def __init__(self, alias: str, detail: str, index: str | None = None, uuid: str = "_na_") -> None:
        metadata = _index_metadata(index, uuid) if index is not None else None
        super().__init__(f"Invalid alias name [{alias}], {detail}", metadata=metadata)


class IndexClosedError(ElasticsearchError):
    """ES `IndexClosedException`: a read or write of a closed index (`reason` is just `closed`)."""

    es_type = "index_closed_exception"
    default_status = 400

    def __init__(self, index: str, uuid: str = "_na_") -> None:
        super().__init__("closed", metadata=_index_metadata(index, uuid))


class AliasesNotFoundError(ElasticsearchError):
    """ES `AliasesNotFoundException` (a `ResourceNotFoundException`): `aliases [a, b] missing`."""

    es_type = "aliases_not_found_exception"
    default_status = 404

    def __init__(self, names: Sequence[str]) -> None:
        resource_id: Any = names[0] if len(names) == 1 else list(names)
        super().__init__(
            f"aliases [{', '.join(names)}] missing",
            metadata={"resource.type": "aliases", "resource.id": resource_id},
        )


class ResourceAlreadyExistsError(ElasticsearchError):
    es_type = "resource_already_exists_exception"
    default_status = 400

    def __init__(self, index: str, uuid: str) -> None:
        super().__init__(f"index [{index}/{uuid}] already exists", metadata=_index_metadata(index, uuid))


class ParseError(ElasticsearchError):
    """ES `ElasticsearchParseException` (`request body is required`, `unknown key [x] for create index`)."""

    es_type = "parse_exception"
    default_status = 400


class ParsingError(ElasticsearchError):
    """ES `ParsingException`, with its `line` and `col`."""

    es_type = "parsing_exception"
    default_status = 400

    def __init__(self, reason: str, line: int = 1, col: int = 1) -> None:
        super().__init__(reason, metadata={"line": line, "col": col})


class JsonParseError(ElasticsearchError):
    es_type = "json_parse_exception"
    default_status = 400
    es_level = False


class XContentParseError(ElasticsearchError):
    """ES `XContentParseException`: `[line:column] message`, caused by Jackson's own exception when there is one."""

    es_type = "x_content_parse_exception"
    default_status = 400
    es_level = False

    def __init__(self, line: int, column: int, message: str, *, cause: ElasticsearchError | None = None) -> None:
        super().__init__(f"[{line}:{column}] {message}", cause=cause)


class VersionConflictEngineError(ElasticsearchError):
    es_type = "version_conflict_engine_exception"
    default_status = 409

    def __init__(self, index: str, uuid: str, shard: int, reason: str) -> None:
        super().__init__(reason, metadata={"index_uuid": uuid, "shard": str(shard), "index": index})


class DocumentMissingError(ElasticsearchError):
    es_type = "document_missing_exception"
    default_status = 404

    def __init__(self, index: str, uuid: str, shard: int, doc_id: str) -> None:
        super().__init__(
            f"[{doc_id}]: document missing", metadata={"index_uuid": uuid, "shard": str(shard), "index": index}
        )


class ShardNotFoundError(ElasticsearchError):
    es_type = "shard_not_found_exception"
    default_status = 404

    def __init__(self, index: str, uuid: str, shard: int) -> None:
        super().__init__("no such shard", metadata={"index_uuid": uuid, "shard": str(shard), "index": index})


class IllegalIndexShardStateError(ElasticsearchError):
    es_type = "illegal_index_shard_state_exception"
    default_status = 500


class NoLongerPrimaryShardError(ElasticsearchError):
    """ES `ShardStateAction.NoLongerPrimaryShardException`: a deposed primary reported a replica failure."""

    es_type = "no_longer_primary_shard_exception"
    default_status = 500


class UnavailableShardsError(ElasticsearchError):
    es_type = "unavailable_shards_exception"
    default_status = 503


class NoShardAvailableActionError(ElasticsearchError):
    es_type = "no_shard_available_action_exception"
    default_status = 503


class SearchContextMissingError(ElasticsearchError):
    es_type = "search_context_missing_exception"
    default_status = 404

    def __init__(self, context_id: str) -> None:
        super().__init__(f"No search context found for id [{context_id}]")


class SearchPhaseExecutionError(ElasticsearchError):
    """ES `SearchPhaseExecutionException`: `all shards failed`, with `phase`, `grouped` and `failed_shards`."""

    es_type = "search_phase_execution_exception"
    default_status = 503

    def __init__(
        self, phase: str, message: str, shard_failures: Sequence[dict[str, Any]], cause: ElasticsearchError | None
    ) -> None:
        super().__init__(
            message,
            cause=cause,
            metadata={"phase": phase, "grouped": True, "failed_shards": list(shard_failures)},
        )

    def root_causes(self) -> list[ElasticsearchError]:
        # ES guesses the root causes of a search failure from its shard failures.
        return [self.cause] if self.cause is not None else [self]


_RETRYABLE = frozenset(
    {
        ShardNotFoundError.es_type,
        IllegalIndexShardStateError.es_type,
        NoLongerPrimaryShardError.es_type,
        "node_disconnected_exception",
        "node_not_connected_exception",
        "connect_transport_exception",
        "node_closed_exception",
        "send_request_transport_exception",
        "transport_exception",
    }
)


def is_retryable_shard_error(error: ElasticsearchError) -> bool:
    """ES `TransportReplicationAction#retryPrimaryException` plus the connection failures the reroute phase retries."""
    return error.es_type in _RETRYABLE
