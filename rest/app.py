"""The aiohttp application of one node: routes and the ES conventions every response follows (DESIGN §8).

- errors are rendered in ES's format by one middleware, never as a traceback;
- a wrong method is a 405 with `Allow`, an unknown path a 400 `no handler found`;
- every response carries `X-elastic-product: Elasticsearch`, and echoes `X-Opaque-Id`;
- a request body is read whole before the handler, under the node's limits (`rest.http_limits`): too large is a
  bare 413 (checked before anything else, as ES's Netty pipeline does), too many bytes in flight a 429, a client
  that stops sending is disconnected.

Rendering an error can itself fail (a response parameter that cannot be parsed, a bug in a renderer): the error is
then written without response parameters, as ES answers a request whose channel it could not build, and a failure
of that is answered by `last_resort_response`, which cannot fail. No request ever reaches aiohttp's plain-text 500.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Set

from aiohttp import web

from node.actions.support.services import NodeServices
from node.common.rest_capabilities import CapabilityCheck
from node.errors import ElasticsearchError, PlainRestError
from node.loop_lag import LoopLagMonitor
from rest.app_keys import REST_REQUEST, SERVICES
from rest.context import RestRequest, netty_text
from rest.cors import allow_cluster_origins, refuse_foreign_changes
from rest.handlers import (
    aliases,
    cancel,
    capabilities,
    cat,
    cat_indices,
    cat_tasks,
    cluster,
    data_streams,
    documents,
    events,
    faults,
    index_settings,
    indices,
    loop_lag,
    nodes,
    reindex,
    root,
    search,
    settings,
    sim,
    stats,
    task_get,
    tasks,
    ui,
)
from rest.http_limits import (
    HTTP_LIMITS,
    IN_FLIGHT_REQUESTS,
    ContentTooLarge,
    HttpLimits,
    InFlightRequestsBreaker,
    ReadTimedOut,
    admitted_body,
    check_content_length,
    closed_connection,
    expect_continue,
    refuse_too_large,
)
from rest.security import security_middlewares, security_routes

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
    ("GET", "/_sim/loop_lag", loop_lag.loop_lag),
    ("POST", "/_sim/loop_lag/_reset", loop_lag.reset_loop_lag),
    ("GET", "/_sim/events", events.stream_events),
    ("GET", "/_sim/ui", ui.ui_redirect),
    ("GET", "/_sim/ui/", ui.ui_index),
    ("GET", "/_sim/ui/{asset}", ui.ui_asset),
    ("GET", "/_capabilities", capabilities.capabilities),
    ("GET", "/_cluster/health", cluster.health),
    ("GET", "/_cluster/health/{index}", cluster.health),
    # `_nodes/stats` before nodes info's `/_nodes/{node_id}/{metric}`, so `stats` is never taken for a node or metric.
    ("GET", "/_nodes/stats", stats.nodes_stats),
    ("GET", "/_nodes/stats/{metric}", stats.nodes_stats),
    ("GET", "/_nodes/stats/{metric}/{index_metric}", stats.nodes_stats),
    ("GET", "/_nodes/{node_id}/stats", stats.nodes_stats),
    ("GET", "/_nodes/{node_id}/stats/{metric}", stats.nodes_stats),
    ("GET", "/_nodes/{node_id}/stats/{metric}/{index_metric}", stats.nodes_stats),
    ("GET", "/_cluster/stats", stats.cluster_stats),
    ("GET", "/_cluster/stats/nodes/{node_id}", stats.cluster_stats),
    ("GET", "/_nodes", nodes.nodes_info),
    ("GET", "/_nodes/{node_id_or_metric}", nodes.nodes_info),
    ("GET", "/_nodes/{node_id}/{metric}", nodes.nodes_info),
    ("GET", "/_nodes/{node_id}/info/{metric}", nodes.nodes_info),
    ("GET", "/_cat", cat.cat_index),
    ("GET", "/_cat/nodes", cat.cat_nodes),
    ("GET", "/_cat/master", cat.cat_master),
    ("GET", "/_cat/health", cat.cat_health),
    ("GET", "/_cat/aliases", cat.cat_aliases),
    ("GET", "/_cat/aliases/{alias}", cat.cat_aliases),
    ("GET", "/_cat/tasks", cat_tasks.cat_tasks),
    # The data plane. Routes starting with `{index}` come last: explicit paths win, as in ES's path trie.
    ("GET", "/_cluster/settings", settings.get_cluster_settings),
    ("PUT", "/_cluster/settings", settings.put_cluster_settings),
    ("GET", "/_cat/indices", cat_indices.cat_indices),
    ("GET", "/_cat/indices/{index}", cat_indices.cat_indices),
    ("GET", "/_cat/shards", cat_indices.cat_shards),
    ("GET", "/_cat/shards/{index}", cat_indices.cat_shards),
    ("GET", "/_alias", aliases.get_aliases),
    ("GET", "/_data_stream", data_streams.get_data_streams),
    ("GET", "/_data_stream/{name}", data_streams.get_data_streams),
    ("GET", "/_aliases", aliases.get_aliases),
    ("POST", "/_aliases", aliases.update_aliases),
    ("GET", "/_alias/{name}", aliases.get_aliases),
    ("HEAD", "/_alias/{name}", aliases.get_aliases),
    ("GET", "/_settings", index_settings.get_settings),
    ("PUT", "/_settings", index_settings.put_settings),
    ("GET", "/_settings/{name}", index_settings.get_settings),
    ("GET", "/_mapping", index_settings.get_mapping),
    ("GET", "/_stats", stats.indices_stats),
    ("GET", "/_stats/{metric}", stats.indices_stats),
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
    ("GET", "/{index}/_alias", aliases.get_aliases),
    ("HEAD", "/{index}/_alias", aliases.get_aliases),
    ("GET", "/{index}/_aliases", aliases.get_aliases),
    ("GET", "/{index}/_alias/{name}", aliases.get_aliases),
    ("HEAD", "/{index}/_alias/{name}", aliases.get_aliases),
    ("PUT", "/{index}/_alias/{name}", aliases.put_alias),
    ("POST", "/{index}/_alias/{name}", aliases.put_alias),
    ("PUT", "/{index}/_aliases/{name}", aliases.put_alias),
    ("POST", "/{index}/_aliases/{name}", aliases.put_alias),
    ("DELETE", "/{index}/_alias/{name}", aliases.delete_alias),
    ("DELETE", "/{index}/_aliases/{name}", aliases.delete_alias),
    ("GET", "/{index}/_settings", index_settings.get_settings),
    ("PUT", "/{index}/_settings", index_settings.put_settings),
    ("GET", "/{index}/_settings/{name}", index_settings.get_settings),
    ("GET", "/{index}/_setting/{name}", index_settings.get_settings),
    ("GET", "/{index}/_mapping", index_settings.get_mapping),
    ("PUT", "/{index}/_mapping", index_settings.put_mapping),
    ("POST", "/{index}/_mapping", index_settings.put_mapping),
    ("POST", "/{index}/_close", index_settings.close_index),
    ("POST", "/{index}/_open", index_settings.open_index),
    ("GET", "/{index}/_stats", stats.indices_stats),
    ("GET", "/{index}/_stats/{metric}", stats.indices_stats),
    ("GET", "/{index}/_search", search.search),
    ("POST", "/{index}/_search", search.search),
    ("GET", "/{index}/_count", search.count),
    ("POST", "/{index}/_count", search.count),
    ("POST", "/_refresh", indices.refresh),
    ("GET", "/_refresh", indices.refresh),
    ("POST", "/{index}/_refresh", indices.refresh),
    ("GET", "/{index}/_refresh", indices.refresh),
    ("GET", "/_mget", documents.multi_get),
    ("POST", "/_mget", documents.multi_get),
    ("GET", "/{index}/_mget", documents.multi_get),
    ("POST", "/{index}/_mget", documents.multi_get),
    ("GET", "/{index}/_doc/{id}", documents.get_document),
    ("HEAD", "/{index}/_doc/{id}", documents.document_exists),
    ("GET", "/{index}/_source/{id}", documents.get_source),
    ("HEAD", "/{index}/_source/{id}", documents.source_exists),
    ("POST", "/{index}/_update/{id}", documents.update_document),
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
    return netty_text(request.raw_path)


def _plain(message: str, status: int, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"error": message, "status": status}, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})})


def _error_response(request: web.Request, error: ElasticsearchError) -> web.Response:
    """`error` as ES renders it, honouring the response parameters when the request got that far."""
    es_request = request.get(REST_REQUEST)
    if isinstance(es_request, RestRequest):
        try:
            return es_request.respond(error.to_response_body(), status=error.status, filtered=False)
        except Exception:  # a response parameter or a renderer failed: answer without them, and log the bug
            log.exception("failed to render [%s] with the response parameters of %s", error.es_type, _uri(request))
    body = json.dumps(error.to_response_body(), separators=(",", ":")).encode()
    return web.Response(body=body, status=error.status, headers={"Content-Type": "application/json"})


_LAST_RESORT_BODY = (
    b'{"error":{"root_cause":[{"type":"exception","reason":"internal error"}],"type":"exception",'
    b'"reason":"internal error"},"status":500}'
)


def last_resort_response(error: BaseException) -> web.Response:
    """ES's 500 for a failure nothing else could render: `exception` with the failure's own text when it has one.

    Built from plain strings and `json.dumps` with ASCII escapes, so that it cannot fail in turn.
    """
    try:
        body = ElasticsearchError(f"{type(error).__name__}: {error}").to_response_body()
        data = json.dumps(body, separators=(",", ":")).encode("ascii")
    except Exception:  # noqa: BLE001 - even the failure's own text cannot be read
        data = _LAST_RESORT_BODY
    return web.Response(body=data, status=500, headers={"Content-Type": "application/json"})


def _method_not_allowed(request: web.Request, allowed: set[str]) -> web.Response:
    ordered = [m for m in _METHOD_ORDER if m in allowed]
    allow = ",".join(ordered)
    if request.method == "OPTIONS":
        return web.Response(status=200, headers={"Allow": allow})
    message = f"Incorrect HTTP method for uri [{_uri(request)}] and method [{request.method}], allowed: [{', '.join(ordered)}]"
    return _plain(message, 405, {"Allow": allow})


async def _dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        try:
            request[REST_REQUEST] = RestRequest.from_http(request)
            if request.match_info.http_exception is not None:  # no route: nothing to read the body for
                return await handler(request)
            async with admitted_body(request):
                return await handler(request)
        except web.HTTPMethodNotAllowed as e:
            return _method_not_allowed(request, set(e.allowed_methods))
        except web.HTTPNotFound:
            return _plain(f"no handler found for uri [{_uri(request)}] and method [{request.method}]", 400)
        except ElasticsearchError as e:
            return _error_response(request, e)
        except PlainRestError as e:
            return _plain(e.message, e.status, e.headers)
    except (ContentTooLarge, ReadTimedOut):  # answered by the middleware, below ES's REST layer
        raise
    except Exception as e:  # a bug: ES-shaped 500 for the client, the traceback only in the node log
        log.exception("unexpected failure serving %s %s", request.method, _uri(request))
        return _error_response(request, ElasticsearchError(f"{type(e).__name__}: {e}"))


@web.middleware
async def es_conventions(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        check_content_length(request)
        response = await _dispatch(request, handler)
    except ContentTooLarge:  # answered below ES's REST layer: no ES headers
        return await refuse_too_large(request)
    except ReadTimedOut:
        return closed_connection(request)
    except Exception as e:  # rendering the 500 of a bug failed too
        log.exception("failed to answer %s %s", request.method, _uri(request))
        response = last_resort_response(e)
    finally:
        # The RestRequest refers to the request that stores it: without this the pair (and a body read for it)
        # would wait for Python's cyclic collector, which an idle node may not run for a long time.
        request.pop(REST_REQUEST, None)
    response.headers["X-elastic-product"] = "Elasticsearch"
    opaque_id = request.headers.get("X-Opaque-Id")
    if opaque_id is not None:
        response.headers["X-Opaque-Id"] = netty_text(opaque_id)
    return response


_PATH_VARIABLE = re.compile(r"\{([_a-zA-Z][_a-zA-Z0-9]*)\}")


def _any_segment(path: str) -> str:
    """Lets each path variable take any one segment, braces included: ES routes match whatever lies between two
    slashes, so a URL-encoded date-math name (`/%3Clogs-%7Bnow%2Fd%7D%3E/_search`) reaches its handler, where
    aiohttp's default pattern refuses `{` and `}`."""
    return _PATH_VARIABLE.sub(lambda m: "{" + m.group(1) + ":[^/]+}", path)


