"""`GET /_cluster/health` (ES `RestClusterHealthAction`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from node.actions.names import CLUSTER_HEALTH
from node.coordination.state import ClusterState
from node.data.health import HealthWait, cluster_health, health_indices, health_levels, overall_status, parse_level
from node.errors import IllegalArgumentError, MasterNotDiscoveredError
from node.human import format_duration_nanos
from rest.app_keys import rest_request, rest_task, serving_node
from rest.params import split_by_comma

__all__ = ["health", "health_body", "parse_wait_for_nodes"]

_DEFAULT_TIMEOUT_MS = 30_000
_STATUSES = ("green", "yellow", "red")


def parse_wait_for_nodes(text: str) -> Callable[[int], bool]:
    """`N`, `>=N`, `<=N`, `>N`, `<N` and `ge(N)`, `le(N)`, `gt(N)`, `lt(N)`, as ES `TransportClusterHealthAction`."""
    forms: list[tuple[str, str, Callable[[int, int], bool]]] = [
        (">=", "", lambda n, e: n >= e),
        ("ge(", ")", lambda n, e: n >= e),
        ("<=", "", lambda n, e: n <= e),
        ("le(", ")", lambda n, e: n <= e),
        (">", "", lambda n, e: n > e),
        ("gt(", ")", lambda n, e: n > e),
        ("<", "", lambda n, e: n < e),
        ("lt(", ")", lambda n, e: n < e),
    ]
    for prefix, suffix, compare in forms:
        if text.startswith(prefix) and text.endswith(suffix):
            number = text[len(prefix) : len(text) - len(suffix)]
            expected = _parse_int(number, text)
            return lambda n: compare(n, expected)
    expected = _parse_int(text, text)
    return lambda n: n == expected


def _parse_int(number: str, original: str) -> int:
    try:
        return int(number)
    except ValueError:
        raise IllegalArgumentError(f'For input string: "{number}"') from None


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
    node = serving_node(request)
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
    nodes_ok = parse_wait_for_nodes(wait_for_nodes) if wait_for_nodes else None
    p.check_unrecognized()

    timeout_s = (timeout.millis if timeout is not None else _DEFAULT_TIMEOUT_MS) / 1000
    master_timeout_s = (master_timeout.millis if master_timeout is not None else _DEFAULT_TIMEOUT_MS) / 1000
    coordinator = node.coordinator
    async with rest_task(request, CLUSTER_HEALTH, cancellable=True) as task:
        if not local and coordinator.state.master_node_id is None:
            has_master = coordinator.wait_for_state(lambda s: s.master_node_id is not None, master_timeout_s)
            if await task.run_unless_cancelled(has_master) is None:
                raise MasterNotDiscoveredError(None)  # type: ignore[arg-type]  # ES renders "reason": null

        expressions = split_by_comma(request.match_info.get("index"))

        def satisfied(s: ClusterState) -> bool:
            if not (local or s.master_node_id is not None) or not (nodes_ok is None or nodes_ok(len(s.nodes))):
                return False
            names = health_indices(s.metadata, expressions)
            return not routing_wait.waits or routing_wait.satisfied(s.metadata, names, set(s.nodes))

        timed_out = False
        if nodes_ok is not None or routing_wait.waits:
            timed_out = await task.run_unless_cancelled(coordinator.wait_for_state(satisfied, timeout_s)) is None
    state = node.cluster_state()
    indices = health_indices(state.metadata, expressions)
    body = health_body(state, timed_out=timed_out, human=human, indices=indices, level=level)
    return req.respond(body, status=408 if timed_out else 200)
