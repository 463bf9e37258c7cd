"""The safety core of Zen2: terms, votes, publish quorums (mirrors ES `CoordinationState`).

Everything here is pure and synchronous: the `Coordinator` calls one `handle_*` method, then persists
`to_persisted()` before it answers the request that caused the change, so a vote or an acknowledgement is never
given for something that would be forgotten after a crash. Each rule below is the one ES enforces, with ES's
rejection text, and each rejection is a `CoordinationStateRejectedError`.

Why the rules are safe, in one paragraph: a node grants at most one vote per term (`handle_start_join` only ever
increases the term), a master needs votes from a quorum of both the last committed and the last accepted voting
configuration, and a state is committed only once a quorum of both the committed and the published configuration
accepted it. Any two quorums of one configuration intersect, so two masters in one term, or a committed state that a
later master does not know, are impossible.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from node.cluster.state import ClusterState
from node.errors import (
    CoordinationStateRejectedError,
    FailedToCommitClusterStateError,
    NodeClosedError,
    NotMasterError,
)

__all__ = [
    "CoordinationState",
    "CoordinationStateRejectedError",
    "FailedToCommitClusterStateError",
    "Join",
    "NodeClosedError",
    "NotMasterError",
    "PersistedCoordination",
    "is_quorum",
]


def is_quorum(votes: Collection[str], config: Collection[str]) -> bool:
    """ES `VotingConfiguration#hasQuorum`: strictly more than half of the configuration's ids voted.

    An empty configuration has no quorum: a node that was never bootstrapped cannot win or commit anything.
    """
    if not config:
        return False
    return 2 * sum(1 for node_id in config if node_id in votes) > len(config)


@dataclass(frozen=True, slots=True)
class Join:
    """A vote of `voter_id` for `candidate_id` in `term` (ES `Join`), with the voter's last accepted state."""

    voter_id: str
    candidate_id: str
    term: int
    last_accepted_term: int
    last_accepted_version: int


