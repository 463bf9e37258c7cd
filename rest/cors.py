"""Cross-origin access to the simulator-only endpoints, for the live view (`/_sim/ui/`).

The page is served by one node and follows every node (`/_sim/events`) and installs faults on every node
(`/_sim/faults`), so those requests cross origins. Only `/_sim/` paths answer them, and only for pages served from
the hosts of this cluster's nodes (`node.common.origins`): the Elasticsearch API itself keeps ES's default, no CORS
headers at all (`http.cors.enabled` is false in ES by default).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from node.common.origins import is_cluster_origin
from node.errors import ElasticsearchError
from rest.app_keys import services

__all__ = ["allow_cluster_origins", "refuse_foreign_changes"]

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


@web.middleware
async def refuse_foreign_changes(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refuses a `/_sim/` change (a fault, a heal, a test task) sent by a page of another site.

    Withholding CORS headers only keeps such a page from reading the answer: a form post or a `no-cors` fetch is
    sent without a preflight and would still act. A browser names the page's origin in `Origin`; a change whose
    origin is not one of this cluster's hosts gets a 403 before its handler runs. Clients that are not browsers
    send no `Origin` and are not affected.
    """
    origin = request.headers.get("Origin")
    if (
        origin is not None
        and request.method not in _READS
        and request.path.startswith("/_sim/")
        and not is_cluster_origin(origin, services(request).events.http_addresses())
    ):
        raise ElasticsearchError(
            f"cross-origin request to [{request.path}] from [{origin}] is refused: only pages served by this "
            "cluster's hosts may change it",
            es_type="security_exception",
            status=403,
        )
    return await handler(request)


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
