"""`PUT /{index}`, `DELETE /{index}`, `GET /{index}` and `HEAD /{index}` (ES `RestCreateIndexAction`,
`RestDeleteIndexAction`, `RestGetIndicesAction`, `RestIndicesExistsAction`).

Routes that start with `{index}` also match `/_tasks` or `/_cat`; ES's path trie prefers an explicit path segment
over `{index}`, so `DELETE /_tasks` is a 405 there, not a delete of index `_tasks`. `reject_shadowed_path` gives
every `{index}` route that behaviour.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.actions.indices_admin import parse_wait_for_active_shards
from node.actions.names import CREATE_INDEX, DELETE_INDEX, GET_INDEX, REFRESH
from node.data.cluster_settings import nested
from node.data.index_metadata import indices_of, parse_create_index_body
from node.data.index_resolver import IndicesOptions, parse_expand_wildcards, resolve_indices
from node.data.json_body import parse_json_object
from node.errors import ElasticsearchError
from rest.app_keys import rest_request, rest_task, serving_node
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


def indices_options(params: Params, *, allow_no_indices: bool = True) -> IndicesOptions:
    """ES `IndicesOptions#fromRequest`: `ignore_unavailable`, `allow_no_indices`, `expand_wildcards`."""
    expand = parse_expand_wildcards(params.list("expand_wildcards") or ["open"])
    return IndicesOptions(
        ignore_unavailable=params.bool("ignore_unavailable", False),
        allow_no_indices=params.bool("allow_no_indices", allow_no_indices),
        expand_hidden=expand,
    )


def _seconds(params: Params, name: str, default: float) -> float:
    value = params.time(name)
    return value.seconds if value is not None and value.millis >= 0 else default


async def create_index(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    node = serving_node(request)
    p = req.params
    name = request.match_info["index"]
    wait_for_active_shards = parse_wait_for_active_shards(p.str("wait_for_active_shards"))
    timeout = _seconds(p, "timeout", 30.0)
    master_timeout = _seconds(p, "master_timeout", 30.0)
    p.check_unrecognized()
    settings = parse_create_index_body(parse_json_object(await request.read()))
    async with rest_task(request, CREATE_INDEX, cancellable=False) as task:
        body = await node.data.indices_admin.create_index(
            task, name, settings, wait_for_active_shards=wait_for_active_shards, timeout=timeout,
            master_timeout=master_timeout,
        )  # fmt: skip
    return req.respond(body)


async def delete_index(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    node = serving_node(request)
    p = req.params
    expressions = split_by_comma(request.match_info["index"])
    options = indices_options(p, allow_no_indices=False)
    p.consume("timeout")
    master_timeout = _seconds(p, "master_timeout", 30.0)
    p.check_unrecognized()
    async with rest_task(request, DELETE_INDEX, cancellable=False) as task:
        body = await node.data.indices_admin.delete_indices(task, expressions, options, master_timeout=master_timeout)
    return req.respond(body)


def _index_body(node: Any, names: list[str], flat: bool) -> dict[str, Any]:
    indices = indices_of(node.cluster_state().metadata)
    out: dict[str, Any] = {}
    for name in names:
        index = indices[name]
        settings = dict(index.settings)
        out[name] = {
            "aliases": {},
            "mappings": {},
            "settings": settings if flat else nested(settings),
        }
    return out


async def get_index(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    node = serving_node(request)
    p = req.params
    options = indices_options(p)
    flat = p.bool("flat_settings", False)
    p.consume("include_defaults", "local", "master_timeout", "features")
    p.check_unrecognized()
    async with rest_task(request, GET_INDEX, cancellable=True):
        indices = indices_of(node.cluster_state().metadata)
        names = resolve_indices(split_by_comma(request.match_info["index"]), indices, options)
    return req.respond(_index_body(node, names, flat))


async def index_exists(request: web.Request) -> web.Response:
    reject_shadowed_path(request)
    req = rest_request(request)
    node = serving_node(request)
    p = req.params
    options = indices_options(p)
    p.consume("flat_settings", "include_defaults", "local", "master_timeout")
    p.check_unrecognized()
    indices = indices_of(node.cluster_state().metadata)
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
    node = serving_node(request)
    options = indices_options(req.params)
    req.params.check_unrecognized()
    indices = indices_of(node.cluster_state().metadata)
    names = resolve_indices(split_by_comma(request.match_info.get("index")), indices, options)
    async with rest_task(request, REFRESH, cancellable=False) as task:
        body = await node.data.refresh.execute(task, names)
    return req.respond(body)
