"""`POST /_bulk`, `POST /{index}/_bulk`, `PUT|POST /{index}/_doc[/{id}]`, `PUT|POST /{index}/_create/{id}` and
`DELETE /{index}/_doc/{id}` (ES `RestBulkAction`, `RestIndexAction`, `RestDeleteAction`).

A bulk registers `indices:data/write/bulk`; a single document `indices:data/write/index` (or `.../delete`) with
ES's `index {[logs][1], source[{...}]}` description; both run the shard actions of `node.actions.bulk`. A bulk
always answers 200, with `errors: true` and per-item errors when some items failed; a single-document request
answers its item's error as the request's error.
"""

from __future__ import annotations

import json
import time

from aiohttp import web

from node.actions.bulk import BulkAction, BulkOptions, BulkRequest, DeleteAction, IndexAction, ItemOutcome
from node.actions.get import GetAction, GetRequest
from node.data.bulk_request import BulkItem, parse_bulk, source_error, validate_bulk
from node.data.errors import XContentParseError
from node.data.json_body import parse_json, required_body
from node.errors import ActionRequestValidationError, IllegalArgumentError
from rest.app_keys import rest_client, rest_request
from rest.handlers.indices import reject_shadowed_path
from rest.params import Params
from rest.render import render_bulk_response

__all__ = ["bulk", "create_document", "delete_document", "document_exists", "get_document", "index_document"]

_MAX_SOURCE_IN_DESCRIPTION = 2048  # ES IndexRequest.MAX_SOURCE_LENGTH_IN_TOSTRING


def _write_options(params: Params) -> BulkOptions:
    timeout = params.time("timeout")
    refresh = params.str("refresh")
    if refresh not in (None, "", "true", "false", "wait_for"):
        raise IllegalArgumentError(f"Unknown value for refresh: [{refresh}].")
    params.consume("wait_for_active_shards", "pipeline", "require_data_stream")
    return BulkOptions(timeout.millis if timeout is not None and timeout.millis >= 0 else 60_000)


async def bulk(request: web.Request) -> web.Response:
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = _write_options(p)
    routing = p.str("routing")
    require_alias = p.bool("require_alias", False)
    p.consume("_source", "_source_includes", "_source_excludes", "list_executed_pipelines", "include_source_on_error")
    p.check_unrecognized()
    items = parse_bulk(required_body(await request.read()), request.match_info.get("index"), routing, require_alias)
    validate_bulk(items)
    started = time.monotonic()
    outcomes = await rest_client(request).execute(BulkAction, BulkRequest(tuple(items), options))
    return req.respond(render_bulk_response(outcomes, int((time.monotonic() - started) * 1000)))


def _source_description(source: str) -> str:
    """ES `IndexRequest#toString`: the source as compact JSON, or its length when it is long."""
    raw = source.encode("utf-8")
    if len(raw) > _MAX_SOURCE_IN_DESCRIPTION:
        return f"n/a, actual length: [{len(raw) / 1024:.1f}kb], max length: 2kb".replace(".0kb", "kb")
    try:
        return json.dumps(parse_json(source), separators=(",", ":"), ensure_ascii=False)
    except XContentParseError:
        return "_na_"


def _single_response(outcome: ItemOutcome, request: web.Request) -> web.Response:
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    response = rest_request(request).respond(outcome.result, status=outcome.status)
    if outcome.status == 201:  # ES `RestStatus#CREATED` answers carry the document's location
        response.headers["Location"] = f"/{outcome.index}/_doc/{outcome.id}"
    return response


async def _index(request: web.Request, create: bool) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = _write_options(p)
    routing = p.str("routing")
    require_alias = p.bool("require_alias", False)
    op_type = p.str("op_type")
    p.consume("version", "version_type", "if_seq_no", "if_primary_term", "include_source_on_error")
    p.check_unrecognized()
    if op_type not in (None, "index", "create"):
        raise IllegalArgumentError(f"opType must be 'create' or 'index', found: [{op_type}]")
    index = request.match_info["index"]
    doc_id = request.match_info.get("id")
    if doc_id is not None and not doc_id:
        raise ActionRequestValidationError("id is missing")
    raw = required_body(await request.read())
    source = raw.decode("utf-8", errors="replace")
    action = "create" if create or op_type == "create" else "index"
    problem = source_error(raw)
    item = BulkItem(
        action, index, doc_id, routing, source_problem=problem, source_text=source, require_alias=require_alias
    )
    validate_bulk([item])
    description = f"index {{[{index}][{doc_id}], source[{_source_description(source)}]}}"
    (outcome,) = await rest_client(request).execute(IndexAction, BulkRequest((item,), options, description))
    return _single_response(outcome, request)


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
    p.consume("version", "version_type", "if_seq_no", "if_primary_term")
    p.check_unrecognized()
    index, doc_id = request.match_info["index"], request.match_info["id"]
    item = BulkItem("delete", index, doc_id, routing)
    delete = BulkRequest((item,), options, f"delete {{[{index}][{doc_id}]}}")
    (outcome,) = await rest_client(request).execute(DeleteAction, delete)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    return req.respond(outcome.result, status=outcome.status)


async def _get(request: web.Request) -> tuple[int, dict[str, object]]:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    routing = p.str("routing")
    preference = p.str("preference")
    p.consume(
        "realtime", "refresh", "stored_fields", "_source", "_source_includes", "_source_excludes", "version",
        "version_type",
    )  # fmt: skip
    p.check_unrecognized()
    index, doc_id = request.match_info["index"], request.match_info["id"]
    body = await rest_client(request).execute(GetAction, GetRequest(index, doc_id, routing, preference))
    return (200 if body["found"] else 404), body


async def get_document(request: web.Request) -> web.Response:
    """`GET /{index}/_doc/{id}` (ES `RestGetAction`): 404 with `found: false` for a missing document."""
    status, body = await _get(request)
    return rest_request(request).respond(body, status=status)


async def document_exists(request: web.Request) -> web.Response:
    status, _ = await _get(request)
    return web.Response(status=status, headers={"Content-Type": "application/json"})
