"""`GET /_cat`, `/_cat/nodes` and `/_cat/master` (ES `RestNodesAction`, `RestMasterAction`)."""

from __future__ import annotations

import os
import time

from aiohttp import web

from node.actions.nodes_info import NodesInfoAction, NodesInfoRequest
from node.common.roles import abbreviate_roles
from node.human import format_duration_nanos
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.cat import CAT_RESPONSE_PARAMS, CatTable, Cell, Column, cat_response

__all__ = ["cat_index", "cat_master", "cat_nodes"]

CAT_ENDPOINTS = (  # in ES's handler registration order (ActionModule)
    "/_cat/shards",
    "/_cat/shards/{index}",
    "/_cat/master",
    "/_cat/nodes",
    "/_cat/tasks",
    "/_cat/indices",
    "/_cat/indices/{index}",
)


async def cat_index(request: web.Request) -> web.Response:
    rest_request(request).params.check_unrecognized()
    body = "=^.^=\n" + "".join(f"{path}\n" for path in CAT_ENDPOINTS)
    return web.Response(text=body, content_type="text/plain", charset="UTF-8")


NODES_COLUMNS = (
    Column("id", ("nodeId",), False, "unique node id"),
    Column("pid", ("p",), False, "process id", "right"),
    Column("ip", ("i",), True, "ip address"),
    Column("port", ("po",), False, "bound transport port", "right"),
    Column("http_address", ("http",), False, "bound http address"),
    Column("version", ("v",), False, "es version"),
    Column("heap.percent", ("hp", "heapPercent"), True, "used heap ratio", "right"),
    Column("ram.percent", ("rp", "ramPercent"), True, "used machine memory ratio", "right"),
    Column("ram.max", ("rm", "ramMax"), False, "total machine memory", "right"),
    Column("cpu", ("cpu",), True, "recent cpu usage", "right"),
    Column("load_1m", ("l",), True, "1m load avg", "right"),
    Column("load_5m", ("l",), True, "5m load avg", "right"),
    Column("load_15m", ("l",), True, "15m load avg", "right"),
    Column("uptime", ("u",), False, "node uptime", "right"),
    Column(
        "node.role",
        ("r", "role", "nodeRole"),
        True,
        "m:master eligible node, d:data node, i:ingest node, -:coordinating node only",
    ),
    Column("master", ("m",), True, "*:current master"),
    Column("name", ("n",), True, "node name"),
)


def _memory() -> tuple[int, int]:
    """Total and used machine memory in bytes, from /proc/meminfo."""
    fields: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return 0, 0
    total = fields.get("MemTotal", 0)
    return total, total - fields.get("MemAvailable", total)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


async def cat_nodes(request: web.Request) -> web.Response:
    req = rest_request(request)
    table = CatTable(columns=NODES_COLUMNS)
    if req.params.bool("help", False):  # ES reads nothing else for help, so other parameters are unrecognized
        req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
        return cat_response(table, req.params, request.headers.get("Accept"))
    full_id = req.params.bool("full_id", False)
    req.params.consume("local", "master_timeout", "include_unloaded_segments")
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    result = await rest_client(request).execute(NodesInfoAction, NodesInfoRequest(metrics=("process", "http", "os")))
    state = cluster_state(request)
    total, used = _memory()
    loads = os.getloadavg()
    now_ms = time.time_ns() // 1_000_000
    for discovered in state.nodes_sorted():
        row: dict[str, Cell] = {
            "id": discovered.id if full_id else discovered.id[:4],
            "ip": discovered.ip,
            "port": discovered.transport_port,
            "version": discovered.version,
            "node.role": abbreviate_roles(discovered.roles),
            "master": "*" if discovered.id == state.master_node_id else "-",
            "name": discovered.name,
        }
        info = result.infos.get(discovered.id)
        if info is not None:  # ES leaves the cells of a node that did not answer (a node failure) empty
            process = info.get("process", {})
            rss = int(process.get("resident_memory_in_bytes", 0))
            started = int(process.get("start_time_in_millis", now_ms))
            row.update(
                {
                    "pid": process.get("id"),
                    "http_address": discovered.http_address,
                    "heap.percent": _percent(rss, total),
                    "ram.percent": _percent(used, total),
                    "ram.max": f"{total / 2**30:.1f}gb",
                    "cpu": min(100, round(100 * loads[0] / (os.cpu_count() or 1))),
                    "load_1m": f"{loads[0]:.2f}",
                    "load_5m": f"{loads[1]:.2f}",
                    "load_15m": f"{loads[2]:.2f}",
                    "uptime": _uptime(now_ms - started),
                }
            )
        table.rows.append(row)
    return cat_response(table, req.params, request.headers.get("Accept"))


def _uptime(millis: int) -> str:
    return format_duration_nanos(max(millis, 0) * 1_000_000)


MASTER_COLUMNS = (
    Column("id", (), True, "node id"),
    Column("host", ("h",), True, "host name"),
    Column("ip", (), True, "ip address "),
    Column("node", ("n",), True, "node name"),
)


async def cat_master(request: web.Request) -> web.Response:
    req = rest_request(request)
    table = CatTable(columns=MASTER_COLUMNS)
    if req.params.bool("help", False):
        req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
        return cat_response(table, req.params, request.headers.get("Accept"))
    req.params.consume("local", "master_timeout")
    req.params.check_unrecognized(CAT_RESPONSE_PARAMS)
    master = cluster_state(request).master
    row: dict[str, Cell] = (
        {"id": master.id, "host": master.host, "ip": master.ip, "node": master.name}
        if master is not None
        else {"id": "-", "host": "-", "ip": "-", "node": "-"}
    )
    table.rows.append(row)
    return cat_response(table, req.params, request.headers.get("Accept"))
