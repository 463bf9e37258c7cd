"""The aiohttp application of one node: routes and the ES conventions every response follows (DESIGN §8).

- errors are rendered in ES's format by one middleware, never as a traceback;
- a wrong method is a 405 with `Allow`, an unknown path a 400 `no handler found`;
- every response carries `X-elastic-product: Elasticsearch`, and echoes `X-Opaque-Id`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from node.actions.support.services import NodeServices
from node.errors import ElasticsearchError, PlainRestError
from rest.app_keys import REST_REQUEST, SERVICES
from rest.context import RestRequest
from rest.cors import allow_cluster_origins
from rest.handlers import (
    cancel,
    cat,
    cat_indices,
    cat_tasks,
    cluster,
    documents,
    events,
    faults,
    indices,
    nodes,
    reindex,
    root,
    search,
    settings,
    sim,
    task_get,
    tasks,
    ui,
)

__all__ = ["build_app"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Java's EnumSet order of RestRequest.Method, which is how ES lists allowed methods.
_METHOD_ORDER = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT")

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/", root.info),
    ("HEAD", "/", root.ping),
    ("GET", "/_tasks", tasks.list_tasks),
    ("POST", "/_tasks/_cancel", cancel.cancel_tasks),
    ("POST", "/_tasks/{task_id}/_cancel", cancel.cancel_tasks),
    ("GET", "/_tasks/{task_id}", task_get.get_task),
    ("POST", "/_sim/tasks", sim.start_test_tasks),
    ("GET", "/_sim/faults", faults.list_faults),
    ("POST", "/_sim/faults", faults.add_fault),
    ("POST", "/_sim/faults/_heal", faults.heal_faults),
    ("DELETE", "/_sim/faults/{fault_id}", faults.remove_fault),
    ("GET", "/_sim/events", events.stream_events),
    ("GET", "/_sim/ui", ui.ui_redirect),
    ("GET", "/_sim/ui/", ui.ui_index),
    ("GET", "/_sim/ui/{asset}", ui.ui_asset),
    ("GET", "/_cluster/health", cluster.health),
    ("GET", "/_cluster/health/{index}", cluster.health),
    ("GET", "/_nodes", nodes.nodes_info),
    ("GET", "/_nodes/{node_id_or_metric}", nodes.nodes_info),
    ("GET", "/_nodes/{node_id}/{metric}", nodes.nodes_info),
    ("GET", "/_cat", cat.cat_index),
    ("GET", "/_cat/nodes", cat.cat_nodes),
    ("GET", "/_cat/master", cat.cat_master),
    ("GET", "/_cat/tasks", cat_tasks.cat_tasks),
    # The data plane. Routes starting with `{index}` come last: explicit paths win, as in ES's path trie.
    ("GET", "/_cluster/settings", settings.get_cluster_settings),
    ("PUT", "/_cluster/settings", settings.put_cluster_settings),
    ("GET", "/_cat/indices", cat_indices.cat_indices),
    ("GET", "/_cat/indices/{index}", cat_indices.cat_indices),
    ("GET", "/_cat/shards", cat_indices.cat_shards),
    ("GET", "/_cat/shards/{index}", cat_indices.cat_shards),
    ("GET", "/_search", search.search),
    ("POST", "/_search", search.search),
    ("GET", "/_count", search.count),
    ("POST", "/_count", search.count),
    ("GET", "/_search/scroll", search.scroll),
    ("POST", "/_search/scroll", search.scroll),
    ("GET", "/_search/scroll/{scroll_id}", search.scroll),
    ("POST", "/_search/scroll/{scroll_id}", search.scroll),
    ("DELETE", "/_search/scroll", search.clear_scroll),
    ("DELETE", "/_search/scroll/{scroll_id}", search.clear_scroll),
    ("POST", "/_reindex", reindex.reindex),
    ("POST", "/_reindex/{task_id}/_rethrottle", reindex.rethrottle),
    ("POST", "/_update_by_query/{task_id}/_rethrottle", reindex.rethrottle),
    ("POST", "/_delete_by_query/{task_id}/_rethrottle", reindex.rethrottle),
    ("POST", "/{index}/_update_by_query", reindex.update_by_query),
    ("POST", "/{index}/_delete_by_query", reindex.delete_by_query),
    ("GET", "/{index}/_search", search.search),
    ("POST", "/{index}/_search", search.search),
    ("GET", "/{index}/_count", search.count),
    ("POST", "/{index}/_count", search.count),
    ("POST", "/_refresh", indices.refresh),
    ("GET", "/_refresh", indices.refresh),
    ("POST", "/{index}/_refresh", indices.refresh),
    ("GET", "/{index}/_refresh", indices.refresh),
    ("GET", "/{index}/_doc/{id}", documents.get_document),
    ("HEAD", "/{index}/_doc/{id}", documents.document_exists),
    ("POST", "/_bulk", documents.bulk),
    ("PUT", "/_bulk", documents.bulk),
    ("POST", "/{index}/_bulk", documents.bulk),
    ("PUT", "/{index}/_bulk", documents.bulk),
    ("POST", "/{index}/_doc", documents.index_document),
    ("PUT", "/{index}/_doc/{id}", documents.index_document),
    ("POST", "/{index}/_doc/{id}", documents.index_document),
    ("DELETE", "/{index}/_doc/{id}", documents.delete_document),
    ("PUT", "/{index}/_create/{id}", documents.create_document),
    ("POST", "/{index}/_create/{id}", documents.create_document),
    ("PUT", "/{index}", indices.create_index),
    ("DELETE", "/{index}", indices.delete_index),
    ("GET", "/{index}", indices.get_index),
    ("HEAD", "/{index}", indices.index_exists),
]


def _uri(request: web.Request) -> str:
    return request.raw_path


def _plain(message: str, status: int, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"error": message, "status": status}, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})})


def _error_response(request: web.Request, error: ElasticsearchError) -> web.Response:
    es_request = request.get(REST_REQUEST)
    if isinstance(es_request, RestRequest):
        return es_request.respond(error.to_response_body(), status=error.status)
    body = json.dumps(error.to_response_body(), separators=(",", ":")).encode()
    return web.Response(body=body, status=error.status, headers={"Content-Type": "application/json"})


def _method_not_allowed(request: web.Request, allowed: set[str]) -> web.Response:
    ordered = [m for m in _METHOD_ORDER if m in allowed]
    allow = ",".join(ordered)
    if request.method == "OPTIONS":
        return web.Response(status=200, headers={"Allow": allow})
    message = f"Incorrect HTTP method for uri [{_uri(request)}] and method [{request.method}], allowed: [{', '.join(ordered)}]"
    return _plain(message, 405, {"Allow": allow})


@web.middleware
async def es_conventions(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        try:
            request[REST_REQUEST] = RestRequest.from_http(request)
            response = await handler(request)
        except web.HTTPMethodNotAllowed as e:
            response = _method_not_allowed(request, set(e.allowed_methods))
        except web.HTTPNotFound:
            response = _plain(f"no handler found for uri [{_uri(request)}] and method [{request.method}]", 400)
        except ElasticsearchError as e:
            response = _error_response(request, e)
        except PlainRestError as e:
            response = _plain(e.message, e.status, e.headers)
    except Exception as e:  # a bug: ES-shaped 500 for the client, the traceback only in the node log
        log.exception("unexpected failure serving %s %s", request.method, request.raw_path)
        response = _error_response(request, ElasticsearchError(f"{type(e).__name__}: {e}"))
    response.headers["X-elastic-product"] = "Elasticsearch"
    opaque_id = request.headers.get("X-Opaque-Id")
    if opaque_id is not None:
        response.headers["X-Opaque-Id"] = opaque_id
    return response


def build_app(services: NodeServices) -> web.Application:
    app = web.Application(middlewares=[es_conventions], client_max_size=100 * 1024 * 1024)
    app[SERVICES] = services
    app.on_response_prepare.append(allow_cluster_origins)
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)
    return app
