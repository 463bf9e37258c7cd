"""Bootstrapping a brand-new cluster, and saying why a cluster has not formed (mirrors ES `ClusterBootstrapService`
and `ClusterFormationFailureHelper`).

Bootstrapping happens once in the life of a cluster: a master-eligible node with no voting configuration and a
non-empty `initial_master_nodes` waits until it has discovered every listed node, then takes their ids as the
first voting configuration. Every listed node computes the same set from the same names, so they agree without
talking about it. After the first election the configuration lives in the persisted cluster state, which is why
a restarted cluster never bootstraps again (and why a stale `initial_master_nodes` is harmless).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from node.cluster.state import DiscoveryNode
from node.config import NodeConfig
from node.coordination.coordination_state import CoordinationState, is_quorum
from node.coordination.membership import describe_node

__all__ = [
    "BootstrapRequirements",
    "ClusterBootstrapService",
    "ClusterFormationFailureHelper",
    "cluster_formation_message",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BootstrapRequirements:
    """The `initial_master_nodes` entries; each matches a node by name or by transport address, as in ES."""

    entries: tuple[str, ...]

    @staticmethod
    def _matches(entry: str, node: DiscoveryNode) -> bool:
        return entry in (node.name, node.transport_address)

    def voting_config(self, discovered: Iterable[DiscoveryNode]) -> frozenset[str] | None:
        """The ids of the matching master-eligible nodes, or None until every entry matches exactly one node.

        An entry matching two different nodes is refused (ES: "requirement [x] matches multiple nodes"): the
        cluster would otherwise be bootstrapped with an arbitrary one of them.
        """
        if not self.entries:
            return None
        eligible = {n.id: n for n in discovered if n.is_master_eligible}
        chosen: set[str] = set()
        for entry in self.entries:
            matching = [n.id for n in eligible.values() if self._matches(entry, n)]
            if len(matching) != 1:
                return None
            chosen.add(matching[0])
        return frozenset(chosen)

    def unmatched(self, discovered: Iterable[DiscoveryNode]) -> list[str]:
        nodes = [n for n in discovered if n.is_master_eligible]
        return [e for e in self.entries if not any(self._matches(e, n) for n in nodes)]


def cluster_formation_message(
    *,
    local: DiscoveryNode,
    requirements: BootstrapRequirements,
    last_committed_config: Collection[str],
    last_accepted_config: Collection[str],
    discovered: Collection[DiscoveryNode],
    seed_hosts: Collection[str],
    current_term: int,
    last_accepted_term: int,
    last_accepted_version: int,
) -> str:
    """The periodic warning of a node that has no master, in ES's words (`ClusterFormationFailureHelper`)."""
    found = [local, *discovered]
    have = "have discovered [" + ", ".join(describe_node(n) for n in found) + "]"
    sources = f"discovery will continue using {list(seed_hosts)} from hosts providers"
    if not local.is_master_eligible:
        return f"master not discovered yet: {have}; {sources}"
    if not last_accepted_config:
        if not requirements.entries:
            return (
                "master not discovered yet, this node has not previously joined a bootstrapped cluster, and "
                f"[cluster.initial_master_nodes] is empty on this node: {have}; {sources}"
            )
        return (
            "master not discovered yet, this node has not previously joined a bootstrapped cluster, and this node "
            f"must discover master-eligible nodes {list(requirements.entries)} to bootstrap a cluster: {have}; "
            f"{sources}"
        )
    config = sorted(set(last_committed_config) | set(last_accepted_config))
    needed = len(last_accepted_config) // 2 + 1
    ids = {n.id for n in found}
    is_q = is_quorum(ids, last_committed_config) and is_quorum(ids, last_accepted_config)
    return (
        f"master not discovered or elected yet, an election requires at least {needed} nodes with ids from {config}, "
        f"{have} which {'is' if is_q else 'is not'} a quorum; {sources}; node term {current_term}, "
        f"last-accepted version {last_accepted_version} in term {last_accepted_term}"
    )


class ClusterBootstrapService:
    """Sets the first voting configuration once every `initial_master_nodes` entry is discovered.

    Args:
        found_peers: the peers discovery has handshaken so far.
        persist: persists the coordination state after the change (the first configuration must survive a crash
            like any vote would).
    """

    def __init__(
        self,
        config: NodeConfig,
        local_node: DiscoveryNode,
        coordination: CoordinationState,
        *,
        found_peers: Callable[[], list[DiscoveryNode]],
        persist: Callable[[], object],
    ) -> None:
        # ES refuses `initial_master_nodes` on a master-ineligible node; simcluster just ignores it there.
        self.requirements = BootstrapRequirements(config.initial_master_nodes if config.is_master_eligible else ())
        self._name = config.name
        self._local = local_node
        self._coordination = coordination
        self._found_peers = found_peers
        self._persist = persist

    def maybe_bootstrap(self) -> bool:
        """Bootstraps if this node may and the requirements are met; True if it just did."""
        if not self.requirements.entries or self._coordination.last_accepted_config:
            return False
        config = self.requirements.voting_config([self._local, *self._found_peers()])
        if config is None:
            return False
        self._coordination.set_initial_state(self._coordination.last_accepted_state.with_changes(voting_config=config))
        log.info("[%s] setting initial configuration to VotingConfiguration{%s}", self._name, ",".join(sorted(config)))
        self._persist()
        return True


class ClusterFormationFailureHelper:
    """Warns every `WARNING_INTERVAL_S` while the node has no master, saying what it is missing."""

    WARNING_INTERVAL_S = 10.0  # ES `discovery.cluster_formation_warning_timeout`

    def __init__(
        self,
        config: NodeConfig,
        local_node: DiscoveryNode,
        requirements: BootstrapRequirements,
        coordination: CoordinationState,
        found_peers: Callable[[], list[DiscoveryNode]],
    ) -> None:
        self._config = config
        self._local = local_node
        self._requirements = requirements
        self._coordination = coordination
        self._found_peers = found_peers
        self._last_warning = 0.0

    def start(self) -> None:
        """Restarts the clock: the first warning comes one interval after the node lost its master."""
        self._last_warning = time.monotonic()

    def maybe_warn(self) -> None:
        now = time.monotonic()
        if now - self._last_warning < self.WARNING_INTERVAL_S:
            return
        self._last_warning = now
        c = self._coordination
        message = cluster_formation_message(
            local=self._local,
            requirements=self._requirements,
            last_committed_config=c.last_committed_config,
            last_accepted_config=c.last_accepted_config,
            discovered=self._found_peers(),
            seed_hosts=self._config.seed_hosts,
            current_term=c.current_term,
            last_accepted_term=c.last_accepted_term,
            last_accepted_version=c.last_accepted_version,
        )
        log.warning("[%s] %s", self._config.name, message)
