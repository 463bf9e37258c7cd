"""`GET /_alias` and `GET /{index}/_alias` (ES `RestGetAliasesAction`).

simcluster has no aliases, so every index answers with an empty `aliases` object, as an ES index without aliases
does. Monitoring tools (the Prometheus exporter's alias metrics) read this next to `GET /_stats`.
"""

from __future__ import annotations

from aiohttp import web

from node.data.index_metadata import indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from rest.app_keys import cluster_state, rest_request
from rest.handlers.indices import indices_options
from rest.params import split_by_comma

__all__ = ["get_aliases"]


async def get_aliases(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    # ES GetAliasesRequest: strictExpandHidden, so hidden indices are listed unless expand_wildcards says otherwise.
    options = indices_options(p) if p.has("expand_wildcards") else IndicesOptions(expand_hidden=True)
    p.consume("local", "master_timeout", "ignore_unavailable", "allow_no_indices")
    p.check_unrecognized()
    indices = indices_of(cluster_state(request).metadata)
    names = resolve_indices(split_by_comma(request.match_info.get("index")), indices, options)
    return req.respond({name: {"aliases": {}} for name in sorted(names)})
