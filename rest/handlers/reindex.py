"""`POST /_reindex`, `POST /{index}/_update_by_query`, `POST /{index}/_delete_by_query` and their
`POST /_{reindex,update_by_query,delete_by_query}/{task_id}/_rethrottle` (ES `RestReindexAction`,
`RestUpdateByQueryAction`, `RestDeleteByQueryAction`, `RestRethrottleAction`; reference §14).

`wait_for_completion` defaults to true (the bulk-by-scroll response, 200 even when cancelled, with `canceled`);
false validates the request, answers `{"task": "<node>:<id>"}` at once and stores the result. The synchronous
update-by-query response omits `created`, delete-by-query's also `updated`, as ES's REST layer does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from node.actions.reindex import BULK_BY_SCROLL_ACTIONS, DEFAULT_SCROLL_MILLIS, BulkByScrollRequest
from node.actions.rethrottle import RethrottleAction, RethrottleRequest
from node.common.action_names import DELETE_BY_QUERY, UPDATE_BY_QUERY
from node.common.action_names import REINDEX as REINDEX_ACTION
from node.data.bulk_by_scroll import (
    AUTO_SLICES,
    UNLIMITED,
    BodyFields,
    parse_requests_per_second,
    parse_slices,
    render_response,
)
from node.data.doc_versioning import VersionType
from node.data.errors import XContentParseError
from node.data.index_resolver import IndicesOptions
from node.data.json_body import parse_json_object
from node.data.search_request import ParsingError
from node.data.source_filter import parse_source_filter
from node.errors import ElasticsearchError, IllegalArgumentError
from node.tasks.task_id import TaskId
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.handlers.indices import indices_options, reject_shadowed_path
from rest.handlers.system_indices import with_system_index_warning
from rest.params import Params, parse_group_by, split_by_comma
from rest.render import render_tasks_response

__all__ = ["delete_by_query", "reindex", "rethrottle", "update_by_query"]

_SEARCH_PARAMS = (
    "analyzer", "analyze_wildcard", "default_operator", "df", "lenient", "preference", "routing", "search_timeout",
    "search_type", "stats", "terminate_after", "version", "request_cache", "sort", "_source", "_source_includes",
    "_source_excludes",
)  # fmt: skip


def _unknown_field(parser: str, key: str, text: str) -> XContentParseError:
    position = text.find(f'"{key}"')
    return XContentParseError(1, position + 1 if position >= 0 else 1, f"[{parser}] unknown field [{key}]")


def _conflicts(value: Any) -> str:
    if value not in ("abort", "proceed"):
        raise IllegalArgumentError(f'conflicts may only be "proceed" or "abort" but was [{value}]')
    return str(value)


def _common(params: Params) -> dict[str, Any]:
    """The parameters every bulk-by-scroll endpoint reads (ES `AbstractBaseReindexRestHandler`); `max_docs` is
    the URL's, which `_max_docs` sets after the body's, as ES's `setCommonOptions` does."""
    rps = parse_requests_per_second(params.str("requests_per_second"))
    slices = parse_slices(params.str("slices"))
    scroll = params.time("scroll")
    timeout = params.time("timeout")
    max_docs = params.int("max_docs")
    params.consume("refresh", "wait_for_active_shards", "require_alias")
    return {
        "requests_per_second": UNLIMITED if rps is None else rps,
        "slices": slices,
        "scroll_millis": scroll.millis if scroll is not None else DEFAULT_SCROLL_MILLIS,
        "timeout_millis": timeout.millis if timeout is not None and timeout.millis >= 0 else 60_000,
        "max_docs": max_docs,
    }


def _set_max_docs(current: int, max_docs: int, slices: int | str) -> int:
    """ES `setMaxDocsValidateIdentical` then `AbstractBulkByScrollRequest#setMaxDocs`.

    Raises:
        IllegalArgumentError: a value other than one already set, a negative one, or fewer than the slices.
    """
    if current != -1 and current != max_docs:
        raise IllegalArgumentError(f"[max_docs] set to two different values [{current}] and [{max_docs}]")
    if max_docs < 0:
        raise IllegalArgumentError(f"[max_docs] parameter cannot be negative, found [{max_docs}]")
    if max_docs < (0 if slices == AUTO_SLICES else int(slices)):
        raise IllegalArgumentError("[max_docs] should be >= [slices]")
    return max_docs


