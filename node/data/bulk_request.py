"""Bulk request bodies, parsed and validated exactly as ES's `BulkRequestParser` and `BulkRequest#validate` do.

The body is newline-delimited: an action line (`{"index": {...}}`, `create`, `update` or `delete`), then, except
for `delete`, a source line. Errors are ES's, word for word:

- the last line must end with a newline: `The bulk request must be terminated by a newline [\\n]`;
- an action line that is not `{"<action>": {...}}`: `Malformed action/metadata line [N], expected ...`;
- an unknown metadata field: `Action/metadata line [N] contains an unknown parameter [x]`;
- invalid JSON, invalid UTF-8 or a Jackson stream constraint: `x_content_parse_exception` (see
  `node.data.json_body`); in a source line only that item fails, as ES fails it while parsing the document;
- then validation, all problems numbered: `Validation Failed: 1: index is missing;2: ...`, and
  `Validation Failed: 1: no requests added;` when there is nothing to do.

Each item keeps what its shard needs: the action, index, id and routing, the parsed source of an index or create,
the body of an update (`node.data.update_request.UpdateSpec`) and its `_source` filter, and the concurrency
parameters (`version`, `version_type`, `if_seq_no`, `if_primary_term`), validated as ES validates them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from node.data.date_math import resolve_date_math
from node.data.doc_versioning import (
    MATCH_ANY,
    UNASSIGNED_PRIMARY_TERM,
    UNASSIGNED_SEQ_NO,
    VersionType,
    WriteConditions,
)
from node.data.errors import XContentParseError
from node.data.index_metadata import IndexMetadata
from node.data.index_resolver import concrete_write_index
from node.data.json_body import boolean_value, decode_utf8, json_token, parse_json, read_json
from node.data.source_filter import SourceFilter, parse_source_filter
from node.data.update_request import UpdateSpec
from node.errors import ActionRequestValidationError, ElasticsearchError, IllegalArgumentError

__all__ = [
    "ACTIONS",
    "BulkItem",
    "describe_bulk",
    "describe_source",
    "parse_bulk",
    "parse_source",
    "resolve_write_targets",
    "source_error",
    "validate_bulk",
    "write_conditions",
]

ACTIONS = ("create", "delete", "index", "update")
_METADATA_FIELDS = frozenset(
    {
        "_index",
        "_id",
        "routing",
        "op_type",
        "version",
        "version_type",
        "if_seq_no",
        "if_primary_term",
        "retry_on_conflict",
        "pipeline",
        "require_alias",
        "require_data_stream",
        "list_executed_pipelines",
    }
)
_OBJECT_FIELDS = frozenset({"_source", "dynamic_templates"})
MAX_ID_BYTES = 512


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One request of a bulk: `action` is `index`, `create`, `update` or `delete`."""

    action: str
    index: str | None
    id: str | None
    routing: str | None = None
    source: Mapping[str, Any] | None = None  # index/create: the document
    update: UpdateSpec | None = None  # update: its body
    conditions: WriteConditions = dataclass_field(default_factory=WriteConditions)
    fetch_source: SourceFilter | None = None  # update: the `_source` of the result to return (`get`)
    retry_on_conflict: int = 0
    source_problem: str | None = None  # index/create: why the source cannot be parsed (an item-level failure)
    source_text: str = ""  # for the description of a single-document request
    require_alias: bool = False  # the request's or the action line's `require_alias`

    @property
    def upsert(self) -> bool:
        """An update that may create the document (`doc_as_upsert` or an `upsert` document)."""
        return self.update is not None and (self.update.doc_as_upsert or self.update.upsert is not None)

    @property
    def has_source(self) -> bool:
        """An update with a `doc` or a `script`."""
        return self.update is not None and (self.update.doc is not None or self.update.script is not None)

    def with_id(self, doc_id: str) -> BulkItem:
        return replace(self, id=doc_id)

    def problems(self) -> list[str]:
        """ES `IndexRequest#validate`, `DeleteRequest#validate` and `UpdateRequest#validate` (what the items of a
        bulk are checked for, each problem numbered in the one validation error of the request)."""
        out = []
        if self.action in ("index", "create"):
            out.extend(self.conditions.index_problems(create=self.action == "create", has_id=self.id is not None))
        elif self.action == "delete":
            out.extend(self.conditions.problems())
        else:
            out.extend(self.conditions.problems())
            if self.conditions.if_seq_no != UNASSIGNED_SEQ_NO and self.update is not None:
                if self.retry_on_conflict > 0:
                    out.append("compare and write operations can not be retried")
                if self.update.doc_as_upsert:
                    out.append("compare and write operations can not be used with upsert")
                if self.update.upsert is not None:
                    out.append("upsert requests don't support `if_seq_no` and `if_primary_term`")
        return out