async def _without_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """ES's HTTP layer names no server software; aiohttp would send `Server: Python/3.x aiohttp/3.x`."""
    response.headers.popall("Server", None)


def build_app(services: NodeServices) -> web.Application:
    config = services.config
    limits = HttpLimits.of(config)
    # authentication inside the ES conventions
    middlewares = [es_conventions, refuse_foreign_changes, *security_middlewares(config)]
    app = web.Application(middlewares=middlewares, client_max_size=limits.max_content_length)
    app[SERVICES] = services
    app.on_response_prepare.append(allow_cluster_origins)
    app.on_response_prepare.append(_without_server_header)
    app[HTTP_LIMITS] = limits
    app[IN_FLIGHT_REQUESTS] = InFlightRequestsBreaker(config.inflight_requests_limit)
    app[loop_lag.LOOP_LAG] = LoopLagMonitor()
    app.cleanup_ctx.append(loop_lag.run_loop_lag_monitor)
    for method, path, handler in [*ROUTES, *security_routes(config)]:
        app.router.add_route(method, _any_segment(path), handler, expect_handler=expect_continue)
    services.rest_capabilities.install(capability_check(app))
    return app


def capability_check(app: web.Application) -> CapabilityCheck:
    """ES `RestController#checkSupported` over this app's routes: a route for the method whose path pattern matches.

    Handlers here declare no capabilities, so any capability asked makes it unsupported; parameters are not
    checked (ES's answer for a handler whose `supportedQueryParameters` is null). An explicit path wins over an
    `{index}` route, as in dispatch: `DELETE /_tasks` is a 405 here, so it is not supported.
    """

    def check(method: str, path: str, parameters: Set[str], wanted: Set[str]) -> bool:
        if wanted:
            return False
        matching = []
        for resource in app.router.resources():
            info = resource.get_info()
            pattern = info.get("pattern")
            if info.get("path") == path or (pattern is not None and pattern.fullmatch(path) is not None):
                matching.append((info.get("formatter", "").startswith("/{index}"), resource))
        explicit = [resource for by_index, resource in matching if not by_index]
        candidates = explicit or [resource for _, resource in matching]
        return any(route.method == method for resource in candidates for route in resource)

    return check
