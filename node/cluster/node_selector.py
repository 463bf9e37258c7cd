"""The `nodes` parameter: ES `DiscoveryNodes#resolveNodes` (reference §5)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from node.cluster.state import ClusterState, DiscoveryNode
from node.common.regex import simple_match
from node.common.roles import BUILT_IN_ROLES
from node.errors import IllegalArgumentError

__all__ = ["parse_boolean", "resolve_nodes"]


def parse_boolean(value: str, default: bool) -> bool:
    """ES `Booleans.parseBoolean(String, boolean)`: empty means the default; only `true`/`false` otherwise."""
    if value == "":
        return default
    if value in ("true", "false"):
        return value == "true"
    raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")


def _role_predicate(role: str) -> Callable[[DiscoveryNode], bool]:
    if role == "data":
        return lambda n: n.is_data
    if role.startswith("data_"):
        return lambda n: role in n.roles or "data" in n.roles
    return lambda n: role in n.roles


def resolve_nodes(state: ClusterState, local_node_id: str, selectors: Sequence[str]) -> list[str]:
    """Resolves node selectors to node ids, applying tokens in order from an empty set.

    Unknown names and ids resolve to nothing (not an error). The result is ordered by node name so responses are
    deterministic (ES leaves the order unspecified).
    """
    nodes = state.nodes_sorted()
    if not selectors:
        return [n.id for n in nodes]
    chosen: set[str] = set()
    for token in selectors:
        if token == "_local":
            if local_node_id in state.nodes:
                chosen.add(local_node_id)
        elif token == "_master":
            if state.master_node_id is not None:
                chosen.add(state.master_node_id)
        elif token in state.nodes:
            chosen.add(token)
        else:
            for n in nodes:
                if (
                    token == "_all"
                    or simple_match(token, n.name)
                    or simple_match(token, n.ip)
                    or simple_match(token, n.host)
                ):
                    chosen.add(n.id)
            if ":" in token:
                _apply_attribute_token(token, nodes, chosen)
    return [n.id for n in nodes if n.id in chosen]


def _apply_attribute_token(token: str, nodes: list[DiscoveryNode], chosen: set[str]) -> None:
    name, _, value = token.partition(":")
    if name in BUILT_IN_ROLES:
        matches = [n.id for n in nodes if _role_predicate(name)(n)]
        _add_or_remove(chosen, matches, parse_boolean(value, True))
    elif name == "coordinating_only":
        _add_or_remove(chosen, [n.id for n in nodes if not n.roles], parse_boolean(value, True))
    else:
        for n in nodes:
            if name in n.roles:  # a custom (plugin-defined) role
                _add_or_remove(chosen, [n.id], parse_boolean(value, True))
        for n in nodes:
            if any(simple_match(name, k) and simple_match(value, v) for k, v in n.attributes.items()):
                chosen.add(n.id)


def _add_or_remove(chosen: set[str], ids: list[str], add: bool) -> None:
    if add:
        chosen.update(ids)
    else:
        chosen.difference_update(ids)
