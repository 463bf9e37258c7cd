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

Only what the simulator needs is kept of each item: its action, index, id, routing and whether an update may
create the document. Sources are checked for being JSON objects and then dropped: documents are counted, not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from node.data.date_math import resolve_date_math
from node.data.errors import XContentParseError
from node.data.index_metadata import IndexMetadata
from node.data.index_resolver import concrete_write_index
from node.data.json_body import decode_utf8, json_token, parse_json, read_json
from node.errors import ActionRequestValidationError, ElasticsearchError, IllegalArgumentError

__all__ = [
    "ACTIONS",
    "BulkItem",
    "describe_bulk",
    "parse_bulk",
    "resolve_write_targets",
    "source_error",
    "validate_bulk",
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
    upsert: bool = False  # update: `doc_as_upsert` or an `upsert` document
    has_source: bool = True  # update: whether the body has a `doc` or a `script`
    source_problem: str | None = None  # index/create: why the source cannot be parsed (an item-level failure)
    source_text: str = ""  # for the description of a single-document request
    # Reindex-family items for untracked documents: written as a count (`bulk_create`/`_update`/`_delete`), to
    # `shard` when given (the shard a hit came from) or to the shard its id routes to.
    counted: bool = False
    shard: int | None = None
    require_alias: bool = False  # the request's or the action line's `require_alias`

    def with_id(self, doc_id: str) -> BulkItem:
        return replace(self, id=doc_id)


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


def _flag(value: Any, default: bool) -> bool:
    """A boolean of an action line (ES `BulkRequestParser`: `parser.booleanValue()`, `true`/`false` or strings)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")


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


def source_error(source: str | bytes) -> str | None:
    """Why a source line cannot be indexed (ES fails such an item with a `document_parsing_exception`)."""
    try:
        value = parse_json(source)
    except XContentParseError as e:
        return e.reason
    if not isinstance(value, dict):
        return f"[1:1] failed to parse: root must be an object, found [{json_token(value)}]"
    return None


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
        require_alias = _flag(metadata.get("require_alias"), default_require_alias)
        if action == "delete":
            items.append(BulkItem("delete", index, doc_id, routing, require_alias=require_alias))
            continue
        if number >= len(lines):
            break  # ES drops an action whose source line never came
        raw_source = lines[number].rstrip(b"\r")
        number += 1
        op_type = _text(metadata.get("op_type"))
        if action == "index" and op_type == "create":
            action = "create"
        if action == "update":
            items.append(
                replace(_update_item(decode_utf8(raw_source), index, doc_id, routing), require_alias=require_alias)
            )
            continue
        problem = source_error(raw_source) if raw_source.strip() else "failed to parse, document is empty"
        source = raw_source.decode("utf-8", errors="replace")  # the description only
        items.append(
            BulkItem(
                action, index, doc_id, routing, source_problem=problem, source_text=source, require_alias=require_alias
            )
        )
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
    upsert = bool(body.get("doc_as_upsert")) or "upsert" in body
    has_source = "doc" in body or "script" in body
    return BulkItem("update", index, doc_id, routing, upsert, has_source, None, source)


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
        if item.action == "update" and not item.has_source:
            problems.append("script or doc is missing")
        if item.action in ("update", "delete") and not item.id:  # ES `Strings#isEmpty(id)`
            problems.append("id is missing")
        if item.id is not None and len(item.id.encode("utf-8")) > MAX_ID_BYTES:
            problems.append(
                f"id [{item.id}] is too long, must be no longer than {MAX_ID_BYTES} bytes but was: "
                f"{len(item.id.encode('utf-8'))}"
            )
    if problems:
        raise ActionRequestValidationError(*problems)


def describe_bulk(items: Sequence[BulkItem]) -> str:
    """ES `BulkRequest#getDescription`; the indices are sorted here (ES prints a HashSet)."""
    indices = sorted({item.index for item in items if item.index is not None})
    return f"requests[{len(items)}], indices[{', '.join(indices)}]"
