"""`cluster:monitor/health` (mirrors ES `TransportClusterHealthAction`).

The answer is the applied state, once the request's `wait_for_*` conditions hold or its `timeout` ran out:
without `local`, a master must be known first (else `master_not_discovered_exception` after `master_timeout`);
`wait_for_nodes` counts the nodes (`N`, `>=N`, `le(N)`, ...); the routing conditions (`wait_for_status`,
`wait_for_no_initializing_shards`, `wait_for_active_shards`) are checked on the requested indices. Cancelling the
task ends the wait at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import CLUSTER_HEALTH
from node.common.time_value import TimeValue
from node.data.health import HealthWait, health_indices
from node.errors import IllegalArgumentError, MasterNotDiscoveredError
from node.tasks.task import Task

__all__ = ["ClusterHealthAction", "ClusterHealthRequest", "ClusterHealthResponse", "parse_wait_for_nodes"]

DEFAULT_TIMEOUT = TimeValue(30, "s")


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
            expected = _parse_int(number)
            return lambda n: compare(n, expected)
    expected = _parse_int(text)
    return lambda n: n == expected


def _parse_int(number: str) -> int:
    try:
        return int(number)
    except ValueError:
        raise IllegalArgumentError(f'For input string: "{number}"') from None


@dataclass(frozen=True, slots=True)
class ClusterHealthRequest:
    indices: Sequence[str] = ()
    wait_for_nodes: str | None = None
    routing_wait: HealthWait = field(default_factory=HealthWait)
    timeout: TimeValue = DEFAULT_TIMEOUT
    master_timeout: TimeValue = DEFAULT_TIMEOUT
    local: bool = False

    def validate(self) -> None:
        """Raises ES's error for a malformed `wait_for_nodes` before any task is registered."""
        if self.wait_for_nodes:
            parse_wait_for_nodes(self.wait_for_nodes)


@dataclass(frozen=True, slots=True)
class ClusterHealthResponse:
    state: ClusterState
    timed_out: bool


class ClusterHealthAction(TransportAction[ClusterHealthRequest, ClusterHealthResponse]):
    name = CLUSTER_HEALTH
    cancellable = True

    async def execute(self, task: Task, request: ClusterHealthRequest) -> ClusterHealthResponse:
        """Raises:
        MasterNotDiscoveredError: no master within `master_timeout` (without `local`).
        TaskCancelledError: the task was cancelled while waiting.
        """
        if not request.local and self.cluster.state().master_node_id is None:
            has_master = self.cluster.wait_for_state(
                lambda s: s.master_node_id is not None, _seconds(request.master_timeout)
            )
            if await task.run_unless_cancelled(has_master) is None:
                raise MasterNotDiscoveredError(None)  # type: ignore[arg-type]  # ES renders "reason": null
        nodes_ok = parse_wait_for_nodes(request.wait_for_nodes) if request.wait_for_nodes else None
        routing_wait = request.routing_wait

        def satisfied(s: ClusterState) -> bool:
            if not (request.local or s.master_node_id is not None) or not (nodes_ok is None or nodes_ok(len(s.nodes))):
                return False
            names = health_indices(s.metadata, request.indices)
            return not routing_wait.waits or routing_wait.satisfied(s.metadata, names, set(s.nodes))

        timed_out = False
        if nodes_ok is not None or routing_wait.waits:
            waited = self.cluster.wait_for_state(satisfied, _seconds(request.timeout))
            timed_out = await task.run_unless_cancelled(waited) is None
        return ClusterHealthResponse(self.cluster.state(), timed_out)


def _seconds(value: TimeValue) -> float:
    return value.millis / 1000
