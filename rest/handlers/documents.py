"""The document APIs: `POST /_bulk`, `POST /{index}/_bulk`, `PUT|POST /{index}/_doc[/{id}]`,
`PUT|POST /{index}/_create/{id}`, `DELETE /{index}/_doc/{id}`, `POST /{index}/_update/{id}`,
`GET|HEAD /{index}/_doc/{id}`, `GET|HEAD /{index}/_source/{id}` and `GET|POST [/{index}]/_mget`
(ES `RestBulkAction`, `RestIndexAction`, `RestDeleteAction`, `RestUpdateAction`, `RestGetAction`,
`RestGetSourceAction`, `RestMultiGetAction`).

A bulk registers `indices:data/write/bulk`; a single document `indices:data/write/index` (`.../delete`,
`.../update`) with ES's `index {[logs][1], source[{...}]}` description; all run the shard actions of
`node.actions.bulk`. A bulk always answers 200, with `errors: true` and per-item errors when some items failed; a
single-document request answers its item's error as the request's error. Writes read ES's concurrency parameters
(`if_seq_no`, `if_primary_term`, `version`, `version_type`, `op_type`) and validate them as ES's requests do.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote_plus

from aiohttp import web

from node.actions.bulk import BulkAction, BulkOptions, BulkRequest, DeleteAction, IndexAction, ItemOutcome, UpdateAction
from node.actions.get import GetAction, GetRequest, MultiGetAction, MultiGetItem, MultiGetRequest
from node.data.bulk_request import BulkItem, describe_source, parse_bulk, parse_source, validate_bulk, write_conditions
from node.data.doc_versioning import (
    MATCH_ANY,
    UNASSIGNED_PRIMARY_TERM,
    UNASSIGNED_SEQ_NO,
    VersionType,
    WriteConditions,
)
from node.data.errors import ParseError, XContentParseError
from node.data.json_body import OFF_LOOP_BYTES, json_token, parse_json_object, required_body
from node.data.source_filter import SourceFilter, parse_source_filter, source_filter_from_params
from node.data.update_request import UpdateSpec
from node.errors import ActionRequestValidationError, IllegalArgumentError, NumberFormatError, ResourceNotFoundError
from rest.app_keys import rest_client, rest_request
from rest.handlers.indices import reject_shadowed_path
from rest.handlers.system_indices import with_system_index_warning
from rest.params import Params
from rest.render import render_bulk_response

__all__ = [
    "bulk",
    "create_document",
    "delete_document",
    "document_exists",
    "get_document",
    "get_source",
    "index_document",
    "multi_get",
    "source_exists",
    "update_document",
]

_UPDATE_FIELDS = ("doc", "upsert", "doc_as_upsert", "script", "scripted_upsert", "detect_noop", "_source")


def _write_options(params: Params) -> BulkOptions:
    timeout = params.time("timeout")
    refresh = params.str("refresh")
    if refresh not in (None, "", "true", "false", "wait_for"):
        raise IllegalArgumentError(f"Unknown value for refresh: [{refresh}].")
    params.consume("wait_for_active_shards", "pipeline", "require_data_stream")
    return BulkOptions(
        timeout.millis if timeout is not None and timeout.millis >= 0 else 60_000,
        "true" if refresh == "" else (None if refresh == "false" else refresh),
    )


def _conditions(params: Params, *, versions: bool = True) -> WriteConditions:
    """ES `RestActions#parseVersion`, `VersionType#fromString` and the `if_seq_no`/`if_primary_term` setters."""
    version = params.long("version", MATCH_ANY) if versions else MATCH_ANY
    version_type = params.str("version_type") if versions else None
    if_seq_no = params.long("if_seq_no", UNASSIGNED_SEQ_NO)
    if_primary_term = params.long("if_primary_term", UNASSIGNED_PRIMARY_TERM)
    assert version is not None and if_seq_no is not None and if_primary_term is not None
    return write_conditions(version, version_type, if_seq_no, if_primary_term)


def _source_filter(params: Params, default: SourceFilter | None = None) -> SourceFilter:
    return source_filter_from_params(
        params.str("_source"), params.str("_source_includes"), params.str("_source_excludes"), default
    )


# From this many items on, a bulk answer is built and rendered on a worker thread (about 10 µs an item).
_OFF_LOOP_ITEMS = 1000


async def bulk(request: web.Request) -> web.Response:
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = _write_options(p)
    routing = p.str("routing")
    require_alias = p.bool("require_alias", False)
    fetch: SourceFilter | None = None
    if p.has("_source") or p.has("_source_includes") or p.has("_source_excludes"):
        fetch = _source_filter(p)
    p.consume("list_executed_pipelines", "include_source_on_error")
    p.check_unrecognized()
    body = required_body(await request.read())
    index = request.match_info.get("index")
    if len(body) >= OFF_LOOP_BYTES:  # ES parses bulk items off its network threads: a large body must not hold the loop
        items = await asyncio.to_thread(parse_bulk, body, index, routing, require_alias)
    else:
        items = parse_bulk(body, index, routing, require_alias)
    if fetch is not None:  # ES's bulk-level `_source` is every update's default
        items = [i if i.action != "update" or i.fetch_source is not None else _with_fetch(i, fetch) for i in items]
    validate_bulk(items)
    started = time.monotonic()
    outcomes = await rest_client(request).execute(BulkAction, BulkRequest(tuple(items), options))
    took = int((time.monotonic() - started) * 1000)
    if len(outcomes) >= _OFF_LOOP_ITEMS:
        return await req.respond_off_loop(lambda: render_bulk_response(outcomes, took))
    return req.respond(render_bulk_response(outcomes, took))


def _with_fetch(item: BulkItem, fetch: SourceFilter) -> BulkItem:
    return replace(item, fetch_source=fetch)


def _location(outcome: ItemOutcome, routing: str | None) -> str:
    """ES `DocWriteResponse#getLocation`: index, id and routing each encoded by Java's `URLEncoder`."""
    assert outcome.id is not None, "a created document has an id"
    location = f"/{_url_encoded(outcome.index)}/_doc/{_url_encoded(outcome.id)}"
    return f"{location}?routing={_url_encoded(routing)}" if routing is not None else location


