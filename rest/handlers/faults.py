"""`/_sim/faults`: the simulated network faults of this node's outbound links (simulator-only).

The control API has the shape of toxiproxy's `/proxies/{p}/toxics` and blockade's REST daemon, on every node:

| request | effect |
| --- | --- |
| `GET /_sim/faults` | `{"node": name, "faults": [...]}`: the live rules, oldest first |
| `POST /_sim/faults` (JSON body) | adds one rule; `{"acknowledged": true, "fault": {...}}` |
| `DELETE /_sim/faults/{id}` | removes the rule with that id, or every rule of that group; 404 when there is none |
| `POST /_sim/faults/_heal` | removes every rule; `{"acknowledged": true, "healed": [ids]}` |

The body of `POST /_sim/faults`:

| field | required | meaning |
| --- | --- | --- |
| `kind` | yes | `disconnect`, `blackhole`, `delay` or `drop` |
| `target` | yes | the receiving node: a transport address `host:port`, or a node name of the current cluster state |
| `target_name` | no | display name (filled in from the cluster state when `target` is known there) |
| `actions` | no | action patterns with `*` wildcards, as a list or comma-separated; every action by default |
| `delay`, `jitter` | `delay` | time values (`500ms`, `2s`): each request waits `delay ± jitter` |
| `probability` | `drop` | the chance to drop one request, 0.0 to 1.0 |
| `duration` | no | the rule's lifetime (`30s`); `-1` or absent: until removed |
| `group` | no | a label shared by the rules of one fault on many nodes (the CLI sets it) |
| `seed` | no | an integer seeding the rule's drops and jitter |

Bad input is answered like ES answers a bad request body: a 400 with an `illegal_argument_exception` (or a
`parse_exception` for a missing or non-JSON body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from node.cluster.state import DiscoveryNode
from node.data.errors import XContentParseError
from node.data.json_body import parse_json
from node.errors import ElasticsearchError, IllegalArgumentError
from node.transport.faults import FaultKind, FaultSpec, parse_actions
from rest.app_keys import cluster_state, rest_request, services
from rest.params import parse_time_value

__all__ = ["add_fault", "heal_faults", "list_faults", "parse_body", "parse_fault", "remove_fault"]

_FIELDS = frozenset(
    {"kind", "target", "target_name", "actions", "delay", "jitter", "probability", "duration", "group", "seed"}
)


def _parse_error(reason: str) -> ElasticsearchError:
    return ElasticsearchError(reason, es_type="parse_exception", status=400)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body.

    Raises:
        ElasticsearchError: `parse_exception` (400) for a missing body, malformed JSON or a non-object.
    """
    if not raw.strip():
        raise _parse_error("request body is required")
    try:
        body = parse_json(raw)
    except XContentParseError as e:
        raise _parse_error(f"Failed to parse content to map: {e.reason}") from None
    if not isinstance(body, dict):
        raise _parse_error("request body must be a JSON object")
    return body


def _string(body: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise IllegalArgumentError(f"[{name}] must be a string but was [{json.dumps(value)}]")
    return value


def _millis(body: Mapping[str, Any], name: str) -> int | None:
    """A time value field (`500ms`, `2s`); `-1` means none; a bare number is refused as ES refuses it."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise IllegalArgumentError(f"[{name}] must be a time value such as [500ms] but was [{json.dumps(value)}]")
    millis = parse_time_value(str(value), name).millis
    return None if millis == -1 else millis


def _probability(body: Mapping[str, Any]) -> float:
    value = body.get("probability", 1.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IllegalArgumentError(f"[probability] must be a number but was [{json.dumps(value)}]")
    return float(value)


def _seed(body: Mapping[str, Any]) -> int | None:
    value = body.get("seed")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise IllegalArgumentError(f"[seed] must be an integer but was [{json.dumps(value)}]")
    return value


def _actions(body: Mapping[str, Any]) -> tuple[str, ...]:
    value = body.get("actions")
    if value is None or isinstance(value, str):
        return parse_actions(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return parse_actions(value)
    raise IllegalArgumentError(f"[actions] must be a string or a list of strings but was [{json.dumps(value)}]")


def parse_fault(body: Mapping[str, Any], lookup: Callable[[str], DiscoveryNode | None]) -> FaultSpec:
    """Validates a `POST /_sim/faults` body into a `FaultSpec`.

    Args:
        lookup: finds a node of the current cluster state by name or by transport address.

    Raises:
        IllegalArgumentError: an unknown field, a missing or invalid value, or an unknown node name.
    """
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise IllegalArgumentError(f"[fault] unknown field [{unknown[0]}]")
    kind_text = _string(body, "kind")
    target = _string(body, "target")
    if kind_text is None or target is None:
        raise IllegalArgumentError(f"[{'kind' if kind_text is None else 'target'}] is required")
    try:
        kind = FaultKind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in FaultKind)
        raise IllegalArgumentError(f"[kind] must be one of [{kinds}] but was [{kind_text}]") from None
    known = lookup(target)
    if ":" not in target:
        if known is None:
            raise IllegalArgumentError(f"[target] names no node of the cluster: [{target}]")
        target = known.transport_address
    default_name = known.name if known is not None else ""
    delay = _millis(body, "delay")
    jitter = _millis(body, "jitter")
    return FaultSpec(
        kind=kind,
        target=target,
        target_name=_string(body, "target_name", default_name) or "",
        actions=_actions(body),
        delay_millis=delay or 0,
        jitter_millis=jitter or 0,
        probability=_probability(body),
        duration_millis=_millis(body, "duration"),
        group=_string(body, "group", "") or "",
        seed=_seed(body),
    )


def _lookup(request: web.Request) -> Callable[[str], DiscoveryNode | None]:
    state = cluster_state(request)

    def lookup(name_or_address: str) -> DiscoveryNode | None:
        by_name = state.node_by_name(name_or_address)
        if by_name is not None:
            return by_name
        return next((n for n in state.nodes.values() if n.transport_address == name_or_address), None)

    return lookup


async def list_faults(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.check_unrecognized()
    transport = services(request).transport
    return req.respond({"node": transport.local_node.name, "faults": transport.faults.to_json()})


async def add_fault(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.check_unrecognized()
    transport = services(request).transport
    spec = parse_fault(parse_body(await request.read()), _lookup(request))
    if spec.target == transport.local_node.transport_address:
        # A node's requests to itself never touch the network (the `direct` path), so no rule could affect them.
        raise IllegalArgumentError(f"[target] must be another node, not this node itself [{spec.target}]")
    rule = transport.faults.add(spec)
    return req.respond({"acknowledged": True, "fault": transport.faults.render(rule)})


async def remove_fault(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.check_unrecognized()
    removed = services(request).transport.faults.remove(request.match_info["fault_id"])
    return req.respond({"acknowledged": True, "removed": [rule.id for rule in removed]})


async def heal_faults(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.check_unrecognized()
    healed = services(request).transport.faults.heal()
    return req.respond({"acknowledged": True, "healed": [rule.id for rule in healed]})
