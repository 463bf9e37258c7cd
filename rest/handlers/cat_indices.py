"""`GET /_cat/indices[/{index}]` and `GET /_cat/shards[/{index}]` (ES `RestIndicesAction`, `RestShardsAction`).

Both read the routing from the applied cluster state and per-copy document counts from an `indices:monitor/stats`
fan-out (its top-level task and one `[n]` child per data node). `_cat/indices` hides hidden indices (`.tasks`)
unless `expand_wildcards` includes them, as ES does; `_cat/shards` lists every shard copy, `.tasks` included. Rows
are sorted by index name, then shard, primary first (ES leaves the index order unspecified).

Sizes are simulated: 256 bytes per document plus 225 bytes per copy (what an empty ES shard reports), whatever the
documents' sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.actions.indices_stats import IndicesStatsAction, IndicesStatsRequest
from node.data.allocation import copies_of, routing_view
from node.data.health import cluster_health
from node.data.index_metadata import IndexMetadata, indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.errors import IllegalArgumentError
from node.human import format_byte_size, format_iso_millis
from node.indices.shard_stats import simulated_size
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.cat import CAT_RESPONSE_PARAMS, CatTable, Cell, Column, cat_response
from rest.cat_columns import SHARDS_COLUMNS
from rest.handlers.indices import indices_options
from rest.params import Params, split_by_comma

__all__ = ["INDICES_COLUMNS", "SHARDS_COLUMNS", "cat_indices", "cat_shards", "format_bytes", "simulated_size"]

_BYTES_PARAM = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


def format_bytes(size: int, unit: str | None = None) -> str:
    """ES `ByteSizeValue#toString` (one decimal, truncated, `.0` dropped), or a whole count in `?bytes=<unit>`."""
    if unit in _BYTES_PARAM:
        return str(size // _BYTES_PARAM[unit])
    return format_byte_size(size)


INDICES_COLUMNS = (
    Column("health", ("h",), True, "current health status"),
    Column("status", ("s",), True, "open/close status"),
    Column("index", ("i", "idx"), True, "index name"),
    Column("uuid", ("id", "uuid"), True, "index uuid"),
    Column("pri", ("p", "shards.primary", "shardsPrimary"), True, "number of primary shards", "right"),
    Column("rep", ("r", "shards.replica", "shardsReplica"), True, "number of replica shards", "right"),
    Column("docs.count", ("dc", "docsCount"), True, "available docs", "right"),
    Column("docs.deleted", ("dd", "docsDeleted"), True, "deleted docs", "right"),
    Column("creation.date", ("cd",), False, "index creation date (millisecond value)", "right"),
    Column("creation.date.string", ("cds",), False, "index creation date (as string)", "right"),
    Column("store.size", ("ss", "storeSize"), True, "store size of primaries & replicas", "right"),
    Column("pri.store.size", (), True, "store size of primaries", "right"),
    Column("dataset.size", (), True, "total size of dataset", "right"),
)


def _help(request: web.Request, columns: tuple[Column, ...]) -> web.Response | None:
    req = rest_request(request)
    if not req.params.bool("help", False):
        return None
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    return cat_response(CatTable(columns=columns), req.params, request.headers.get("Accept"))


def _selected(request: web.Request, indices: Mapping[str, IndexMetadata], options: IndicesOptions) -> list[str]:
    expressions = split_by_comma(request.match_info.get("index"))
    return resolve_indices(expressions, indices, options)


async def _copy_docs(request: web.Request, indices: Mapping[str, IndexMetadata], names: list[str]) -> dict[Any, int]:
    chosen = [indices[n] for n in names if indices[n].uuid != "_na_"]
    stats_request = IndicesStatsRequest({i.uuid: i.number_of_shards for i in chosen})
    stats = await rest_client(request).execute(IndicesStatsAction, stats_request)
    return stats.docs


def _bytes_unit(params: Params) -> str | None:
    return params.str("bytes")


def _health_filter(value: str | None) -> str | None:
    """ES `ClusterHealthStatus#fromString`, case-insensitive, which `RestIndicesAction` reads `health` with.

    Raises:
        IllegalArgumentError: `unknown cluster health status [x]`.
    """
    if value is None:
        return None
    if value.lower() not in ("green", "yellow", "red"):
        raise IllegalArgumentError(f"unknown cluster health status [{value}]")
    return value.lower()


async def cat_indices(request: web.Request) -> web.Response:
    helped = _help(request, INDICES_COLUMNS)
    if helped is not None:
        return helped
    req = rest_request(request)
    p = req.params
    options = indices_options(p, expand_closed=True)  # ES `RestIndicesAction`: `strictExpand`
    health_filter = _health_filter(p.str("health"))
    p.consume("local", "master_timeout", "include_unloaded_segments", "pri")
    p.check_unrecognized(CAT_RESPONSE_PARAMS)
    state = cluster_state(request)
    metadata = routing_view(state.metadata, set(state.nodes))
    indices = indices_of(metadata)
    names = _selected(request, indices, options)
    docs = await _copy_docs(request, indices, names)
    health = cluster_health(metadata, names, set(state.nodes))
    unit = _bytes_unit(p)
    table = CatTable(columns=INDICES_COLUMNS)
    for name in names:
        index = indices[name]
        status = health.indices[name].status if name in health.indices else "red"
        if health_filter is not None and status != health_filter:
            continue
        primary_docs: int | None = None
        total_size = primary_size = 0
        # A closed index has no statistics in ES: its document and size cells stay empty.
        for shard_id, copies in enumerate(copies_of(metadata, name) if not index.is_closed else ()):
            for copy in copies:
                count = docs.get((index.uuid, shard_id, copy.node)) if copy.active else None
                if count is None:
                    continue
                total_size += simulated_size(count)
                if copy.primary:
                    primary_docs = (primary_docs or 0) + count
                    primary_size += simulated_size(count)
        row: dict[str, Cell] = {
            "health": status,
            "status": index.state,
            "index": name,
            "uuid": index.uuid,
            "pri": index.number_of_shards,
            "rep": index.number_of_replicas,
            "docs.count": primary_docs,
            "docs.deleted": 0 if primary_docs is not None else None,
            "creation.date": index.creation_date,
            "creation.date.string": format_iso_millis(index.creation_date),
            "store.size": format_bytes(total_size, unit) if primary_docs is not None else None,
            "pri.store.size": format_bytes(primary_size, unit) if primary_docs is not None else None,
            "dataset.size": format_bytes(primary_size, unit) if primary_docs is not None else None,
        }
        table.rows.append(row)
    return cat_response(table, p, request.headers.get("Accept"))


async def cat_shards(request: web.Request) -> web.Response:
    helped = _help(request, SHARDS_COLUMNS)
    if helped is not None:
        return helped
    req = rest_request(request)
    p = req.params
    p.consume("local", "master_timeout")
    p.check_unrecognized(CAT_RESPONSE_PARAMS)
    state = cluster_state(request)
    metadata = routing_view(state.metadata, set(state.nodes))
    indices = indices_of(metadata)
    names = _selected(request, indices, IndicesOptions(expand_hidden=True))
    docs = await _copy_docs(request, indices, names)
    unit = _bytes_unit(p)
    table = CatTable(columns=SHARDS_COLUMNS)
    for name in names:
        index = indices[name]
        for shard_id, copies in enumerate(copies_of(metadata, name)):
            for copy in copies:
                holder = state.nodes.get(copy.node) if copy.node is not None else None
                count = docs.get((index.uuid, shard_id, copy.node)) if copy.active else None
                size = format_bytes(simulated_size(count), unit) if count is not None else None
                table.rows.append(
                    {
                        "index": name,
                        "shard": shard_id,
                        "prirep": "p" if copy.primary else "r",
                        "state": copy.state,
                        "docs": count,
                        "store": size,
                        "dataset": size,
                        "ip": holder.ip if holder is not None else None,
                        "id": holder.id if holder is not None else None,
                        "node": holder.name if holder is not None else None,
                        "unassigned.reason": copy.reason if copy.state == "UNASSIGNED" else None,
                        "recoverysource.type": copy.recovery.lower() if copy.recovery else None,
                    }
                )
    return cat_response(table, p, request.headers.get("Accept"))
