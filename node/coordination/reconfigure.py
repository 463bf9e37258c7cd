"""Choosing the voting configuration as master-eligible nodes come and go (mirrors ES `Reconfigurator`).

ES runs with `cluster.auto_shrink_voting_configuration: true`, and so does simcluster: the configuration follows the
live master-eligible nodes, kept odd (an even count tolerates no more failures than the odd count below it), and
never shrinks below three once it has reached three, so a three-node cluster that loses a node still needs two of
the original three and a lone survivor can never declare itself a majority.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from node.cluster.state import ClusterState, DiscoveryNode
from node.coordination.coordination_state import CoordinationState, is_quorum

__all__ = [
    "ConfigurationDecision",
    "ReconfigurationScheduler",
    "Reconfigurator",
    "VotingConfigNode",
    "improve_configuration",
    "round_down_to_odd",
]

log = logging.getLogger(__name__)


def round_down_to_odd(size: int) -> int:
    """`4 → 3`, `3 → 3`, `0 → -1` (ES keeps the -1; the enforced minimum makes it harmless)."""
    return size - (1 if size % 2 == 0 else 0)


@dataclass(frozen=True, slots=True, order=True)
class VotingConfigNode:
    """A candidate for the configuration, ordered as ES prefers them.

    The sort key puts the current master first, then live nodes, then nodes already in the configuration (so a
    healthy configuration changes as little as possible), then ids for determinism.
    """

    sort_key: tuple[bool, bool, bool, str]

    @classmethod
    def of(cls, node_id: str, *, live: bool, current_master: bool, in_current_config: bool) -> VotingConfigNode:
        return cls((not current_master, not live, not in_current_config, node_id))

    @property
    def id(self) -> str:
        return self.sort_key[3]

    @property
    def live(self) -> bool:
        return not self.sort_key[1]


class Reconfigurator:
    """Computes the best voting configuration for the live master-eligible nodes."""

    def reconfigure(
        self,
        live_nodes: Iterable[DiscoveryNode],
        retired_node_ids: Collection[str],
        current_master_id: str,
        current_config: frozenset[str],
    ) -> frozenset[str]:
        """Returns the new configuration, or `current_config` when no better one has a live quorum.

        Args:
            live_nodes: nodes that may vote now; the coordinator passes the master-eligible nodes of the cluster
                state that have joined the master in its term (ES `containsJoinVoteFor`).
            retired_node_ids: nodes that must leave the configuration (master-ineligible nodes still in it).
            current_master_id: the elected master, always kept.
            current_config: the last accepted configuration.
        """
        live_ids = {n.id for n in live_nodes if n.is_master_eligible}
        candidates: dict[str, VotingConfigNode] = {}
        for node_id in live_ids - set(retired_node_ids):
            candidates[node_id] = VotingConfigNode.of(
                node_id,
                live=True,
                current_master=node_id == current_master_id,
                in_current_config=node_id in current_config,
            )
        for node_id in current_config - live_ids - set(retired_node_ids):
            candidates[node_id] = VotingConfigNode.of(node_id, live=False, current_master=False, in_current_config=True)

        # Auto-shrink: a configuration of three or more never goes below three; a smaller one may stay small.
        minimum_size = 1 if len(current_config) < 3 else 3
        live_count = sum(1 for c in candidates.values() if c.live)
        target_size = max(round_down_to_odd(live_count), minimum_size)
        new_config = frozenset(c.id for c in sorted(candidates.values())[:target_size])
        # A configuration that the live nodes could not satisfy would make the cluster unavailable at once.
        return new_config if is_quorum(live_ids, new_config) else current_config


@dataclass(frozen=True, slots=True)
class ConfigurationDecision:
    """What the master should do with the voting configuration of `state`.

    Attributes:
        config: the configuration to publish (the current one when nothing should change).
        votes_missing: master-eligible nodes of the cluster whose vote the master lacks in its term, when a better
            configuration depends on them; the configuration is then left alone until they vote.
    """

    config: frozenset[str]
    votes_missing: frozenset[str] = frozenset()


def improve_configuration(
    state: ClusterState,
    master_id: str,
    has_join_vote: Callable[[str], bool],
    votes_collected_for: frozenset[str] = frozenset(),
    reconfigurator: Reconfigurator | None = None,
) -> ConfigurationDecision:
    """ES `Coordinator#improveConfiguration`: only nodes that voted for the master in its term count as live.

    That rule makes reconfiguration safe: a quorum of the new configuration is bound to this master for its whole
    term, so no other node can win the term under it (`CoordinationState.handle_client_value` enforces it).
    Its price: a node that lost an election race follows the winner without having voted for it, and ES would
    then reconfigure that healthy node out. simcluster reports such nodes in `votes_missing` instead, keeps the
    configuration, and lets the coordinator re-elect its master once in a new term, where every follower votes;
    `votes_collected_for` is the set it already did that for, so a node that still cannot vote does not cause
    election after election.

    Args:
        has_join_vote: whether a node id voted for the master in its current term.
        votes_collected_for: the nodes whose votes a re-election already tried to collect.
    """
    reconfigurator = reconfigurator or Reconfigurator()
    eligible = [n for n in state.nodes.values() if n.is_master_eligible]
    voted = [n for n in eligible if has_join_vote(n.id)]
    retired = {n.id for n in state.nodes.values() if not n.is_master_eligible and n.id in state.voting_config}
    config = reconfigurator.reconfigure(voted, retired, master_id, state.voting_config)
    missing = frozenset(n.id for n in eligible) - frozenset(n.id for n in voted)
    if missing and missing != votes_collected_for:
        wanted = reconfigurator.reconfigure(eligible, retired, master_id, state.voting_config)
        if wanted != config:
            return ConfigurationDecision(state.voting_config, missing)
    return ConfigurationDecision(config)


class ReconfigurationScheduler:
    """Keeps the master's voting configuration at its best (ES `Coordinator#scheduleReconfigurationIfNeeded`).

    Checked after every publication and every new vote; a change is published as its own `reconfigure` update,
    as in ES. When a better configuration needs votes the master lacks (see `improve_configuration`), the
    scheduler waits for late votes of the election, then re-elects the master once to collect them.

    Args:
        is_established_leader: the local node leads, has published in its term, and no publication is running.
        submit: queues a master-service update nobody waits for.
        spawn: starts a background task that the coordinator cancels when it stops.
        reelect: steps down and immediately stands for election in a new term.
        vote_grace: how long to wait for late votes before re-electing (an election round's wait).
    """

    def __init__(
        self,
        node_name: str,
        local_node_id: str,
        coordination: CoordinationState,
        *,
        is_established_leader: Callable[[], bool],
        submit: Callable[[str, Callable[[ClusterState], ClusterState]], None],
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
        reelect: Callable[[], Awaitable[None]],
        vote_grace: float,
    ) -> None:
        self._node_name = node_name
        self._local_id = local_node_id
        self._coordination = coordination
        self._is_established_leader = is_established_leader
        self._submit = submit
        self._spawn = spawn
        self._reelect = reelect
        self._vote_grace = vote_grace
        self._reconfiguration_queued = False
        self._vote_collection_pending = False
        self._votes_collected_for: frozenset[str] = frozenset()

    def reset(self) -> None:
        """A new leadership: a reconfiguration queued in an earlier term died with that term's master service."""
        self._reconfiguration_queued = False

    def decide(self, state: ClusterState) -> ConfigurationDecision:
        return improve_configuration(
            state, self._local_id, self._coordination.contains_join_vote_for, self._votes_collected_for
        )

    def schedule_if_needed(self) -> None:
        if self._reconfiguration_queued or not self._is_established_leader():
            return
        state = self._coordination.last_accepted_state
        decision = self.decide(state)
        if decision.config != state.voting_config:
            self._reconfiguration_queued = True
            self._submit("reconfigure", self._reconfigure)
        elif decision.votes_missing and not self._vote_collection_pending:
            self._vote_collection_pending = True
            self._spawn(self._collect_missing_votes(self._coordination.current_term), "collect-votes")

    def _reconfigure(self, state: ClusterState) -> ClusterState:
        self._reconfiguration_queued = False
        config = self.decide(state).config
        if config == state.voting_config:
            return state
        log.debug("[%s] voting configuration %s → %s", self._node_name, sorted(state.voting_config), sorted(config))
        return state.with_changes(voting_config=config)

    async def _collect_missing_votes(self, term: int) -> None:
        try:
            # The election that made us master may still be delivering votes: give them the time an election
            # round gives its voters before disturbing the cluster with a new term.
            await asyncio.sleep(self._vote_grace)
            if self._coordination.current_term != term or not self._is_established_leader():
                return
            decision = self.decide(self._coordination.last_accepted_state)
            if not decision.votes_missing:
                self.schedule_if_needed()  # the votes arrived meanwhile
                return
            log.debug("[%s] re-electing to collect the votes of %s", self._node_name, sorted(decision.votes_missing))
            self._votes_collected_for = decision.votes_missing
        finally:
            self._vote_collection_pending = False
        await self._reelect()