def _max_docs(
    common: dict[str, Any], body_max_docs: int, *, body_error: Callable[[ElasticsearchError], Exception]
) -> int:
    """The request's `max_docs` (-1: all), set from the body (parsed while `slices` is still 1), then from the URL
    (after `slices`), as ES's REST handlers set them."""
    max_docs = -1
    if body_max_docs != -1:
        try:
            max_docs = _set_max_docs(-1, body_max_docs, 1)
        except IllegalArgumentError as e:
            raise body_error(e) from None
    url_max_docs = common.pop("max_docs")
    if url_max_docs is not None:
        max_docs = _set_max_docs(max_docs, url_max_docs, common["slices"])
    return max_docs


def _search_source(source: BodyFields) -> dict[str, Any]:
    """What a bulk-by-scroll reads of the source's search body (ES `SearchSourceBuilder#parseXContent`).

    Raises:
        ElasticsearchError: a value the search body refuses (the caller wraps it as ES's outer parser does).
    """
    batch_size = source.int("size")
    if batch_size is not None and batch_size < 0:  # ES SearchSourceBuilder#size
        raise IllegalArgumentError(f"[size] parameter cannot be negative, found [{batch_size}]")
    search_from = source.int("from")
    if search_from is not None and search_from < 0:  # ES SearchSourceBuilder#from
        raise IllegalArgumentError(f"[from] parameter cannot be negative, found [{search_from}]")
    return {
        "batch_size": batch_size,
        "slice": source.slice(),
        "search_from": search_from is not None,
        "stored_fields": source.has("stored_fields"),
        "fetch_source_false": source.has("_source") and source.raw("_source") is False,
    }


async def _run(
    request: web.Request, bbs: BulkByScrollRequest, wait: bool, *, created: bool, updated: bool
) -> web.Response:
    req = rest_request(request)
    bbs.validate()
    action = BULK_BY_SCROLL_ACTIONS[bbs.action]
    if not wait:
        task = rest_client(request).start(action, bbs)
        return with_system_index_warning(request, req.respond({"task": str(task.task_id)}), bbs.source)
    result = await rest_client(request).execute(action, bbs)
    status = result.status.with_slice(None)
    body = render_response(
        result.took_nanos, result.timed_out, status, result.failures, human=req.human, created=created, updated=updated
    )
    response = req.respond(body, status=response_status(result.timed_out, result.failures))
    return with_system_index_warning(request, response, bbs.source)


def response_status(timed_out: bool, failures: Sequence[Mapping[str, Any]]) -> int:
    """ES `BulkIndexByScrollResponseContentListener#getStatus`: the highest status among the failures (a version
    conflict that aborted the request is a 409), 408 when timed out, else 200."""
    status = 408 if timed_out else 200
    for failure in failures:
        failure_status = failure.get("status")
        if isinstance(failure_status, int) and failure_status > status:
            status = failure_status
    return status


