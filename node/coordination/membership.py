"""Pure cluster-state transitions for nodes joining and leaving (mirrors ES `NodeJoinExecutor` and
`NodeLeftExecutor`).

The master service runs these on the master's last accepted state; each returns the *same object* when nothing
changes, which is how the master knows a batch needs no publication (ES: "unchanged cluster state").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from node.cluster.state import ClusterState, DiscoveryNode
from node.storage.store import new_node_id

__all__ = ["NA_CLUSTER_UUID", "add_joining_nodes", "become_master", "describe_node", "remove_nodes"]

NA_CLUSTER_UUID = "_na_"


def describe_node(node: DiscoveryNode) -> str:
    """ES's short node rendering in coordination logs: `{node-1}{oTUltX4IQMOUUVeiohTt8A}`."""
    return f"{{{node.name}}}{{{node.id}}}"


def _with_joiners(nodes: dict[str, DiscoveryNode], joiners: Iterable[DiscoveryNode]) -> bool:
    """Adds `joiners` to `nodes` in place, evicting stale entries; returns whether anything changed.

    A node that restarted keeps its id but gets a new ephemeral id, and a node whose data directory was wiped
    comes back on the same address with a new id: either way the old entry describes a process that no longer
    exists, so it is replaced, as ES does when it "removes existing node [...] which conflicts with incoming join".
    """
    changed = False
    for joiner in joiners:
        existing = nodes.get(joiner.id)
        if existing is not None and existing == joiner:
            continue
        for stale in [
            n for n in nodes.values() if n.id == joiner.id or n.transport_address == joiner.transport_address
        ]:
            del nodes[stale.id]
        nodes[joiner.id] = joiner
        changed = True
    return changed


def add_joining_nodes(state: ClusterState, joiners: Iterable[DiscoveryNode]) -> ClusterState:
    """The state with `joiners` added (or refreshed after a restart); `state` itself if all are already in."""
    nodes = dict(state.nodes)
    if not _with_joiners(nodes, joiners):
        return state
    return state.with_changes(nodes=MappingProxyType(nodes))


def become_master(state: ClusterState, master: DiscoveryNode, joiners: Iterable[DiscoveryNode]) -> ClusterState:
    """The first state of a newly elected master (ES `becomeMasterAndTrimConflictingNodes`).

    The nodes of the last accepted state are kept, even the previous master: the followers checker removes the
    ones that are gone within one check, which is cheaper than making every live follower rejoin. A brand-new
    cluster gets its uuid here, once, from the first master ever elected.
    """
    nodes = dict(state.nodes)
    _with_joiners(nodes, [master, *joiners])
    uuid = state.cluster_uuid if state.cluster_uuid != NA_CLUSTER_UUID else new_node_id()
    return state.with_changes(nodes=MappingProxyType(nodes), master_node_id=master.id, cluster_uuid=uuid)


def remove_nodes(state: ClusterState, departed: Mapping[str, str]) -> ClusterState:
    """The state without the nodes in `departed` (id → ephemeral id); `state` itself if none of them is in it.

    Matching the ephemeral id too means a stale failure report about a process that has since restarted and
    rejoined does not remove the new process.
    """
    nodes = {
        node_id: node
        for node_id, node in state.nodes.items()
        if departed.get(node_id) is None or departed[node_id] != node.ephemeral_id
    }
    if len(nodes) == len(state.nodes):
        return state
    return state.with_changes(nodes=MappingProxyType(nodes))
