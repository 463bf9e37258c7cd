"""`GET|POST /_search`, `/{index}/_search`, `/_count`, `/{index}/_count`, the scroll API and clear-scroll
(ES `RestSearchAction`, `RestCountAction`, `RestSearchScrollAction`, `RestClearScrollAction`).

A search registers the cancellable `indices:data/read/search` task with ES's description; so does `_count`, which
ES runs as a search of `{"size":0,"track_total_hits":2147483647}`. Closing the HTTP connection cancels the task
(`RestClient`), and through bans its shard tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.actions.search import (
    ClearScrollAction,
    ClearScrollRequest,
    SearchAction,
    SearchScrollAction,
    SearchScrollRequest,
)
from node.data.json_body import parse_json_object
from node.data.query_dsl import compile_query
from node.data.search_request import (
    TRACK_ALL,
    ParsingError,
    SearchRequest,
    parse_search_body,
    parse_track_total_hits,
)
from node.data.search_sort import SortClause, parse_sort
from node.data.source_filter import parse_source_filter, source_filter_from_params
from node.errors import ActionRequestValidationError, IllegalArgumentError
from node.human import format_duration_nanos
from rest.app_keys import rest_client, rest_request
from rest.handlers.indices import indices_options, reject_shadowed_path
from rest.handlers.system_indices import with_system_index_warning
from rest.params import Params, parse_time_value, split_by_comma

__all__ = ["clear_scroll", "count", "parse_search_request", "scroll", "search"]

_SEARCH_TYPES = {"query_then_fetch": "QUERY_THEN_FETCH", "dfs_query_then_fetch": "DFS_QUERY_THEN_FETCH"}
# Parameters ES reads for every search whose effect is not simulated here (accepted, and changing nothing).
_ACCEPTED = (
    "batched_reduce_size", "pre_filter_shard_size", "max_concurrent_shard_requests", "allow_partial_search_results",
    "request_cache", "routing", "ccs_minimize_roundtrips", "df", "analyzer", "analyze_wildcard", "lenient",
    "default_operator", "explain", "timeout", "stored_fields", "docvalue_fields", "stats",
    "suggest_field", "suggest_text", "suggest_size", "suggest_mode", "typed_keys", "ignore_throttled",
    "include_named_queries_score", "force_synthetic_source", "search_pipeline",
)  # fmt: skip


def _url_sort(text: str | None) -> tuple[SortClause, ...]:
    """ES `RestSearchAction#parseSearchSource`'s `sort` parameter: `field`, `field:asc`, `field:desc` (any other
    order after the last colon adds no clause, as in ES)."""
    clauses: list[SortClause] = []
    for part in split_by_comma(text):
        field, colon, order = part.rpartition(":")
        if not colon:
            clauses.extend(parse_sort(part))
        elif order in ("asc", "desc"):
            clauses.append(SortClause(field, descending=order == "desc"))
    return tuple(clauses)


def _non_negative(params: Params, name: str, body: Mapping[str, Any]) -> int | None:
    value: Any = params.int(name)  # a Java int, as ES `RestRequest#paramAsInt` reads it
    value = value if value is not None else body.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise IllegalArgumentError(f"Failed to parse int parameter [{name}] with value [{value}]") from None
    if number < 0:
        raise IllegalArgumentError(f"[{name}] parameter cannot be negative, found [{number}]")
    return number


def _check_terminate_after(params: Params) -> None:
    """ES `SearchSourceBuilder#terminateAfter`, which `RestSearchAction` and `RestCountAction` call with the
    parameter read as a Java int; it only ends collection early, which counted documents need not simulate."""
    terminate_after = params.int("terminate_after")
    if terminate_after is not None and terminate_after < 0:
        raise IllegalArgumentError("terminateAfter must be > 0")


def parse_search_request(request: web.Request, params: Params, raw: bytes) -> SearchRequest:
    """Reads a search's path, parameters and body into a `SearchRequest` (ES `RestSearchAction#parseSearchRequest`)."""
    text = raw.decode("utf-8", errors="replace")
    body = parse_search_body(parse_json_object(raw), text)
    source = dict(body)
    size = _non_negative(params, "size", body)
    offset = _non_negative(params, "from", body)
    if size is not None:
        source["size"] = size
    if offset is not None:
        source["from"] = offset
    query = params.str("q")
    if query is not None:
        source["query"] = {"query_string": {"query": query}}
    track: int | None = 10_000
    track_text = params.str("track_total_hits")
    if track_text is not None or "track_total_hits" in body:
        track = parse_track_total_hits(track_text if track_text is not None else body["track_total_hits"])
        source["track_total_hits"] = track if track is not None else False
    as_int = params.bool("rest_total_hits_as_int", False)
    if as_int and "track_total_hits" not in source:
        track = TRACK_ALL
        source["track_total_hits"] = TRACK_ALL
    search_type = params.str("search_type", "query_then_fetch") or "query_then_fetch"
    if search_type not in _SEARCH_TYPES:
        raise IllegalArgumentError(f"No search type for [{search_type}]")
    scroll = params.time("scroll")
    if scroll is not None and offset:
        raise ActionRequestValidationError("using [from] is not allowed in a scroll context")
    sort = parse_sort(body.get("sort")) + _url_sort(params.str("sort"))
    source_filter = source_filter_from_params(
        params.str("_source"), params.str("_source_includes"), params.str("_source_excludes"),
        parse_source_filter(body.get("_source")),
    )  # fmt: skip
    version = params.bool("version", bool(body.get("version", False)))
    seq_no_primary_term = params.bool("seq_no_primary_term", bool(body.get("seq_no_primary_term", False)))
    track_scores = params.bool("track_scores", bool(body.get("track_scores", False)))
    _check_terminate_after(params)
    params.consume(*_ACCEPTED)
    options = indices_options(params, forbid_closed=True)
    return SearchRequest(
        indices=tuple(split_by_comma(request.match_info.get("index"))),
        options=options,
        size=10 if size is None else size,
        from_=offset or 0,
        track_total_hits=track,
        rest_total_hits_as_int=as_int,
        source=source,
        scroll_millis=scroll.millis if scroll is not None else 0,
        scroll_text=str(scroll) if scroll is not None else None,
        preference=params.str("preference"),
        search_type=_SEARCH_TYPES[search_type],
        query=source.get("query"),
        sort=sort,
        source_filter=source_filter,
        version=version,
        seq_no_primary_term=seq_no_primary_term,
        track_scores=track_scores,
        search_after=tuple(body["search_after"]) if "search_after" in body else None,
    )