async def reindex(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    common = _common(p)
    wait = p.bool("wait_for_completion", True)
    p.check_unrecognized()
    raw = await request.read()
    text = raw.decode("utf-8", errors="replace")
    body = parse_json_object(raw, required=True)
    for key in body:
        if key not in ("source", "dest", "max_docs", "script", "conflicts"):
            raise _unknown_field("reindex", key, text)
    fields = BodyFields("reindex", body, text)
    source, dest = fields.object("source"), fields.object("dest")
    indices = source.indices()
    try:
        search = _search_source(source)
    except ElasticsearchError as e:  # ES's `source` parser fails inside the reindex ObjectParser, which wraps it
        cause = e.cause if isinstance(e, XContentParseError) and e.cause is not None else e
        raise fields.failed_field("source", cause) from None
    for key in body.get("dest") or {}:
        if key not in ("index", "op_type", "version_type", "pipeline", "routing"):
            raise _unknown_field("dest", key, text)
    op_type = dest.string("op_type") or "index"
    if op_type not in ("index", "create"):
        raise IllegalArgumentError(f"opType must be 'create' or 'index', found: [{op_type}]")
    body_max_docs = fields.int("max_docs")
    max_docs = _max_docs(
        common,
        -1 if body_max_docs is None else body_max_docs,
        body_error=lambda e: fields.failed_field("max_docs", e),
    )
    source_body = body.get("source") or {}
    dest_body = body.get("dest") or {}
    bbs = BulkByScrollRequest(
        action=REINDEX_ACTION,
        source=indices,
        dest=dest.string("index"),
        query=(body.get("source") or {}).get("query"),
        conflicts=_conflicts(body.get("conflicts", "abort")),
        script=fields.script(),
        op_type=op_type,
        source_filter=parse_source_filter(source_body.get("_source")),
        dest_routing=str(dest_body.get("routing") or "keep"),
        dest_version_type=VersionType.parse(dest_body.get("version_type")),
        max_docs=max_docs,
        options=IndicesOptions(forbid_closed=True),  # ES reads the source with a search's options
        **search,
        **common,
    )
    return await _run(request, bbs, wait, created=True, updated=True)


async def _by_query(request: web.Request, action: str) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    common = _common(p)
    wait = p.bool("wait_for_completion", True)
    scroll_size = p.int("scroll_size")
    conflicts = p.str("conflicts")
    q = p.str("q")
    options = indices_options(p, forbid_closed=True)
    p.consume(*_SEARCH_PARAMS)
    if action == UPDATE_BY_QUERY:
        p.consume("pipeline", "version_type")
    p.check_unrecognized()
    raw = await request.read()
    body = parse_json_object(raw)
    allowed = {"query", "max_docs", "slice", "conflicts"} | ({"script"} if action == UPDATE_BY_QUERY else set())
    for key in body:
        if key not in allowed:
            raise ParsingError(
                f"Unknown key for a START_OBJECT in [{key}].",
                1,
                raw.decode(errors="replace").find(f'"{key}"') + len(key) + 4,
            )
    query = body.get("query")
    if q is not None:
        query = {"query_string": {"query": q}}
    fields = BodyFields("update_by_query" if action == UPDATE_BY_QUERY else "delete_by_query", body, raw.decode())
    body_max_docs = fields.int("max_docs")
    max_docs = _max_docs(common, -1 if body_max_docs is None else body_max_docs, body_error=lambda e: e)
    bbs = BulkByScrollRequest(
        action=action,
        source=tuple(split_by_comma(request.match_info["index"])),
        query=query if query is not None or action == DELETE_BY_QUERY else None,
        batch_size=scroll_size,
        slice=fields.slice(),
        conflicts=_conflicts(conflicts if conflicts is not None else body.get("conflicts", "abort")),
        script=fields.script(),
        options=options,
        max_docs=max_docs,
        **common,
    )
    return await _run(request, bbs, wait, created=False, updated=action == UPDATE_BY_QUERY)


async def update_by_query(request: web.Request) -> web.Response:
    return await _by_query(request, UPDATE_BY_QUERY)


async def delete_by_query(request: web.Request) -> web.Response:
    return await _by_query(request, DELETE_BY_QUERY)


async def rethrottle(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    rps = parse_requests_per_second(p.str("requests_per_second"))
    group_by = parse_group_by(p.str("group_by"))
    human = req.human
    p.check_unrecognized()
    if rps is None:
        raise IllegalArgumentError("requests_per_second is a required parameter")
    target = TaskId.parse(request.match_info["task_id"])
    result = await rest_client(request).execute(
        RethrottleAction, RethrottleRequest(target_task_id=target, requests_per_second=rps)
    )
    body = render_tasks_response(cluster_state(request), result, group_by=group_by, human=human)
    return req.respond(body)
