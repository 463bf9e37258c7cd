"""`GET /_cat`, `/_cat/nodes`, `/_cat/master`, `/_cat/health` and `/_cat/aliases` (ES `RestNodesAction`,
`RestMasterAction`, `RestHealthAction`, `RestAliasAction`)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from node.actions.aliases import GetAliasesAction, GetAliasesRequest
from node.actions.cluster_health import DEFAULT_TIMEOUT, ClusterHealthAction, ClusterHealthRequest
from node.actions.cluster_state import ClusterStateAction, ClusterStateRequest
from node.actions.nodes_info import NodesInfoAction, NodesInfoRequest
from node.actions.nodes_stats import NodesStatsAction, NodesStatsRequest
from node.actions.support.master_node_action import DEFAULT_MASTER_TIMEOUT
from node.common.roles import abbreviate_roles
from node.data.index_resolver import IndicesOptions, parse_wildcard_states
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.cat import CAT_RESPONSE_PARAMS, CatTable, Cell, Column, Duration, cat_response, es_columns
from rest.cat_columns import NODES_COLUMNS
from rest.handlers.cat_indices import format_bytes
from rest.handlers.cluster import health_body
from rest.params import split_by_comma

__all__ = ["cat_aliases", "cat_health", "cat_index", "cat_master", "cat_nodes"]

CAT_ENDPOINTS = (  # in ES's handler registration order (ActionModule)
    "/_cat/shards",
    "/_cat/shards/{index}",
    "/_cat/master",
    "/_cat/nodes",
    "/_cat/tasks",
    "/_cat/indices",
    "/_cat/indices/{index}",
    "/_cat/health",
    "/_cat/aliases",
    "/_cat/aliases/{alias}",
)


def _help(request: web.Request, table: CatTable) -> web.Response | None:
    """`help`: the column list, read before anything else, so any other parameter is unrecognized (ES
    `AbstractCatAction#prepareRequest`); None when the request does not ask for it."""
    req = rest_request(request)
    if not req.params.bool("help", False):
        return None
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    return cat_response(table, req.params, request.headers.get("Accept"))


async def cat_index(request: web.Request) -> web.Response:
    rest_request(request).params.check_unrecognized()
    body = "=^.^=\n" + "".join(f"{path}\n" for path in CAT_ENDPOINTS)
    return web.Response(text=body, content_type="text/plain", charset="UTF-8")


def _percent(part: int, whole: int) -> int:
    """ES `RestNodesAction#calculatePercentage`: `Math.round(100.0 * used / max)`, -1 for an unknown maximum."""
    return -1 if whole < 0 else int(100 * part / whole + 0.5) if whole else 0


def _bytes(size: Any, unit: str | None) -> str | None:
    return None if size is None else format_bytes(int(size), unit)


def _millis(value: Any) -> Duration | None:
    return None if value is None else Duration(int(value) * 1_000_000)


def _load(value: Any) -> str | None:
    return None if value is None or value == -1 else f"{value:.2f}"


def _stats_cells(stats: dict[str, Any], unit: str | None) -> dict[str, Cell]:
    """The columns ES fills from a node's `indices` statistics, by column name."""
    i = stats.get("indices") or {}

    def sec(name: str) -> dict[str, Any]:
        return i.get(name) or {}

    get, indexing, search, merges = sec("get"), sec("indexing"), sec("search"), sec("merges")
    refresh, flush, segments, bulk = sec("refresh"), sec("flush"), sec("segments"), sec("bulk")
    query_cache, request_cache, fielddata = sec("query_cache"), sec("request_cache"), sec("fielddata")
    mappings = sec("mappings")
    return {
        "completion.size": _bytes(sec("completion").get("size_in_bytes"), unit),
        "fielddata.memory_size": _bytes(fielddata.get("memory_size_in_bytes"), unit),
        "fielddata.evictions": fielddata.get("evictions"),
        "query_cache.memory_size": _bytes(query_cache.get("memory_size_in_bytes"), unit),
        "query_cache.evictions": query_cache.get("evictions"),
        "query_cache.hit_count": query_cache.get("hit_count"),
        "query_cache.miss_count": query_cache.get("miss_count"),
        "request_cache.memory_size": _bytes(request_cache.get("memory_size_in_bytes"), unit),
        "request_cache.evictions": request_cache.get("evictions"),
        "request_cache.hit_count": request_cache.get("hit_count"),
        "request_cache.miss_count": request_cache.get("miss_count"),
        "flush.total": flush.get("total"),
        "flush.total_time": _millis(flush.get("total_time_in_millis")),
        "get.current": get.get("current"),
        "get.time": _millis(get.get("time_in_millis")),
        "get.total": get.get("total"),
        "get.exists_time": _millis(get.get("exists_time_in_millis")),
        "get.exists_total": get.get("exists_total"),
        "get.missing_time": _millis(get.get("missing_time_in_millis")),
        "get.missing_total": get.get("missing_total"),
        "indexing.delete_current": indexing.get("delete_current"),
        "indexing.delete_time": _millis(indexing.get("delete_time_in_millis")),
        "indexing.delete_total": indexing.get("delete_total"),
        "indexing.index_current": indexing.get("index_current"),
        "indexing.index_time": _millis(indexing.get("index_time_in_millis")),
        "indexing.index_total": indexing.get("index_total"),
        "indexing.index_failed": indexing.get("index_failed"),
        "indexing.index_failed_due_to_version_conflict": indexing.get("index_failed_due_to_version_conflict"),
        "merges.current": merges.get("current"),
        "merges.current_docs": merges.get("current_docs"),
        "merges.current_size": _bytes(merges.get("current_size_in_bytes"), unit),
        "merges.total": merges.get("total"),
        "merges.total_docs": merges.get("total_docs"),
        "merges.total_size": _bytes(merges.get("total_size_in_bytes"), unit),
        "merges.total_time": _millis(merges.get("total_time_in_millis")),
        "refresh.total": refresh.get("total"),
        "refresh.time": _millis(refresh.get("total_time_in_millis")),
        "refresh.external_total": refresh.get("external_total"),
        "refresh.external_time": _millis(refresh.get("external_total_time_in_millis")),
        "refresh.listeners": refresh.get("listeners"),
        "script.compilations": 0,
        "script.cache_evictions": 0,
        "script.compilation_limit_triggered": 0,
        "search.fetch_current": search.get("fetch_current"),
        "search.fetch_time": _millis(search.get("fetch_time_in_millis")),
        "search.fetch_total": search.get("fetch_total"),
        "search.open_contexts": search.get("open_contexts"),
        "search.query_current": search.get("query_current"),
        "search.query_time": _millis(search.get("query_time_in_millis")),
        "search.query_total": search.get("query_total"),
        "search.scroll_current": search.get("scroll_current"),
        "search.scroll_time": _millis(search.get("scroll_time_in_millis")),
        "search.scroll_total": search.get("scroll_total"),
        "segments.count": segments.get("count"),
        "segments.memory": _bytes(segments.get("memory_in_bytes"), unit),
        "segments.index_writer_memory": _bytes(segments.get("index_writer_memory_in_bytes"), unit),
        "segments.version_map_memory": _bytes(segments.get("version_map_memory_in_bytes"), unit),
        "segments.fixed_bitset_memory": _bytes(segments.get("fixed_bit_set_memory_in_bytes", 0), unit),
        "suggest.current": search.get("suggest_current"),
        "suggest.time": _millis(search.get("suggest_time_in_millis")),
        "suggest.total": search.get("suggest_total"),
        "bulk.total_operations": bulk.get("total_operations"),
        "bulk.total_time": _millis(bulk.get("total_time_in_millis")),
        "bulk.total_size_in_bytes": bulk.get("total_size_in_bytes"),
        "bulk.avg_time": _millis(bulk.get("avg_time_in_millis")),
        "bulk.avg_size_in_bytes": bulk.get("avg_size_in_bytes"),
        "shard_stats.total_count": sec("shard_stats").get("total_count"),
        "mappings.total_count": mappings.get("total_count"),
        "mappings.total_estimated_overhead_in_bytes": _bytes(mappings.get("total_estimated_overhead_in_bytes"), unit),
    }


