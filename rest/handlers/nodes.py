"""`GET /_nodes`, `/_nodes/{node_id|metric}`, `/_nodes/{node_id}/{metric}` (ES `RestNodesInfoAction`).

`GET /_nodes/_all/http` is what client sniffing reads: `nodes.*.http.publish_address`.
"""

from __future__ import annotations

from aiohttp import web

from node.actions.nodes_info import ALLOWED_METRICS, NodesInfoAction, NodesInfoRequest
from rest.app_keys import rest_client, rest_request, services
from rest.params import unrecognized
from rest.render import nodes_header

__all__ = ["nodes_info"]


def _split(text: str) -> list[str]:
    return [t for t in (part.strip() for part in text.split(",")) if t]


def _targets(request: web.Request) -> tuple[list[str], list[str]]:
    """Node selectors and metrics from the path; a lone segment made only of metric names is metrics."""
    match = request.match_info
    if "metric" in match:
        return _split(match["node_id"]), _split(match["metric"])
    if "node_id_or_metric" in match:
        tokens = _split(match["node_id_or_metric"])
        if tokens and set(tokens) <= set(ALLOWED_METRICS):
            return [], tokens
        return tokens, ["_all"]
    return [], ["_all"]


async def nodes_info(request: web.Request) -> web.Response:
    req = rest_request(request)
    selectors, metrics = _targets(request)
    timeout = req.params.time("timeout")
    req.params.consume("flat_settings", "master_timeout")
    invalid = sorted({m for m in metrics if m != "_all" and m not in ALLOWED_METRICS})
    if invalid:
        raise unrecognized(request.path, invalid, ALLOWED_METRICS, "metric")
    req.params.check_unrecognized()
    result = await rest_client(request).execute(NodesInfoAction, NodesInfoRequest(selectors, metrics, timeout))
    body = {
        "_nodes": nodes_header(len(result.infos), result.failures),
        "cluster_name": services(request).config.cluster_name,
        "nodes": result.infos,
    }
    return req.respond(body)
