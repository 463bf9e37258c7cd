"""Stats for monitoring tools: `GET /_nodes/stats` (ES `RestNodesStatsAction`), `GET /_stats` and `/{index}/_stats`
(ES `RestIndicesStatsAction`), `GET /_cluster/stats` (ES `RestClusterStatsAction`).

The routes of `_nodes/stats` are registered before `/_nodes/{node_id}/{metric}` of nodes info, so `stats` is never
taken for a node selector or a metric: ES's path trie prefers the literal segment the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from node.actions.cluster_stats import ClusterStatsAction, ClusterStatsRequest, cluster_stats_sections
from node.actions.indices_stats import IndicesStatsAction, IndicesStatsRequest
from node.actions.nodes_stats import LEVELS, NODE_METRICS, NodesStatsAction, NodesStatsRequest
from node.cluster.state import ClusterState
from node.data.allocation import copies_of, routing_view
from node.data.health import cluster_health
from node.data.index_metadata import indices_of
from node.data.index_resolver import resolve_indices
from node.errors import IllegalArgumentError
from node.indices.shard_stats import INDEX_METRICS, add_stats
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.handlers.indices import indices_options
from rest.params import Params, split_by_comma, unrecognized
from rest.render import nodes_header

__all__ = ["cluster_stats", "indices_stats", "indices_stats_body", "nodes_stats"]

# Parameters ES reads for index metrics this simulator has no fields for (fielddata, completion, search groups).
_FIELD_PARAMS = (
    "fields",
    "completion_fields",
    "fielddata_fields",
    "groups",
    "include_segment_file_sizes",
    "include_unloaded_segments",
)
_INDEX_LEVELS = ("cluster", "indices", "shards")


def _level(params: Params, allowed: Sequence[str], default: str) -> str:
    """ES `NodeStatsLevel#of` / `ClusterStatsLevel#of`."""
    level = params.str("level") or default
    if level not in allowed:
        choices = " or ".join(f"[{name}]" for name in allowed)
        raise IllegalArgumentError(f"level parameter must be one of {choices} but was [{level}]")
    return level


def _nodes_metrics(request: web.Request) -> tuple[list[str], list[str]]:
    """The metrics and index metrics of a nodes-stats path, validated as ES `RestNodesStatsAction` does."""
    path = request.path
    raw_metric = request.match_info.get("metric")
    raw_index_metric = request.match_info.get("index_metric")
    metrics = set(split_by_comma(raw_metric)) or {"_all"}
    if metrics == {"_all"}:
        if raw_index_metric is not None:
            raise IllegalArgumentError(
                f"request [{path}] contains index metrics [{raw_index_metric}] but all stats requested"
            )
        return [], []
    if "_all" in metrics:
        raise IllegalArgumentError(f"request [{path}] contains _all and individual metrics [{raw_metric}]")
    invalid = sorted(m for m in metrics if m not in NODE_METRICS and m != "indices")
    if invalid:
        raise unrecognized(path, invalid, NODE_METRICS, "metric")
    index_metrics: list[str] = []
    if "indices" in metrics:
        wanted = set(split_by_comma(raw_index_metric)) or {"_all"}
        if wanted != {"_all"}:
            bad = sorted(m for m in wanted if m not in INDEX_METRICS)
            if bad:
                raise unrecognized(path, bad, INDEX_METRICS, "index metric")
            index_metrics = sorted(wanted)
    elif raw_index_metric is not None:
        raise IllegalArgumentError(
            f"request [{path}] contains index metrics [{raw_index_metric}] but indices stats not requested"
        )
    return sorted(metrics), index_metrics


async def nodes_stats(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    selectors = split_by_comma(request.match_info.get("node_id"))
    timeout = p.time("timeout")
    level = _level(p, LEVELS, "node")
    p.consume(*_FIELD_PARAMS, "types")
    metrics, index_metrics = _nodes_metrics(request)
    p.check_unrecognized()
    stats_request = NodesStatsRequest(selectors, metrics, index_metrics, level, timeout)
    result = await rest_client(request).execute(NodesStatsAction, stats_request)
    body = {
        "_nodes": nodes_header(len(result.stats), result.failures),
        "cluster_name": cluster_state(request).cluster_name,
        "nodes": result.stats,
    }
    return req.respond(body)


def _stats_metrics(request: web.Request) -> list[str]:
    """ES `RestIndicesStatsAction`: `_all` (or nothing) for every metric, else known flag names only."""
    raw = request.match_info.get("metric")
    metrics = set(split_by_comma(raw)) or {"_all"}
    if metrics == {"_all"}:
        return []
    if "_all" in metrics:
        raise IllegalArgumentError(f"request [{request.path}] contains _all and individual metrics [{raw}]")
    invalid = sorted(m for m in metrics if m not in INDEX_METRICS)
    if invalid:
        raise unrecognized(request.path, invalid, INDEX_METRICS, "metric")
    return sorted(metrics)


def _only(stats: Mapping[str, Any], metrics: Sequence[str]) -> dict[str, Any]:
    if not metrics:
        return dict(stats)
    wanted = {INDEX_METRICS[m] for m in metrics}
    return {k: v for k, v in stats.items() if k in wanted}


def indices_stats_body(
    state: ClusterState,
    names: Sequence[str],
    copy_stats: Mapping[tuple[str, int, str], Mapping[str, Any]],
    failed_nodes: set[str],
    metrics: Sequence[str] = (),
    level: str = "indices",
) -> dict[str, Any]:
    """The body of `GET /_stats` from each copy's stats, in ES `IndicesStatsResponse` order.

    Every copy of every named index counts in `_shards.total`; a copy on a node that failed to answer counts as
    failed, one that is unassigned or has no stats yet counts in neither (as ES's broadcast-by-node actions do).
    """
    metadata = routing_view(state.metadata, set(state.nodes))
    indices = indices_of(metadata)
    health = cluster_health(metadata, names, set(state.nodes))
    total = successful = failed = 0
    all_primaries: dict[str, Any] = {}
    all_total: dict[str, Any] = {}
    entries: dict[str, Any] = {}
    for name in names:
        index = indices[name]
        primaries: dict[str, Any] = {}
        index_total: dict[str, Any] = {}
        shards: dict[str, list[dict[str, Any]]] = {}
        for shard_id, copies in enumerate(copies_of(metadata, name)):
            for copy in copies:
                total += 1
                if copy.node is not None and copy.node in failed_nodes:
                    failed += 1
                    continue
                stats = copy_stats.get((index.uuid, shard_id, copy.node)) if copy.node is not None else None
                if stats is None:
                    continue
                successful += 1
                selected = _only(stats, metrics)
                add_stats(index_total, selected)
                if copy.primary:
                    add_stats(primaries, selected)
                routing = {"state": copy.state, "primary": copy.primary, "node": copy.node, "relocating_node": None}
                shards.setdefault(str(shard_id), []).append({"routing": routing, **selected})
        add_stats(all_primaries, primaries)
        add_stats(all_total, index_total)
        entry: dict[str, Any] = {
            "uuid": index.uuid,
            "health": health.indices[name].status if name in health.indices else "red",
            "status": index.state,
            "primaries": primaries,
            "total": index_total,
        }
        if level == "shards":
            entry["shards"] = shards
        entries[name] = entry
    body: dict[str, Any] = {
        "_shards": {"total": total, "successful": successful, "failed": failed},
        "_all": {"primaries": all_primaries, "total": all_total},
    }
    if level != "cluster":
        body["indices"] = entries
    return body


async def indices_stats(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    options = indices_options(p)
    level = _level(p, _INDEX_LEVELS, "indices")
    p.consume(*_FIELD_PARAMS, "forbid_closed_indices")
    metrics = _stats_metrics(request)
    p.check_unrecognized()
    state = cluster_state(request)
    indices = indices_of(state.metadata)
    names = resolve_indices(split_by_comma(request.match_info.get("index")), indices, options)
    shard_counts = {indices[n].uuid: indices[n].number_of_shards for n in names if indices[n].uuid != "_na_"}
    result = await rest_client(request).execute(IndicesStatsAction, IndicesStatsRequest(shard_counts, True))
    failed_nodes = {str(f.metadata.get("node_id")) for f in result.failures}
    return req.respond(indices_stats_body(state, names, result.stats, failed_nodes, metrics, level))


async def cluster_stats(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    selectors = split_by_comma(request.match_info.get("node_id"))
    timeout = p.time("timeout")
    p.consume("include_remotes", "flat_settings")
    p.check_unrecognized()
    result = await rest_client(request).execute(ClusterStatsAction, ClusterStatsRequest(selectors, timeout))
    body = {"_nodes": nodes_header(len(result.nodes), result.failures)}
    body.update(cluster_stats_sections(cluster_state(request), result))
    return req.respond(body)