def _node_cells(info: dict[str, Any], stats: dict[str, Any], unit: str | None) -> dict[str, Cell]:
    """ES `RestNodesAction#buildTable` for what nodes info and nodes stats say of one node."""
    cells: dict[str, Cell] = {}
    if info:
        jvm = info.get("jvm") or {}
        cells.update(
            {
                "pid": (info.get("process") or {}).get("id"),
                "http_address": (info.get("http") or {}).get("publish_address"),
                "type": info.get("build_type"),
                "build": info.get("build_hash"),
                "jdk": jvm.get("version"),
                "heap.max": _bytes((jvm.get("mem") or {}).get("heap_max_in_bytes"), unit),
                "available_processors": (info.get("os") or {}).get("available_processors"),
            }
        )
    if stats:
        fs = (stats.get("fs") or {}).get("total") or {}
        total, available = fs.get("total_in_bytes", 0), fs.get("available_in_bytes", 0)
        used = total - available
        jvm_stats = stats.get("jvm") or {}
        jvm_mem = jvm_stats.get("mem") or {}
        os_stats = stats.get("os") or {}
        os_mem = os_stats.get("mem") or {}
        cpu = os_stats.get("cpu") or {}
        loads = cpu.get("load_average") or {}
        process = stats.get("process") or {}
        open_fds, max_fds = process.get("open_file_descriptors"), process.get("max_file_descriptors")
        fd_percent = _percent(open_fds, max_fds) if open_fds is not None and max_fds is not None else None
        cells.update(
            {
                "disk.total": _bytes(total, unit),
                "disk.used": _bytes(used, unit),
                "disk.avail": _bytes(available, unit),
                "disk.used_percent": f"{100.0 * (used / total if total else 1.0):.2f}",
                "heap.current": _bytes(jvm_mem.get("heap_used_in_bytes"), unit),
                "heap.percent": jvm_mem.get("heap_used_percent"),
                "ram.current": _bytes(os_mem.get("used_in_bytes"), unit),
                "ram.percent": os_mem.get("used_percent"),
                "ram.max": _bytes(os_mem.get("total_in_bytes"), unit),
                "file_desc.current": open_fds,
                "file_desc.percent": fd_percent,
                "file_desc.max": max_fds,
                "cpu": str(cpu["percent"]) if cpu.get("percent") is not None else None,
                "load_1m": _load(loads.get("1m")),
                "load_5m": _load(loads.get("5m")),
                "load_15m": _load(loads.get("15m")),
                "uptime": _millis(jvm_stats.get("uptime_in_millis")),
                **_stats_cells(stats, unit),
            }
        )
    return cells