def _url_encoded(text: str) -> str:
    """Java `URLEncoder.encode(text, UTF_8)`: only letters, digits and `.-*_` stay; a space becomes `+`, a lone
    surrogate `?`."""
    return quote_plus(text, safe="*", errors="replace").replace("~", "%7E")


def _single_response(outcome: ItemOutcome, request: web.Request, routing: str | None = None) -> web.Response:
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    response = rest_request(request).respond(outcome.result, status=outcome.status)
    if outcome.status == 201:  # ES `RestStatus#CREATED` answers carry the document's location
        response.headers["Location"] = _location(outcome, routing)
    return with_system_index_warning(request, response, [outcome.index])


async def _index(request: web.Request, create: bool) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = _write_options(p)
    routing = p.str("routing")
    conditions = _conditions(p)
    require_alias = p.bool("require_alias", False)
    op_type = p.str("op_type")
    p.consume("include_source_on_error")
    p.check_unrecognized()
    if op_type is not None and op_type.lower() not in ("index", "create"):
        raise IllegalArgumentError(f"opType must be 'create' or 'index', found: [{op_type}]")
    index = request.match_info["index"]
    doc_id = request.match_info.get("id")
    if doc_id is not None and not doc_id:
        raise ActionRequestValidationError("id is missing")
    raw = required_body(await request.read())
    text = raw.decode("utf-8", errors="replace")
    action = "create" if create or (op_type or "").lower() == "create" else "index"
    document, problem = parse_source(raw)
    item = BulkItem(action, index, doc_id, routing or None, document, conditions=conditions, source_problem=problem,
                    source_text=text, require_alias=require_alias)  # fmt: skip
    validate_bulk([item])
    description = f"index {{[{index}][{doc_id}], source[{describe_source(text)}]}}"
    (outcome,) = await rest_client(request).execute(IndexAction, BulkRequest((item,), options, description))
    return _single_response(outcome, request, item.routing)


async def index_document(request: web.Request) -> web.Response:
    return await _index(request, create=False)


async def create_document(request: web.Request) -> web.Response:
    return await _index(request, create=True)


