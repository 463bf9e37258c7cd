"""`GET /_nodes`, `/_nodes/{node_id|metric}`, `/_nodes/{node_id}/{metric}` (ES `RestNodesInfoAction`).

`GET /_nodes/_all/http` is what client sniffing reads: `nodes.*.http.publish_address`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.actions.nodes_info import ALLOWED_METRICS, NodesInfoAction, NodesInfoRequest
from node.human import format_byte_size
from rest.app_keys import rest_client, rest_request, services
from rest.render import nodes_header

__all__ = ["nodes_info"]


def _split(text: str) -> list[str]:
    return [t for t in (part.strip() for part in text.split(",")) if t]


def _targets(request: web.Request) -> tuple[list[str], list[str]]:
    """Node selectors and metrics from the path (ES `RestNodesInfoAction#prepareRequest`): a lone segment made only
    of metric names is metrics; metrics other than `_all` that ES does not know are disregarded, so
    `/_nodes/_master/_none` is the master's basic information."""
    match = request.match_info
    if "metric" in match:
        selectors, metrics = _split(match["node_id"]), _split(match["metric"])
    elif "node_id_or_metric" in match:
        tokens = _split(match["node_id_or_metric"])
        if tokens and set(tokens) <= set(ALLOWED_METRICS):
            return [], tokens
        selectors, metrics = tokens, ["_all"]
    else:
        selectors, metrics = [], ["_all"]
    if set(metrics) == {"_all"}:
        return selectors, ["_all"]
    return selectors, [m for m in dict.fromkeys(metrics) if m in ALLOWED_METRICS]


def _with_human_fields(info: dict[str, Any]) -> dict[str, Any]:
    """`?human`: ES writes `total_indexing_buffer` (a byte size) before `total_indexing_buffer_in_bytes`."""
    if "total_indexing_buffer_in_bytes" not in info:
        return info
    out: dict[str, Any] = {}
    for key, value in info.items():
        if key == "total_indexing_buffer_in_bytes":
            out["total_indexing_buffer"] = format_byte_size(value)
        out[key] = value
    return out


async def nodes_info(request: web.Request) -> web.Response:
    req = rest_request(request)
    selectors, metrics = _targets(request)
    timeout = req.params.time("timeout")
    req.params.consume("flat_settings", "master_timeout")
    req.params.check_unrecognized()
    result = await rest_client(request).execute(NodesInfoAction, NodesInfoRequest(selectors, metrics, timeout))
    infos = {node: _with_human_fields(info) for node, info in result.infos.items()} if req.human else result.infos
    body = {
        "_nodes": nodes_header(len(result.infos), result.failures),
        "cluster_name": services(request).config.cluster_name,
        "nodes": infos,
    }
    return req.respond(body)