async def cat_nodes(request: web.Request) -> web.Response:
    """ES `RestNodesAction`: the cluster state's nodes, with nodes info (`jvm`, `os`, `process`, `http`) and nodes
    stats (`jvm`, `os`, `fs`, `process`, `indices`), each its own fan-out as in ES; a node that did not answer has
    empty cells, and the `master` column is `x` for every node while no master is elected."""
    req = rest_request(request)
    table = CatTable(columns=NODES_COLUMNS)
    if (helped := _help(request, table)) is not None:
        return helped
    full_id = req.params.bool("full_id", False)
    unit = req.params.str("bytes")
    req.params.consume("local", "master_timeout", "include_unloaded_segments")
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    client = rest_client(request)
    infos = await client.execute(NodesInfoAction, NodesInfoRequest(metrics=("process", "http", "os", "jvm")))
    stats_request = NodesStatsRequest(metrics=("jvm", "os", "fs", "process", "indices"))
    stats = await client.execute(NodesStatsAction, stats_request)
    state = cluster_state(request)
    master = state.master_node_id
    for discovered in state.nodes_sorted():
        row: dict[str, Cell] = {
            "id": discovered.id if full_id else discovered.id[:4],
            "ip": discovered.ip,
            "port": discovered.transport_port,
            "version": discovered.version,
            "node.role": abbreviate_roles(discovered.roles),
            "master": "x" if master is None else "*" if discovered.id == master else "-",
            "name": discovered.name,
        }
        row.update(_node_cells(infos.infos.get(discovered.id) or {}, stats.stats.get(discovered.id) or {}, unit))
        table.rows.append(row)
    return cat_response(table, req.params, request.headers.get("Accept"))


MASTER_COLUMNS = (
    Column("id", (), True, "node id"),
    Column("host", ("h",), True, "host name"),
    Column("ip", (), True, "ip address "),
    Column("node", ("n",), True, "node name"),
)


async def cat_master(request: web.Request) -> web.Response:
    """ES `RestMasterAction`: a cluster-state request routed to the master (or answered locally with `local`);
    without a master, ES's `master_not_discovered_exception` after `master_timeout`."""
    req = rest_request(request)
    table = CatTable(columns=MASTER_COLUMNS)
    if (helped := _help(request, table)) is not None:
        return helped
    local = req.params.bool("local", False)
    master_timeout = req.params.time("master_timeout")
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    state_request = ClusterStateRequest(local=local, master_timeout=master_timeout or DEFAULT_MASTER_TIMEOUT)
    master = (await rest_client(request).execute(ClusterStateAction, state_request)).get("master_node")
    row: dict[str, Cell] = (
        {"id": master["id"], "host": master["host"], "ip": master["ip"], "node": master["name"]}
        if master is not None
        else {"id": "-", "host": "-", "ip": "-", "node": "-"}
    )
    table.rows.append(row)
    return cat_response(table, req.params, request.headers.get("Accept"))