async def delete_document(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = _write_options(p)
    routing = p.str("routing")
    conditions = _conditions(p)
    p.check_unrecognized()
    index, doc_id = request.match_info["index"], request.match_info["id"]
    item = BulkItem("delete", index, doc_id, routing or None, conditions=conditions)
    validate_bulk([item])
    delete = BulkRequest((item,), options, f"delete {{[{index}][{doc_id}]}}")
    (outcome,) = await rest_client(request).execute(DeleteAction, delete)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    return with_system_index_warning(request, req.respond(outcome.result, status=outcome.status), [index])


def _update_body(raw: bytes) -> dict[str, Any]:
    """ES `UpdateRequest#fromXContent`: an object of the known update fields."""
    text = raw.decode("utf-8", errors="replace")
    body = parse_json_object(required_body(raw), required=True)
    for key, value in body.items():
        if key not in _UPDATE_FIELDS:
            column = text.find(f'"{key}"') + 1
            raise XContentParseError(1, column, f"[UpdateRequest] unknown field [{key}]")
        if key in ("doc", "upsert") and not isinstance(value, dict):
            column = text.find(f'"{key}"') + 1
            raise XContentParseError(
                1, column, f"[UpdateRequest] {key} doesn't support values of type: {json_token(value)}"
            )
    return body


def _describe_update(index: str, doc_id: str, spec: UpdateSpec) -> str:
    """ES `UpdateRequest#toString`."""
    text = f"update {{[{index}][{doc_id}], doc_as_upsert[{str(spec.doc_as_upsert).lower()}]"
    if spec.doc is not None:
        text += f", doc[index {{[null][null], source[{json.dumps(spec.doc, separators=(',', ':'))}]}}]"
    if spec.script is not None:
        text += f", script[{spec.script}]"
    if spec.upsert is not None:
        text += f", upsert[index {{[null][null], source[{json.dumps(spec.upsert, separators=(',', ':'))}]}}]"
    return (
        text + f", scripted_upsert[{str(spec.scripted_upsert).lower()}], detect_noop[{str(spec.detect_noop).lower()}]}}"
    )


async def update_document(request: web.Request) -> web.Response:
    """`POST /{index}/_update/{id}` (ES `RestUpdateAction`): a noop answers `_shards` of 0 copies, as ES's does."""
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = _write_options(p)
    routing = p.str("routing")
    if p.has("version") or p.has("version_type"):  # ES refuses versions on the update API before anything else
        p.consume("version", "version_type")
        raise ActionRequestValidationError(
            "internal versioning can not be used for optimistic concurrency control. "
            "Please use `if_seq_no` and `if_primary_term` instead"
        )
    doc_as_upsert = p.bool("doc_as_upsert", False)
    fetch = _source_filter(p, default=SourceFilter(fetch=False)) if _has_source_params(p) else None
    retries = p.int("retry_on_conflict", 0) or 0
    conditions = _conditions(p, versions=False)
    p.consume("lang")
    p.check_unrecognized()
    index, doc_id = request.match_info["index"], request.match_info["id"]
    body = _update_body(await request.read())
    spec = UpdateSpec.from_body(body)
    if doc_as_upsert and not spec.doc_as_upsert:
        spec = UpdateSpec(spec.doc, spec.upsert, True, spec.script, spec.scripted_upsert, spec.detect_noop)
    if "_source" in body:
        fetch = parse_source_filter(body["_source"])
    item = BulkItem("update", index, doc_id, routing or None, update=spec, conditions=conditions,
                    fetch_source=fetch, retry_on_conflict=retries)  # fmt: skip
    validate_bulk([item])
    update = BulkRequest((item,), options, _describe_update(index, doc_id, spec))
    (outcome,) = await rest_client(request).execute(UpdateAction, update)
    if outcome.result is not None and outcome.result.get("result") == "noop":
        outcome.result["_shards"] = {"total": 0, "successful": 0, "failed": 0}
        outcome.result.pop("forced_refresh", None)
    return _single_response(outcome, request, item.routing)


def _has_source_params(params: Params) -> bool:
    return params.has("_source") or params.has("_source_includes") or params.has("_source_excludes")


def _get_request(request: web.Request, params: Params) -> GetRequest:
    routing = params.str("routing")
    preference = params.str("preference")
    stored_fields = params.str("stored_fields")
    source = _source_filter(params, default=SourceFilter(fetch=False) if stored_fields is not None else None)
    version = params.long("version", MATCH_ANY)
    version_type = VersionType.parse(params.str("version_type"))
    assert version is not None
    if not version_type.valid_for_reads(version):
        raise ActionRequestValidationError(f"illegal version value [{version}] for version type [{version_type.name}]")
    params.consume("realtime", "refresh")
    params.check_unrecognized()
    return GetRequest(
        request.match_info["index"], request.match_info["id"], routing or None, preference, source, version,
        version_type,
    )  # fmt: skip


async def _get(request: web.Request) -> tuple[int, dict[str, Any]]:
    reject_shadowed_path(request)
    get = _get_request(request, rest_request(request).params)
    body = await rest_client(request).execute(GetAction, get)
    return (200 if body["found"] else 404), body


async def get_document(request: web.Request) -> web.Response:
    """`GET /{index}/_doc/{id}` (ES `RestGetAction`): 404 with `found: false` for a missing document."""
    status, body = await _get(request)
    response = rest_request(request).respond(body, status=status)
    return with_system_index_warning(request, response, [request.match_info["index"]])


async def document_exists(request: web.Request) -> web.Response:
    status, _ = await _get(request)
    response = web.Response(status=status, headers={"Content-Type": "application/json"})
    return with_system_index_warning(request, response, [request.match_info["index"]])


async def _get_source(request: web.Request) -> Any:
    """ES `RestGetSourceAction`: the `_source` alone; 404 `Document not found [index]/[id]` when missing."""
    status, body = await _get(request)
    index, doc_id = request.match_info["index"], request.match_info["id"]
    if status == 404:
        raise ResourceNotFoundError(f"Document not found [{index}]/[{doc_id}]")
    return body.get("_source", {})


async def get_source(request: web.Request) -> web.Response:
    source = await _get_source(request)
    response = rest_request(request).respond(source)
    return with_system_index_warning(request, response, [request.match_info["index"]])


async def source_exists(request: web.Request) -> web.Response:
    await _get_source(request)
    return web.Response(status=200, headers={"Content-Type": "application/json"})


_MGET_DOC_FIELDS = ("_index", "_id", "routing", "_routing", "_source", "stored_fields", "version", "version_type")


def _mget_item(doc: Any, default_index: str | None, routing: str | None, fetch: SourceFilter) -> MultiGetItem:
    """One document of a multi-get body (ES `MultiGetRequest#parseDocuments`)."""
    if not isinstance(doc, Mapping):
        raise ParseError(f"failed to parse multi get request. unknown field [{json_token(doc)}]")
    for key, value in doc.items():
        if key not in _MGET_DOC_FIELDS or (key not in ("_source", "stored_fields") and isinstance(value, list | dict)):
            raise ParseError(f"failed to parse multi get request. unknown field [{key}]")
    index = doc.get("_index", default_index)
    doc_id = doc.get("_id")
    doc_routing = doc.get("routing", doc.get("_routing", routing))
    return MultiGetItem(
        str(index) if index is not None else "",
        str(doc_id) if doc_id is not None else "",
        str(doc_routing) if doc_routing is not None else None,
        parse_source_filter(doc["_source"]) if "_source" in doc else fetch,
        _mget_version(doc.get("version", MATCH_ANY)),
        VersionType.parse(doc.get("version_type")),
    )


def _mget_version(value: Any) -> int:
    """A document's `version`, read as ES's parser reads a long (a number, or a string holding one)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise NumberFormatError(f'For input string: "{value}"') from None


async def multi_get(request: web.Request) -> web.Response:
    """`GET|POST /_mget`, `/{index}/_mget` (ES `RestMultiGetAction`): `docs` or `ids`; `{"docs": [...]}`."""
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    default_index = request.match_info.get("index")
    routing = p.str("routing")
    preference = p.str("preference")
    stored_fields = p.str("stored_fields")
    fetch = _source_filter(p, default=SourceFilter(fetch=False) if stored_fields is not None else None)
    p.consume("realtime", "refresh")
    p.check_unrecognized()
    body = parse_json_object(required_body(await request.read()), required=True)
    raw_items: list[Any] = []
    for key, value in body.items():
        if key == "docs" and isinstance(value, list):
            raw_items.extend(value)
        elif key == "ids" and isinstance(value, list):
            raw_items.extend({"_id": doc_id} for doc_id in value)
        else:
            raise ParseError(f"unknown key [{key}] for a {json_token(value)}, expected [docs] or [ids]")
    items = [_mget_item(doc, default_index, routing, fetch) for doc in raw_items]
    problems = []
    if not items:
        problems.append("no documents to get")
    for i, item in enumerate(items):
        if not item.index:
            problems.append(f"index is missing for doc {i}")
        if not item.id:
            problems.append(f"id is missing for doc {i}")
    if problems:
        raise ActionRequestValidationError(*problems)
    docs = await rest_client(request).execute(MultiGetAction, MultiGetRequest(tuple(items), preference))
    response = req.respond({"docs": docs})
    return with_system_index_warning(request, response, sorted({i.index for i in items}))
