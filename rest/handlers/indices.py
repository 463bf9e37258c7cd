"""`PUT /{index}`, `DELETE /{index}`, `GET /{index}` and `HEAD /{index}` (ES `RestCreateIndexAction`,
`RestDeleteIndexAction`, `RestGetIndicesAction`, `RestIndicesExistsAction`).

Routes that start with `{index}` also match `/_tasks` or `/_cat`; ES's path trie prefers an explicit path segment
over `{index}`, so `DELETE /_tasks` is a 405 there, not a delete of index `_tasks`. `reject_shadowed_path` gives
every `{index}` route that behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.actions.indices_admin import (
    CreateIndexAction,
    CreateIndexRequest,
    DeleteIndexAction,
    DeleteIndexRequest,
    GetIndexAction,
    GetIndexRequest,
    parse_wait_for_active_shards,
)
from node.actions.refresh import RefreshAction, RefreshRequest
from node.common.time_value import TimeValue
from node.data.aliases import parse_alias
from node.data.cluster_settings import nested
from node.data.errors import ParseError
from node.data.index_metadata import IndexMetadata, indices_of, parse_create_index_body
from node.data.index_resolver import IndicesOptions, parse_wildcard_states, resolve_indices
from node.data.json_body import parse_json_object
from node.errors import ElasticsearchError
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.handlers.system_indices import with_system_index_warning
from rest.params import Params, split_by_comma

__all__ = [
    "create_index",
    "delete_index",
    "get_index",
    "index_exists",
    "indices_options",
    "refresh",
    "reject_shadowed_path",
]

_INDEX_ROUTE_PREFIX = "/{index}"


def reject_shadowed_path(request: web.Request) -> None:
    """Answers 405 when an explicit route owns this path's first segment (ES `PathTrie` explicit-over-wildcard).

    Raises:
        web.HTTPMethodNotAllowed: with the methods the explicit routes allow; the error middleware renders it.
    """
    index = request.match_info.get("index", "")
    if not index.startswith("_"):
        return
    allowed: set[str] = set()
    path = request.path
    for resource in request.app.router.resources():
        info = resource.get_info()
        if info.get("formatter", "").startswith(_INDEX_ROUTE_PREFIX):
            continue
        matched = info.get("path") == path
        pattern = info.get("pattern")
        if pattern is not None and pattern.fullmatch(path):
            matched = True
        if matched:
            allowed.update(route.method for route in resource)
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)


def indices_options(
    params: Params, *, allow_no_indices: bool = True, expand_closed: bool = False, forbid_closed: bool = False
) -> IndicesOptions:
    """ES `IndicesOptions#fromRequest`: `ignore_unavailable`, `allow_no_indices`, `expand_wildcards` (by default
    open indices, and closed ones too when `expand_closed`); `forbid_closed` for requests that read documents."""
    values = params.list("expand_wildcards") or (["open", "closed"] if expand_closed else ["open"])
    open_, closed, hidden = parse_wildcard_states(values)
    return IndicesOptions(
        ignore_unavailable=params.bool("ignore_unavailable", False),
        allow_no_indices=params.bool("allow_no_indices", allow_no_indices),
        expand_hidden=hidden,
        expand_open=open_,
        expand_closed=closed,
        forbid_closed=forbid_closed,
    )


_DEFAULT_TIMEOUT = TimeValue(30, "s")


def _timeout(params: Params, name: str) -> TimeValue:
    value = params.time(name)
    return value if value is not None and value.millis >= 0 else _DEFAULT_TIMEOUT


def _mappings_and_aliases(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The `mappings` (kept as given: ES 7+ has no type level) and the `aliases` of a create-index body (ES
    `CreateIndexRequest#source`, `Alias#fromXContent`).

    Raises:
        ParseError: `mappings` or `aliases` that is not an object.
        IllegalArgumentError: an alias with an unknown field.
    """
    mappings = body.get("mappings") or {}
    if not isinstance(mappings, Mapping):
        raise ParseError("key [mappings] must be an object")
    raw_aliases = body.get("aliases") or {}
    if not isinstance(raw_aliases, Mapping):
        raise ParseError("key [aliases] must be an object")
    aliases = {}
    for alias, fields in raw_aliases.items():
        aliases[alias] = parse_alias(alias, fields if isinstance(fields, Mapping) else {})
    return dict(mappings), aliases


async def create_index(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    name = request.match_info["index"]
    wait_for_active_shards = parse_wait_for_active_shards(p.str("wait_for_active_shards"))
    timeout = _timeout(p, "timeout")
    master_timeout = _timeout(p, "master_timeout")
    p.check_unrecognized()
    body = parse_json_object(await request.read())
    settings = parse_create_index_body(body)
    mappings, aliases = _mappings_and_aliases(body)
    create = CreateIndexRequest(
        index=name, settings=settings, mappings=mappings, aliases=aliases,
        wait_for_active_shards=wait_for_active_shards, timeout=timeout, master_timeout=master_timeout,
    )  # fmt: skip
    return req.respond(await rest_client(request).execute(CreateIndexAction, create))


async def delete_index(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    expressions = tuple(split_by_comma(request.match_info["index"]))
    options = indices_options(p, allow_no_indices=False)
    p.consume("timeout")
    master_timeout = _timeout(p, "master_timeout")
    p.check_unrecognized()
    delete = DeleteIndexRequest(
        indices=expressions, ignore_unavailable=options.ignore_unavailable,
        allow_no_indices=options.allow_no_indices, master_timeout=master_timeout,
    )  # fmt: skip
    return req.respond(await rest_client(request).execute(DeleteIndexAction, delete))


def _index_body(indices: list[IndexMetadata], flat: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for index in indices:
        name = index.name
        settings = dict(index.settings)
        out[name] = {
            "aliases": {alias: dict(meta) for alias, meta in index.aliases.items()},
            "mappings": dict(index.mappings),
            "settings": settings if flat else nested(settings),
        }
    return out


async def get_index(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = indices_options(p)
    flat = p.bool("flat_settings", False)
    p.consume("include_defaults", "local", "master_timeout", "features")
    p.check_unrecognized()
    get = GetIndexRequest(tuple(split_by_comma(request.match_info["index"])), options)
    return req.respond(_index_body(await rest_client(request).execute(GetIndexAction, get), flat))


async def index_exists(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    options = indices_options(p)
    p.consume("flat_settings", "include_defaults", "local", "master_timeout")
    p.check_unrecognized()
    indices = indices_of(cluster_state(request).metadata)
    try:
        found = bool(resolve_indices(split_by_comma(request.match_info["index"]), indices, options))
    except ElasticsearchError:  # HEAD answers with a status only: a missing index is a bare 404
        found = False
    return web.Response(status=200 if found else 404, headers={"Content-Type": "application/json"})


async def refresh(request: web.Request) -> web.Response:
    """`POST /_refresh`, `POST /{index}/_refresh` (ES `RestRefreshAction`)."""
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    options = indices_options(req.params)
    req.params.check_unrecognized()
    refresh_request = RefreshRequest(tuple(split_by_comma(request.match_info.get("index"))), options)
    response = req.respond(await rest_client(request).execute(RefreshAction, refresh_request))
    return with_system_index_warning(request, response, refresh_request.indices)
