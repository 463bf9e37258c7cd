"""Installing, listing and healing network faults on the nodes of a cluster, through each node's `/_sim/faults`.

The CLI and the chaos runner resolve node names to transport addresses from `cluster.json` and send every node the
rules of its own outbound links (`cluster.disruption` decides which). Nodes are contacted in parallel with a short
timeout, and by their state first: a paused node cannot answer (its rules stay until it is resumed and healed), and
a node that is down has no rules at all (they live in the node's memory, so a restarted node starts without any).
What could not be reached is reported, never hidden: `heal` heals what it can and says what it could not.
"""

from __future__ import annotations

import concurrent.futures
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cluster.disruption import Link
from cluster.rest_client import RestResponse, request_json
from cluster.state import NodeRecord, ProcessState, is_node_process, process_state

__all__ = [
    "FaultOptions",
    "NodeAnswer",
    "fault_bodies",
    "heal_faults",
    "install_faults",
    "list_faults",
    "new_group_id",
    "remove_faults",
    "split_actions",
]

REQUEST_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class FaultOptions:
    """What every rule of one fault shares.

    Attributes:
        kind: `disconnect`, `blackhole`, `delay` or `drop`.
        actions: action patterns (`*` wildcards); empty for every action.
        delay_ms / jitter_ms: for `delay`.
        probability: for `drop`.
        duration_ms: lifetime of the rules on the nodes; `None` until healed.
        seed: seeds drops and jitter (each rule gets `seed + its index`, so rules do not mirror each other).
    """

    kind: str
    actions: tuple[str, ...] = ()
    delay_ms: int | None = None
    jitter_ms: int | None = None
    probability: float | None = None
    duration_ms: int | None = None
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class NodeAnswer:
    """One node's part of a fault command: what it did (`ids`, `faults`) or why it could not (`error`)."""

    name: str
    error: str | None = None
    ids: tuple[str, ...] = ()
    faults: tuple[dict[str, Any], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.error is None


def split_actions(text: str | None) -> tuple[str, ...]:
    """`--actions 'internal:*, *[n]'` → `("internal:*", "*[n]")`; `None`, empty and `*` mean every action."""
    patterns = tuple(p.strip() for p in (text or "").split(",") if p.strip())
    return () if patterns == ("*",) else patterns


def new_group_id(prefix: str) -> str:
    """A fault id for the rules of one command on every node, e.g. `partition-3fa2c1`."""
    return f"{prefix}-{secrets.token_hex(3)}"


def fault_bodies(
    links: Iterable[Link], options: FaultOptions, addresses: Mapping[str, str | None], group: str
) -> dict[str, list[dict[str, Any]]]:
    """The `POST /_sim/faults` bodies of every source node, one per link."""
    bodies: dict[str, list[dict[str, Any]]] = {}
    for index, item in enumerate(sorted(links)):
        address = addresses.get(item.target)
        if address is None:
            raise ValueError(f"{item.target} has never started, so it has no transport address to aim a fault at")
        body: dict[str, Any] = {"kind": options.kind, "target": address, "target_name": item.target, "group": group}
        if options.actions:
            body["actions"] = list(options.actions)
        if options.delay_ms is not None:
            body["delay"] = f"{options.delay_ms}ms"
        if options.jitter_ms is not None:
            body["jitter"] = f"{options.jitter_ms}ms"
        if options.probability is not None:
            body["probability"] = options.probability
        if options.duration_ms is not None:
            body["duration"] = f"{options.duration_ms}ms"
        if options.seed is not None:
            body["seed"] = options.seed + index
        bodies.setdefault(item.source, []).append(body)
    return bodies


def _unreachable(record: NodeRecord) -> str | None:
    """Why a node cannot be asked right now, or `None` when it can."""
    if record.pid is None or record.http_address is None or not is_node_process(record.pid, record.data_dir):
        return "down"
    state = process_state(record.pid)
    if state is ProcessState.GONE:
        return "down"
    if state is ProcessState.STOPPED:
        return "paused"
    return None


def _error_text(answer: RestResponse | None) -> str:
    if answer is None:
        return "did not answer"
    body = answer.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return f"refused it: {body['error'].get('reason')}"
    return f"answered HTTP {answer.status}"


def _for_each(records: Sequence[NodeRecord], ask: Callable[[NodeRecord], NodeAnswer]) -> list[NodeAnswer]:
    def guarded(record: NodeRecord) -> NodeAnswer:
        why = _unreachable(record)
        return ask(record) if why is None else NodeAnswer(record.name, error=why)

    if not records:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(records)) as pool:
        return list(pool.map(guarded, records))


def install_faults(records: Sequence[NodeRecord], bodies: Mapping[str, list[dict[str, Any]]]) -> list[NodeAnswer]:
    """Posts each source node its rules; one answer per source node, in `records` order."""

    def ask(record: NodeRecord) -> NodeAnswer:
        ids: list[str] = []
        for body in bodies[record.name]:
            answer = request_json("POST", record.endpoint or "", "/_sim/faults", body, REQUEST_TIMEOUT_S)
            if answer is None or answer.status != 200:
                return NodeAnswer(record.name, error=_error_text(answer), ids=tuple(ids))
            ids.append(str(answer.body["fault"]["id"]))
        return NodeAnswer(record.name, ids=tuple(ids))

    return _for_each([r for r in records if r.name in bodies], ask)


def list_faults(records: Sequence[NodeRecord]) -> list[NodeAnswer]:
    """Every node's live rules (`faults`), or why it could not tell."""

    def ask(record: NodeRecord) -> NodeAnswer:
        answer = request_json("GET", record.endpoint or "", "/_sim/faults", None, REQUEST_TIMEOUT_S)
        if answer is None or answer.status != 200 or not isinstance(answer.body, dict):
            return NodeAnswer(record.name, error=_error_text(answer))
        return NodeAnswer(record.name, faults=tuple(answer.body.get("faults", ())))

    return _for_each(records, ask)


def heal_faults(records: Sequence[NodeRecord]) -> list[NodeAnswer]:
    """Removes every rule of every reachable node (`POST /_sim/faults/_heal`)."""

    def ask(record: NodeRecord) -> NodeAnswer:
        answer = request_json("POST", record.endpoint or "", "/_sim/faults/_heal", None, REQUEST_TIMEOUT_S)
        if answer is None or answer.status != 200:
            return NodeAnswer(record.name, error=_error_text(answer))
        return NodeAnswer(record.name, ids=tuple(str(i) for i in answer.body.get("healed", ())))

    return _for_each(records, ask)


def remove_faults(records: Sequence[NodeRecord], group: str) -> list[NodeAnswer]:
    """Removes the rules of one fault (a group id, or a rule id) from every reachable node that has any."""

    def ask(record: NodeRecord) -> NodeAnswer:
        answer = request_json("DELETE", record.endpoint or "", f"/_sim/faults/{group}", None, REQUEST_TIMEOUT_S)
        if answer is not None and answer.status == 404:
            return NodeAnswer(record.name)  # nothing of that fault on this node
        if answer is None or answer.status != 200:
            return NodeAnswer(record.name, error=_error_text(answer))
        return NodeAnswer(record.name, ids=tuple(str(i) for i in answer.body.get("removed", ())))

    return _for_each(records, ask)
