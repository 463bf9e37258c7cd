"""`GET /_capabilities` (ES `RestNodesCapabilitiesAction`, 8.15+): whether every node serves a method and path with
the given parameters and capabilities. Clients and YAML test runners gate on it.

`method` (default `GET`, one of ES's `RestRequest.Method` names, case-sensitive as Java's `valueOf`), `path`
(default `/`, URL-decoded), `parameters` and `capabilities` (comma-separated), `local_only` (this node only) and
`timeout`. The answer is ES's nodes response: `_nodes`, `cluster_name`, `supported` (null when a node failed).

Each node checks its own routes (`rest.app.capability_check`): a route must exist for the method and path. No
simcluster handler declares capabilities, so asking for any is answered false; parameters are not checked, as ES
does for handlers that declare no supported parameters.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from aiohttp import web

from node.actions.nodes_capabilities import NodesCapabilitiesAction, NodesCapabilitiesRequest
from node.errors import IllegalArgumentError
from rest.app_keys import rest_client, rest_request, services
from rest.render import nodes_header

__all__ = ["capabilities"]

# ES `RestRequest.Method`, in declaration order.
METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT")


async def capabilities(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    local_only = p.bool("local_only", False)
    path = unquote_plus(p.str("path", "/") or "")
    timeout = p.time("timeout")
    method = p.str("method", "GET") or ""
    if method not in METHODS:
        raise IllegalArgumentError(f"No enum constant org.elasticsearch.rest.RestRequest.Method.{method}")
    parameters, wanted = p.list("parameters"), p.list("capabilities")
    p.check_unrecognized()
    check = NodesCapabilitiesRequest(
        method, path, tuple(parameters), tuple(wanted), ("_local",) if local_only else (), timeout
    )
    result = await rest_client(request).execute(NodesCapabilitiesAction, check)
    body = {
        "_nodes": nodes_header(len(result.supported), result.failures),
        "cluster_name": services(request).config.cluster_name,
        "supported": result.all_supported,
    }
    return req.respond(body)