@dataclass(frozen=True, slots=True)
class PersistedCoordination:
    """What a node keeps on disk for coordination (ES `PersistedState` plus `CoordinationMetadata`).

    The last vote is not needed for safety (a persisted term is enough: a node only votes in a term it moves to),
    but is kept so an operator can see whom a node voted for.
    """

    current_term: int
    last_accepted: ClusterState
    last_committed_config: frozenset[str]
    last_vote: tuple[int, str] | None = None
    cluster_uuid_committed: bool = False

    @classmethod
    def initial(cls, cluster_name: str) -> PersistedCoordination:
        return cls(
            current_term=0, last_accepted=ClusterState(cluster_name=cluster_name), last_committed_config=frozenset()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "current_term": self.current_term,
            "last_accepted": self.last_accepted.to_persisted(),
            "last_committed_config": sorted(self.last_committed_config),
            "last_vote": None
            if self.last_vote is None
            else {"term": self.last_vote[0], "candidate": self.last_vote[1]},
            "cluster_uuid_committed": self.cluster_uuid_committed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PersistedCoordination:
        vote = data.get("last_vote")
        return cls(
            current_term=int(data["current_term"]),
            last_accepted=ClusterState.from_persisted(data["last_accepted"]),
            last_committed_config=frozenset(data.get("last_committed_config") or ()),
            last_vote=None if not vote else (int(vote["term"]), str(vote["candidate"])),
            cluster_uuid_committed=bool(data.get("cluster_uuid_committed", False)),
        )


class CoordinationState:
    """The term, the votes and the last accepted state of one node, with ES's rules for changing them."""

    def __init__(self, local_node_id: str, persisted: PersistedCoordination) -> None:
        self._local_id = local_node_id
        self._current_term = persisted.current_term
        self._last_accepted = persisted.last_accepted
        self._last_committed_config = persisted.last_committed_config
        self._last_vote = persisted.last_vote
        self._cluster_uuid_committed = persisted.cluster_uuid_committed
        # Volatile, as in ES: after a restart a node must move to a new term before it can collect votes again.
        self._started_join_since_last_reboot = False
        self._election_won = False
        self._join_votes: set[str] = set()
        self._publish_votes: set[str] = set()
        self._last_published_version = 0
        self._last_published_config = persisted.last_accepted.voting_config

    # ---- reads ---------------------------------------------------------------------------------------------

    @property
    def current_term(self) -> int:
        return self._current_term

    @property
    def last_accepted_state(self) -> ClusterState:
        return self._last_accepted

    @property
    def last_accepted_term(self) -> int:
        return self._last_accepted.term

    @property
    def last_accepted_version(self) -> int:
        return self._last_accepted.version

    @property
    def last_accepted_config(self) -> frozenset[str]:
        return self._last_accepted.voting_config

    @property
    def last_committed_config(self) -> frozenset[str]:
        return self._last_committed_config

    @property
    def cluster_uuid_committed(self) -> bool:
        """Whether the last accepted cluster uuid was committed: from then on the node belongs to that cluster.

        ES `clusterUUIDCommitted`. Before that, the uuid of a state a would-be master never committed means
        nothing, and a state with another uuid from the master that did win must be accepted.
        """
        return self._cluster_uuid_committed

    @property
    def election_won(self) -> bool:
        return self._election_won

    @property
    def join_votes(self) -> frozenset[str]:
        return frozenset(self._join_votes)

    def contains_join_vote_for(self, node_id: str) -> bool:
        return node_id in self._join_votes

    def is_election_quorum(self, votes: Collection[str]) -> bool:
        """A quorum of both configurations, so an election during a reconfiguration is safe under either."""
        return is_quorum(votes, self._last_committed_config) and is_quorum(votes, self.last_accepted_config)

    def is_publish_quorum(self, votes: Collection[str]) -> bool:
        return is_quorum(votes, self._last_committed_config) and is_quorum(votes, self._last_published_config)

    def join_votes_have_quorum_for(self, config: Collection[str]) -> bool:
        return is_quorum(self._join_votes, config)

    def to_persisted(self) -> dict[str, Any]:
        return PersistedCoordination(
            self._current_term,
            self._last_accepted,
            self._last_committed_config,
            self._last_vote,
            self._cluster_uuid_committed,
        ).to_json()

    # ---- transitions ---------------------------------------------------------------------------------------

    def set_initial_state(self, state: ClusterState) -> None:
        """Bootstraps: the first voting configuration, in term 0 version 0 (ES `setInitialState`)."""
        if self.last_accepted_config:
            raise CoordinationStateRejectedError("initial state already set: last-accepted configuration now non-empty")
        if not state.voting_config:
            raise CoordinationStateRejectedError("cannot set an initial state with an empty voting configuration")
        self._last_accepted = state
        self._last_committed_config = state.voting_config
        self._last_published_config = state.voting_config

    def handle_start_join(self, candidate_id: str, term: int) -> Join:
        """Moves to `term` and votes for `candidate_id`; the only way the term ever grows."""
        if term <= self._current_term:
            raise CoordinationStateRejectedError(
                f"incoming term {term} not greater than current term {self._current_term}"
            )
        self._current_term = term
        self._last_vote = (term, candidate_id)
        self._started_join_since_last_reboot = True
        self._election_won = False
        self._join_votes = set()
        self._publish_votes = set()
        self._last_published_version = 0
        self._last_published_config = self.last_accepted_config
        return Join(self._local_id, candidate_id, term, self.last_accepted_term, self.last_accepted_version)

    def handle_join(self, join: Join) -> bool:
        """Counts a vote for the local node; returns whether it was a new one."""
        if join.candidate_id != self._local_id:
            raise CoordinationStateRejectedError(f"ignoring join for other node [{join.candidate_id}]")
        if join.term != self._current_term:
            raise CoordinationStateRejectedError(
                f"incoming term {join.term} does not match current term {self._current_term}"
            )
        if not self._started_join_since_last_reboot:
            raise CoordinationStateRejectedError("ignored join as term has not been incremented yet after reboot")
        if join.last_accepted_term > self.last_accepted_term:
            raise CoordinationStateRejectedError(
                f"incoming last accepted term {join.last_accepted_term} of join higher than current last accepted "
                f"term {self.last_accepted_term}"
            )
        if (
            join.last_accepted_term == self.last_accepted_term
            and join.last_accepted_version > self.last_accepted_version
        ):
            raise CoordinationStateRejectedError(
                f"incoming last accepted version {join.last_accepted_version} of join higher than current last "
                f"accepted version {self.last_accepted_version} in term {self.last_accepted_term}"
            )
        if not self.last_accepted_config:
            raise CoordinationStateRejectedError("ignored join as initial configuration is not set")
        added = join.voter_id not in self._join_votes
        self._join_votes.add(join.voter_id)
        previously_won = self._election_won
        self._election_won = self.is_election_quorum(self._join_votes)
        if self._election_won and not previously_won:
            self._last_published_version = self.last_accepted_version
        return added

    def handle_client_value(self, state: ClusterState) -> None:
        """Starts publishing `state` as master (ES `handleClientValue`)."""
        if not self._election_won:
            raise CoordinationStateRejectedError("election not won")
        if self._last_published_version != self.last_accepted_version:
            raise CoordinationStateRejectedError("cannot start publishing next value before accepting previous one")
        if state.term != self._current_term:
            raise CoordinationStateRejectedError(
                f"incoming term {state.term} does not match current term {self._current_term}"
            )
        if state.version <= self._last_published_version:
            raise CoordinationStateRejectedError(
                f"incoming cluster state version {state.version} lower or equal to last published version "
                f"{self._last_published_version}"
            )
        if (
            state.voting_config != self.last_accepted_config
            and self._last_committed_config != self.last_accepted_config
        ):
            raise CoordinationStateRejectedError("only allow reconfiguration while not already reconfiguring")
        if not self.join_votes_have_quorum_for(state.voting_config):
            raise CoordinationStateRejectedError("only allow reconfiguration if joinVotes have quorum for new config")
        self._last_published_version = state.version
        self._last_published_config = state.voting_config
        self._publish_votes = set()

    def handle_publish_request(self, state: ClusterState) -> None:
        """Accepts a published state (ES `handlePublishRequest`)."""
        if state.term != self._current_term:
            raise CoordinationStateRejectedError(
                f"incoming term {state.term} does not match current term {self._current_term}"
            )
        if state.term == self.last_accepted_term and state.version <= self.last_accepted_version:
            raise CoordinationStateRejectedError(
                f"incoming version {state.version} lower or equal to current version {self.last_accepted_version}"
            )
        self._last_accepted = state

    def handle_publish_response(self, source_id: str, term: int, version: int) -> bool:
        """Counts an acknowledgement; returns True when the state just became committable."""
        if not self._election_won:
            raise CoordinationStateRejectedError("election not won")
        if term != self._current_term:
            raise CoordinationStateRejectedError(
                f"incoming term {term} does not match current term {self._current_term}"
            )
        if version != self._last_published_version:
            raise CoordinationStateRejectedError(
                f"incoming version {version} does not match current version {self._last_published_version}"
            )
        had_quorum = self.is_publish_quorum(self._publish_votes)
        self._publish_votes.add(source_id)
        return not had_quorum and self.is_publish_quorum(self._publish_votes)

    def handle_commit(self, term: int, version: int) -> None:
        """Marks the last accepted state committed (ES `handleCommit`); its configuration becomes the committed one."""
        if term != self._current_term:
            raise CoordinationStateRejectedError(
                f"incoming term {term} does not match current term {self._current_term}"
            )
        if term != self.last_accepted_term:
            raise CoordinationStateRejectedError(
                f"incoming term {term} does not match last accepted term {self.last_accepted_term}"
            )
        if version != self.last_accepted_version:
            raise CoordinationStateRejectedError(
                f"incoming version {version} does not match current version {self.last_accepted_version}"
            )
        self._last_committed_config = self.last_accepted_config
        self._cluster_uuid_committed = True
