"""`GET /_cluster/health` (ES `RestClusterHealthAction`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.actions.cluster_health import DEFAULT_TIMEOUT, ClusterHealthAction, ClusterHealthRequest
from node.cluster.state import ClusterState
from node.data.health import HealthWait, cluster_health, health_indices, health_levels, overall_status, parse_level
from node.errors import IllegalArgumentError
from node.human import format_duration_nanos
from rest.app_keys import rest_client, rest_request
from rest.params import split_by_comma

__all__ = ["health", "health_body"]

_STATUSES = ("green", "yellow", "red")


def health_body(
    state: ClusterState, *, timed_out: bool, human: bool, indices: list[str] | None = None, level: str = "cluster"
) -> dict[str, Any]:
    """Shard counts and status come from the routing (`node.data.health`)."""
    health = cluster_health(state.metadata, indices, set(state.nodes))
    body: dict[str, Any] = {
        "cluster_name": state.cluster_name,
        "status": overall_status(health, indices),
        "timed_out": timed_out,
        "number_of_nodes": len(state.nodes),
        "number_of_data_nodes": sum(1 for n in state.nodes.values() if n.is_data),
        "active_primary_shards": health.active_primary_shards,
        "active_shards": health.active_shards,
        "relocating_shards": health.relocating_shards,
        "initializing_shards": health.initializing_shards,
        "unassigned_shards": health.unassigned_shards,
        "unassigned_primary_shards": health.unassigned_primary_shards,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
    }
    if human:
        body["task_max_waiting_in_queue"] = format_duration_nanos(0)
    body["task_max_waiting_in_queue_millis"] = 0
    if human:
        body["active_shards_percent"] = f"{health.active_shards_percent:.1f}%"
    body["active_shards_percent_as_number"] = health.active_shards_percent
    body.update(health_levels(health, level))
    return body


async def health(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    wait_for_nodes = p.str("wait_for_nodes")
    wait_for_status = p.str("wait_for_status")
    timeout = p.time("timeout")
    master_timeout = p.time("master_timeout")
    local = p.bool("local", False)
    human = req.human
    level = parse_level(p.str("level"))
    routing_wait = HealthWait(
        wait_for_status, p.bool("wait_for_no_initializing_shards", False), p.str("wait_for_active_shards")
    )
    p.consume(
        "wait_for_no_relocating_shards", "wait_for_events", "expand_wildcards", "ignore_unavailable",
        "allow_no_indices",
    )  # fmt: skip
    if wait_for_status is not None and wait_for_status not in _STATUSES:
        raise IllegalArgumentError(f"unknown cluster health status [{wait_for_status}]")
    expressions = tuple(split_by_comma(request.match_info.get("index")))
    health_request = ClusterHealthRequest(
        indices=expressions,
        wait_for_nodes=wait_for_nodes or None,
        routing_wait=routing_wait,
        timeout=timeout or DEFAULT_TIMEOUT,
        master_timeout=master_timeout or DEFAULT_TIMEOUT,
        local=local,
    )
    health_request.validate()
    p.check_unrecognized()
    response = await rest_client(request).execute(ClusterHealthAction, health_request)
    state = response.state
    indices = health_indices(state.metadata, expressions)
    body = health_body(state, timed_out=response.timed_out, human=human, indices=indices, level=level)
    return req.respond(body, status=408 if response.timed_out else 200)