def _long(metadata: Mapping[str, Any], name: str, default: int) -> int:
    """A long field of an action line (Jackson's `longValue`, which also reads a number in a string)."""
    value = metadata.get(name)
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return int(value)
    except (TypeError, ValueError):
        raise IllegalArgumentError(f"Failed to parse value [{value}] for field [{name}]") from None


def write_conditions(version: int, version_type: str | None, if_seq_no: int, if_primary_term: int) -> WriteConditions:
    """The concurrency parameters of a write, with the checks of ES's setters (`IndexRequest#setIfSeqNo`, ...).

    Raises:
        IllegalArgumentError: `No version type match [x]`, a negative sequence number or primary term.
    """
    kind = VersionType.parse(version_type)
    if if_seq_no < 0 and if_seq_no != UNASSIGNED_SEQ_NO:
        raise IllegalArgumentError(f"sequence numbers must be non negative. got [{if_seq_no}].")
    if if_primary_term < 0:
        raise IllegalArgumentError(f"primary term must be non negative. got [{if_primary_term}]")
    return WriteConditions(version, kind, if_seq_no, if_primary_term)


def _conditions(metadata: Mapping[str, Any]) -> WriteConditions:
    version_type = metadata.get("version_type")
    return write_conditions(
        _long(metadata, "version", MATCH_ANY),
        None if version_type is None else str(version_type),
        _long(metadata, "if_seq_no", UNASSIGNED_SEQ_NO),
        _long(metadata, "if_primary_term", UNASSIGNED_PRIMARY_TERM),
    )


def _parse_action_line(raw: bytes, line: int) -> tuple[str, Mapping[str, Any]] | None:
    """The action and its metadata, or None for a blank line."""
    if not raw.strip():
        return None
    text = decode_utf8(raw)
    value, end = read_json(text, raw=raw)
    prefix = f"Malformed action/metadata line [{line}]"
    if not isinstance(value, dict):
        raise IllegalArgumentError(f"{prefix}, expected START_OBJECT but found [{json_token(value)}]")
    if not value:
        raise IllegalArgumentError(f"{prefix}, expected FIELD_NAME but found [END_OBJECT]")
    keys = list(value)
    action = keys[0]
    if action not in ACTIONS:
        raise IllegalArgumentError(
            f"{prefix}, expected field [create], [delete], [index] or [update] but found [{action}]"
        )
    metadata = value[action]
    if not isinstance(metadata, dict):
        raise IllegalArgumentError(f"{prefix}, expected START_OBJECT or END_OBJECT but found [{json_token(metadata)}]")
    for field, field_value in metadata.items():
        if field in _OBJECT_FIELDS:
            continue
        if field not in _METADATA_FIELDS:
            raise IllegalArgumentError(f"Action/metadata line [{line}] contains an unknown parameter [{field}]")
        if isinstance(field_value, dict | list):
            raise IllegalArgumentError(
                f"{prefix}, expected a simple value for field [{field}] but found [{json_token(field_value)}]"
            )
    if len(keys) > 1:
        raise IllegalArgumentError(f"{prefix}, expected END_OBJECT but found [FIELD_NAME]")
    if text[end:].strip():
        raise IllegalArgumentError(f"{prefix}, unexpected data after the closing brace")
    return action, metadata