HEALTH_COLUMNS = es_columns(
    (
        ("epoch", "alias:t,time;desc:seconds since 1970-01-01 00:00:00"),
        ("timestamp", "alias:ts,hms,hhmmss;desc:time in HH:MM:SS"),
        ("cluster", "alias:cl;desc:cluster name"),
        ("status", "alias:st;desc:health status"),
        ("node.total", "alias:nt,nodeTotal;text-align:right;desc:total number of nodes"),
        ("node.data", "alias:nd,nodeData;text-align:right;desc:number of nodes that can store data"),
        ("shards", "alias:t,sh,shards.total,shardsTotal;text-align:right;desc:total number of shards"),
        ("pri", "alias:p,shards.primary,shardsPrimary;text-align:right;desc:number of primary shards"),
        ("relo", "alias:r,shards.relocating,shardsRelocating;text-align:right;desc:number of relocating nodes"),
        ("init", "alias:i,shards.initializing,shardsInitializing;text-align:right;desc:number of initializing nodes"),
        ("unassign", "alias:u,shards.unassigned,shardsUnassigned;text-align:right;desc:number of unassigned shards"),
        (
            "unassign.pri",
            "alias:up,shards.unassigned.primary,shardsUnassignedPrimary;text-align:right;"
            "desc:number of unassigned primary shards",
        ),
        ("pending_tasks", "alias:pt,pendingTasks;text-align:right;desc:number of pending tasks"),
        ("max_task_wait_time", "alias:mtwt,maxTaskWaitTime;text-align:right;desc:wait time of longest task pending"),
        (
            "active_shards_percent",
            "alias:asp,activeShardsPercent;text-align:right;desc:active number of shards in percent",
        ),
    )
)


async def cat_health(request: web.Request) -> web.Response:
    """ES `RestHealthAction`: one row of `_cluster/health` (a master must be known, as for the health API)."""
    req = rest_request(request)
    table = CatTable(columns=HEALTH_COLUMNS)
    if (helped := _help(request, table)) is not None:
        return helped
    master_timeout = req.params.time("master_timeout")
    req.params.consume("local")
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    health_request = ClusterHealthRequest(indices=(), master_timeout=master_timeout or DEFAULT_TIMEOUT)
    response = await rest_client(request).execute(ClusterHealthAction, health_request)
    body = health_body(response.state, timed_out=response.timed_out, human=False)
    now = time.time()
    table.rows.append(
        {
            "epoch": int(now),
            "timestamp": time.strftime("%H:%M:%S", time.gmtime(now)),
            "cluster": body["cluster_name"],
            "status": body["status"],
            "node.total": body["number_of_nodes"],
            "node.data": body["number_of_data_nodes"],
            "shards": body["active_shards"],
            "pri": body["active_primary_shards"],
            "relo": body["relocating_shards"],
            "init": body["initializing_shards"],
            "unassign": body["unassigned_shards"],
            "unassign.pri": body["unassigned_primary_shards"],
            "pending_tasks": body["number_of_pending_tasks"],
            "max_task_wait_time": "-",
            "active_shards_percent": f"{body['active_shards_percent_as_number']:.1f}%",
        }
    )
    return cat_response(table, req.params, request.headers.get("Accept"))


ALIASES_COLUMNS = es_columns(
    (
        ("alias", "alias:a;desc:alias name"),
        ("index", "alias:i,idx;desc:index alias points to"),
        ("filter", "alias:f,fi;desc:filter"),
        ("routing.index", "alias:ri,routingIndex;desc:index routing"),
        ("routing.search", "alias:rs,routingSearch;desc:search routing"),
        ("is_write_index", "alias:w,isWriteIndex;desc:write index"),
    )
)


async def cat_aliases(request: web.Request) -> web.Response:
    """ES `RestAliasAction`: one row per alias of each index; `-` for what an alias does not set, `*` for a filter."""
    req = rest_request(request)
    table = CatTable(columns=ALIASES_COLUMNS)
    if (helped := _help(request, table)) is not None:
        return helped
    values = req.params.list("expand_wildcards")
    open_, closed, hidden = parse_wildcard_states(values) if values else (True, True, True)
    req.params.consume("local", "master_timeout")
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    names = tuple(split_by_comma(request.match_info.get("alias"))) or ("*",)
    options = IndicesOptions(expand_hidden=hidden, expand_open=open_, expand_closed=closed)
    found = await rest_client(request).execute(GetAliasesAction, GetAliasesRequest((), names, options))
    for index, aliases in found.items():
        for alias, meta in aliases.items():
            write = meta.get("is_write_index")
            table.rows.append(
                {
                    "alias": alias,
                    "index": index,
                    "filter": "*" if "filter" in meta else "-",
                    "routing.index": meta.get("index_routing", "-"),
                    "routing.search": meta.get("search_routing", "-"),
                    "is_write_index": "-" if write is None else write,
                }
            )
    return cat_response(table, req.params, request.headers.get("Accept"))
