"""Cross-origin access to the simulator-only endpoints, for the live view (`/_sim/ui/`).

The page is served by one node and follows every node (`/_sim/events`) and installs faults on every node
(`/_sim/faults`), so those requests cross origins. Only `/_sim/` paths answer them, and only for pages served from
the hosts of this cluster's nodes (`node.common.origins`): the Elasticsearch API itself keeps ES's default, no CORS
headers at all (`http.cors.enabled` is false in ES by default).
"""

from __future__ import annotations

from aiohttp import web

from node.common.origins import is_cluster_origin
from rest.app_keys import services

__all__ = ["allow_cluster_origins"]


async def allow_cluster_origins(request: web.Request, response: web.StreamResponse) -> None:
    """An `on_response_prepare` hook: CORS headers on `/_sim/` answers to pages from this cluster's hosts."""
    origin = request.headers.get("Origin")
    if origin is None or not request.path.startswith("/_sim/"):
        return
    if not is_cluster_origin(origin, services(request).events.http_addresses()):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "GET,POST,DELETE")
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