async def search(request: web.Request) -> web.Response:
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    search_request = parse_search_request(request, req.params, await request.read())
    req.params.check_unrecognized()
    response = req.respond(await rest_client(request).execute(SearchAction, search_request))
    return with_system_index_warning(request, response, search_request.indices)


async def count(request: web.Request) -> web.Response:
    """ES runs `_count` as a search of no hits with exact total hits."""
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    raw = await request.read()
    body = parse_json_object(raw)
    for key in body:
        if key != "query":
            raise ParsingError(f"request does not support [{key}]", 1, 2)
    source: dict[str, Any] = {"size": 0}
    if "query" in body:
        source["query"] = body["query"]
    query = p.str("q")
    if query is not None:
        source["query"] = {"query_string": {"query": query}}
    source["track_total_hits"] = TRACK_ALL
    compile_query(source.get("query"))
    _check_terminate_after(p)
    p.consume("df", "analyzer", "default_operator", "lenient", "analyze_wildcard", "min_score", "routing",
              "ignore_throttled")  # fmt: skip
    search_request = SearchRequest(
        indices=tuple(split_by_comma(request.match_info.get("index"))),
        options=indices_options(p, forbid_closed=True),
        size=0,
        track_total_hits=TRACK_ALL,
        source=source,
        preference=p.str("preference"),
        query=source.get("query"),
    )
    p.check_unrecognized()
    response = await rest_client(request).execute(SearchAction, search_request)
    shards = {k: v for k, v in response["_shards"].items()}
    answer = req.respond({"count": response["hits"]["total"]["value"], "_shards": shards})
    return with_system_index_warning(request, answer, search_request.indices)


def _scroll_params(request: web.Request, params: Params, body: Mapping[str, Any]) -> tuple[str | None, Any]:
    scroll_id = request.match_info.get("scroll_id") or params.str("scroll_id") or body.get("scroll_id")
    keep_alive = params.str("scroll") or body.get("scroll")
    return scroll_id, keep_alive


async def scroll(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    body = parse_json_object(await request.read())
    scroll_id, keep_alive_text = _scroll_params(request, p, body)
    p.consume("rest_total_hits_as_int")
    p.check_unrecognized()
    if not scroll_id:
        raise ActionRequestValidationError("scrollId is missing")
    keep_alive = parse_time_value(str(keep_alive_text), "scroll") if keep_alive_text is not None else None
    scroll_request = SearchScrollRequest(
        scroll_id,
        keep_alive.millis if keep_alive is not None else 0,
        format_duration_nanos(keep_alive.nanos) if keep_alive is not None else None,
    )
    return req.respond(await rest_client(request).execute(SearchScrollAction, scroll_request))


async def clear_scroll(request: web.Request) -> web.Response:
    req = rest_request(request)
    body = parse_json_object(await request.read())
    req.params.check_unrecognized()
    ids: Any = request.match_info.get("scroll_id") or body.get("scroll_id")
    scroll_ids = split_by_comma(ids) if isinstance(ids, str) else list(ids or [])
    if not scroll_ids:
        raise ActionRequestValidationError("no scroll ids specified")
    scroll_ids = [s for s in scroll_ids if s != "_all"]
    response = await rest_client(request).execute(ClearScrollAction, ClearScrollRequest(tuple(scroll_ids)))
    return req.respond(response)