def resolve_write_targets(
    items: Sequence[BulkItem], indices: Mapping[str, IndexMetadata], now: int
) -> tuple[list[BulkItem], dict[int, ElasticsearchError]]:
    """Each item with its concrete index (ES `IndexNameExpressionResolver#concreteWriteIndex` in
    `TransportBulkAction`): an alias's write index, a date-math name resolved; an index that does not exist yet
    keeps its (resolved) name for auto-creation. The items that cannot be written are returned by position with
    ES's error: `require_alias` on a name that is not an alias, an alias without a write index, a closed index."""
    out: list[BulkItem] = []
    errors: dict[int, ElasticsearchError] = {}
    for position, item in enumerate(items):
        if item.index is None:
            out.append(item)
            continue
        try:
            target = concrete_write_index(item.index, indices, require_alias=item.require_alias, now=now)
        except ElasticsearchError as e:
            errors[position] = e
            out.append(item)
            continue
        name = target if target is not None else resolve_date_math(item.index, now)
        out.append(item if name == item.index else replace(item, index=name))
    return out, errors


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_source(source: str | bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The document of a source line, or why it cannot be indexed (ES fails such an item with a
    `document_parsing_exception`)."""
    try:
        value = parse_json(source)
    except XContentParseError as e:
        return None, e.reason
    if not isinstance(value, dict):
        return None, f"[1:1] failed to parse: root must be an object, found [{json_token(value)}]"
    return value, None


def source_error(source: str | bytes) -> str | None:
    """Why a source line cannot be indexed, or None."""
    return parse_source(source)[1]


def parse_bulk(
    body: bytes, default_index: str | None, default_routing: str | None = None, default_require_alias: bool = False
) -> list[BulkItem]:
    """The items of an NDJSON bulk body, in order.

    Raises:
        IllegalArgumentError: a malformed action line or a missing final newline (400).
        XContentParseError: an action line that is not JSON (400).
    """
    lines = body.split(b"\n")
    if lines[-1] != b"":
        raise IllegalArgumentError("The bulk request must be terminated by a newline [\\n]")
    lines.pop()
    items: list[BulkItem] = []
    number = 0
    while number < len(lines):
        parsed = _parse_action_line(lines[number], number + 1)
        number += 1
        if parsed is None:
            continue
        action, metadata = parsed
        index = _text(metadata.get("_index")) or default_index
        doc_id = _text(metadata.get("_id"))
        routing = _text(metadata.get("routing")) or default_routing
        conditions = _conditions(metadata)
        require_alias = boolean_value(metadata.get("require_alias"), default_require_alias)
        if action == "delete":
            items.append(BulkItem("delete", index, doc_id, routing, conditions=conditions, require_alias=require_alias))
            continue
        if number >= len(lines):
            break  # ES drops an action whose source line never came
        raw_source = lines[number].rstrip(b"\r")
        number += 1
        op_type = _text(metadata.get("op_type"))
        if action == "index" and op_type == "create":
            action = "create"
        if action == "update":
            item = _update_item(decode_utf8(raw_source), index, doc_id, routing)
            fetch = parse_source_filter(metadata["_source"]) if "_source" in metadata else item.fetch_source
            retries = _long(metadata, "retry_on_conflict", 0)
            updated = replace(
                item, conditions=conditions, fetch_source=fetch, retry_on_conflict=retries, require_alias=require_alias
            )
            items.append(updated)
            continue
        document, problem = (
            parse_source(raw_source) if raw_source.strip() else (None, "failed to parse, document is empty")
        )
        text = raw_source.decode("utf-8", errors="replace")  # the description only
        items.append(
            BulkItem(action, index, doc_id, routing, document, conditions=conditions, source_problem=problem,
                     source_text=text, require_alias=require_alias)
        )  # fmt: skip
    return items


_UPDATE_FIELDS = frozenset({"doc", "upsert", "doc_as_upsert", "script", "scripted_upsert", "detect_noop", "_source"})


def _update_item(source: str, index: str | None, doc_id: str | None, routing: str | None) -> BulkItem:
    """ES parses an update's body while parsing the bulk (`UpdateRequest#fromXContent`): its errors fail it all."""
    body: Mapping[str, Any] = {}
    if source.strip():
        body = read_json(source)[0]
        if not isinstance(body, dict):
            raise XContentParseError(1, 1, f"[UpdateRequest] Expected START_OBJECT but was: {json_token(body)}")
        for field in body:
            if field not in _UPDATE_FIELDS:
                column = source.find(f'"{field}"') + 1
                raise XContentParseError(1, column, f"[UpdateRequest] unknown field [{field}]")
    fetch = parse_source_filter(body["_source"]) if "_source" in body else None
    return BulkItem("update", index, doc_id, routing, update=UpdateSpec.from_body(body), fetch_source=fetch,
                    source_text=source)  # fmt: skip


def validate_bulk(items: Sequence[BulkItem]) -> None:
    """ES `BulkRequest#validate`: every item's problems, numbered, in one error.

    Raises:
        ActionRequestValidationError: `no requests added`, `index is missing`, `source is missing`, ...
    """
    if not items:
        raise ActionRequestValidationError("no requests added")
    problems: list[str] = []
    for item in items:
        if item.index is None:
            problems.append("index is missing")
        if item.action in ("update", "delete") and not item.id:  # ES `Strings#isEmpty(id)`
            problems.append("id is missing")
        problems.extend(item.problems())
        if item.action == "update" and item.update is not None:
            spec = item.update
            if spec.script is None and spec.doc is None:
                problems.append("script or doc is missing")
            if spec.script is not None and spec.doc is not None:
                problems.append("can't provide both script and doc")
            if spec.doc is None and spec.doc_as_upsert:
                problems.append("doc must be specified if doc_as_upsert is enabled")
        if item.id is not None and len(item.id.encode("utf-8")) > MAX_ID_BYTES:
            problems.append(
                f"id [{item.id}] is too long, must be no longer than {MAX_ID_BYTES} bytes but was: "
                f"{len(item.id.encode('utf-8'))}"
            )
    if problems:
        raise ActionRequestValidationError(*problems)


MAX_SOURCE_IN_DESCRIPTION = 2048  # ES IndexRequest.MAX_SOURCE_LENGTH_IN_TOSTRING


def describe_source(source: str | Mapping[str, Any]) -> str:
    """ES `IndexRequest#toString`'s source: compact JSON, or its length when it is long (`_na_` when unparsable)."""
    if isinstance(source, str):
        raw = source.encode("utf-8")
        if len(raw) > MAX_SOURCE_IN_DESCRIPTION:
            return _too_long(len(raw))
        try:
            source = parse_json(source)
        except XContentParseError:
            return "_na_"
    text = json.dumps(source, separators=(",", ":"), ensure_ascii=False)
    length = len(text.encode("utf-8"))
    return _too_long(length) if length > MAX_SOURCE_IN_DESCRIPTION else text


def _too_long(length: int) -> str:
    return f"n/a, actual length: [{length / 1024:.1f}kb], max length: 2kb".replace(".0kb", "kb")


def describe_bulk(items: Sequence[BulkItem]) -> str:
    """ES `BulkRequest#getDescription`; the indices are sorted here (ES prints a HashSet)."""
    indices = sorted({item.index for item in items if item.index is not None})
    return f"requests[{len(items)}], indices[{', '.join(indices)}]"
