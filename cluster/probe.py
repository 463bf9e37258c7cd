"""What the nodes say about themselves over HTTP: is a node UP, who is master, has the cluster formed.

The pid tells whether a process exists (`cluster.state`); only an answer on the REST port tells whether it is a
working node. Every probe has a short timeout, so one hung or paused node never stalls `simcluster status`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cluster.rest_client import RestResponse, get_json
from cluster.state import NodeRecord, NodeState, ProcessState, is_node_process, process_state

__all__ = ["PROBE_TIMEOUT_S", "HealthView", "find_master", "node_state", "node_states", "poll_health"]

PROBE_TIMEOUT_S = 1.0
_HEALTH_WAIT_S = 5.0  # server-side wait of one health poll; short so a node that dies meanwhile is noticed
_RETRY_PAUSE_S = 0.1  # between polls that were answered at once (refused, 503 without a master)


def node_state(record: NodeRecord, timeout: float = PROBE_TIMEOUT_S) -> NodeState:
    """Classifies one node from its pid and, when running, from `GET /` answering with its own name.

    The name check matters after a restart elsewhere: another process may now hold the node's old HTTP port.
    """
    if record.pid is None or not is_node_process(record.pid, record.data_dir):
        return NodeState.DOWN
    state = process_state(record.pid)
    if state is ProcessState.GONE:
        return NodeState.DOWN
    if state is ProcessState.STOPPED:
        return NodeState.PAUSED
    if record.endpoint is None:
        return NodeState.UNRESPONSIVE
    answer = get_json(record.endpoint, "/", timeout)
    if answer is None or answer.status != 200 or not isinstance(answer.body, dict):
        return NodeState.UNRESPONSIVE
    return NodeState.UP if answer.body.get("name") == record.name else NodeState.UNRESPONSIVE


def node_states(records: Sequence[NodeRecord]) -> list[NodeState]:
    """`node_state` of every record, probed in parallel so N hung nodes cost one timeout, not N."""
    if not records:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(records)) as pool:
        return list(pool.map(node_state, records))


def find_master(up: Sequence[NodeRecord], known: Sequence[NodeRecord]) -> str | None:
    """The elected master's name as most `up` nodes see it (`GET /_cat/master`, asked in parallel).

    Under a partition the minority side knows no master while the majority side has one, so the answer is the
    master named by the most nodes; nodes that know none only count when no node knows one. The id is matched
    against `known` records first (names are only unique by convention).
    """
    names_by_id = {r.node_id: r.name for r in known if r.node_id}
    if not up:
        return None
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(up)) as pool:
        seen = [m for m in pool.map(_seen_master, up) if m is not None]
    if not seen:
        return None
    node_id, name = collections.Counter(seen).most_common(1)[0][0]
    return names_by_id.get(node_id, name)


def _seen_master(record: NodeRecord) -> tuple[str, str] | None:
    """`(id, name)` of the master this node follows, `None` when it knows none or does not answer."""
    answer = get_json(record.endpoint or "", "/_cat/master?format=json", PROBE_TIMEOUT_S)
    if answer is None or answer.status != 200 or not isinstance(answer.body, list) or not answer.body:
        return None
    entry = answer.body[0]
    if isinstance(entry, dict) and entry.get("id") not in (None, "-"):
        return str(entry["id"]), str(entry.get("node"))
    return None


@dataclass(frozen=True, slots=True)
class HealthView:
    """The outcome of waiting for one node to see the whole cluster.

    Attributes:
        formed: the node reported all expected nodes.
        exited: the node's process went away while waiting.
        last_seen: what the node said last, for the error message (`sees 2 of 3 nodes`, `has no elected master`).
    """

    formed: bool
    exited: bool
    last_seen: str


def poll_health(record: NodeRecord, expected: int | None, deadline: float, alive: Callable[[], bool]) -> HealthView:
    """Polls `GET /_cluster/health?wait_for_nodes=N` on one node until it reports N nodes or `deadline` passes.

    Each poll lets the node wait server-side (as ES clients do) for at most a few seconds, so a process that dies
    meanwhile (`alive()` turns false) is noticed quickly. Stops early, unformed, when the process is gone.
    `expected=None` waits only for the node to know an elected master: it has joined a cluster, whatever its size.
    """
    seen = "did not answer"
    while alive():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return HealthView(formed=False, exited=False, last_seen=seen)
        wait_ms = max(1, int(min(remaining, _HEALTH_WAIT_S) * 1000))
        # master_timeout too: like ES, health waits for a master that long (default 30 s) before its 503.
        nodes = "" if expected is None else f"wait_for_nodes={expected}&"
        path = f"/_cluster/health?{nodes}timeout={wait_ms}ms&master_timeout={wait_ms}ms"
        answer = get_json(record.endpoint or "", path, min(wait_ms / 1000 + 2.0, remaining + 0.5))
        if _formed(answer, expected):
            seen = "has joined a cluster" if expected is None else f"sees all {expected} nodes"
            return HealthView(formed=True, exited=False, last_seen=seen)
        seen = _describe_health(answer, expected)
        if answer is None or answer.status != 408:
            time.sleep(min(_RETRY_PAUSE_S, max(0.0, deadline - time.monotonic())))
    return HealthView(formed=False, exited=True, last_seen=seen)


def _formed(answer: RestResponse | None, expected: int | None) -> bool:
    return (
        answer is not None
        and answer.status == 200
        and isinstance(answer.body, dict)
        and (expected is None or answer.body.get("number_of_nodes") == expected)
        and not answer.body.get("timed_out", False)
    )


def _describe_health(answer: RestResponse | None, expected: int | None) -> str:
    if answer is None:
        return "did not answer"
    if answer.status == 503:
        return "has no elected master"
    if answer.status == 408 and isinstance(answer.body, dict):
        return f"sees {answer.body.get('number_of_nodes', '?')} of {expected} nodes"
    return f"answered HTTP {answer.status} to the health check"
