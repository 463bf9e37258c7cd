"""The safety rules of `CoordinationState`: votes, terms, publish quorums and commits (mirrors ES CoordinationStateTests)."""

from __future__ import annotations

import pytest

from node.cluster.state import ClusterState
from node.coordination.coordination_state import (
    CoordinationState,
    CoordinationStateRejectedError,
    Join,
    PersistedCoordination,
    is_quorum,
)

A, B, C, D, E = "node-a", "node-b", "node-c", "node-d", "node-e"


def bootstrapped(local: str, config: frozenset[str] = frozenset({A, B, C})) -> CoordinationState:
    state = CoordinationState(local, PersistedCoordination.initial("simcluster"))
    state.set_initial_state(ClusterState(cluster_name="simcluster", voting_config=config))
    return state


def elected(local: str = A, term: int = 1, voters: tuple[str, ...] = (A, B)) -> CoordinationState:
    state = bootstrapped(local)
    state.handle_start_join(local, term)
    for voter in voters:
        state.handle_join(Join(voter, local, term, 0, 0))
    assert state.election_won
    return state


def published(state: CoordinationState, version: int, config: frozenset[str] | None = None) -> ClusterState:
    return ClusterState(
        cluster_name="simcluster",
        term=state.current_term,
        version=version,
        voting_config=state.last_accepted_config if config is None else config,
    )


# ---- quorums -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "config", "expected"),
    [
        ({A, B}, {A, B, C}, True),
        ({A}, {A, B, C}, False),
        ({A, D, E}, {A, B, C}, False),  # votes outside the configuration do not count
        ({A}, {A}, True),
        ({A}, {A, B}, False),  # two voters need both: half is not a majority
        ({A, B, C}, {A, B, C, D, E}, True),
        ({A, B}, {A, B, C, D, E}, False),
        ({A}, set(), False),  # an unbootstrapped node has no quorum at all
    ],
)
def test_a_quorum_is_a_strict_majority_of_the_configuration(votes: set[str], config: set[str], expected: bool) -> None:
    assert is_quorum(votes, config) is expected


# ---- voting --------------------------------------------------------------------------------------------------


def test_a_node_votes_at_most_once_per_term() -> None:
    voter = bootstrapped(B)
    voter.handle_start_join(A, 5)

    with pytest.raises(CoordinationStateRejectedError, match="incoming term 5 not greater than current term 5"):
        voter.handle_start_join(C, 5)
    with pytest.raises(CoordinationStateRejectedError, match="not greater than current term 5"):
        voter.handle_start_join(C, 4)


def test_a_vote_carries_the_voters_last_accepted_state() -> None:
    voter = bootstrapped(B)
    voter.handle_start_join(C, 1)
    voter.handle_publish_request(
        ClusterState(cluster_name="simcluster", term=1, version=7, voting_config=frozenset({A, B, C}))
    )

    join = voter.handle_start_join(A, 2)

    assert join == Join(voter_id=B, candidate_id=A, term=2, last_accepted_term=1, last_accepted_version=7)
    assert voter.current_term == 2


def test_a_majority_of_the_voting_configuration_wins_the_election() -> None:
    candidate = bootstrapped(A)
    candidate.handle_start_join(A, 1)
    candidate.handle_join(Join(A, A, 1, 0, 0))
    assert not candidate.election_won

    candidate.handle_join(Join(D, A, 1, 0, 0))  # not in the configuration
    assert not candidate.election_won

    candidate.handle_join(Join(B, A, 1, 0, 0))
    assert candidate.election_won


def test_a_vote_from_a_voter_with_a_fresher_state_is_refused() -> None:
    candidate = bootstrapped(A)
    candidate.handle_start_join(A, 3)

    with pytest.raises(CoordinationStateRejectedError, match="last accepted term 2 of join higher"):
        candidate.handle_join(Join(B, A, 3, 2, 1))
    with pytest.raises(CoordinationStateRejectedError, match="last accepted version 4 of join higher"):
        candidate.handle_join(Join(B, A, 3, 0, 4))


def test_a_vote_for_another_term_or_candidate_is_refused() -> None:
    candidate = bootstrapped(A)
    candidate.handle_start_join(A, 3)

    with pytest.raises(CoordinationStateRejectedError, match="incoming term 2 does not match current term 3"):
        candidate.handle_join(Join(B, A, 2, 0, 0))
    with pytest.raises(CoordinationStateRejectedError, match="ignoring join for other node"):
        candidate.handle_join(Join(B, C, 3, 0, 0))


def test_after_a_restart_votes_count_only_in_a_new_term() -> None:
    before = bootstrapped(A)
    before.handle_start_join(A, 4)
    restarted = CoordinationState(A, PersistedCoordination.from_json(before.to_persisted()))

    assert restarted.current_term == 4
    with pytest.raises(CoordinationStateRejectedError, match="term has not been incremented yet after reboot"):
        restarted.handle_join(Join(B, A, 4, 0, 0))


def test_a_node_that_was_never_bootstrapped_cannot_win() -> None:
    candidate = CoordinationState(A, PersistedCoordination.initial("simcluster"))
    candidate.handle_start_join(A, 1)

    with pytest.raises(CoordinationStateRejectedError, match="initial configuration is not set"):
        candidate.handle_join(Join(A, A, 1, 0, 0))


def test_the_initial_state_can_be_set_only_once() -> None:
    state = bootstrapped(A)

    with pytest.raises(CoordinationStateRejectedError, match="initial state already set"):
        state.set_initial_state(ClusterState(cluster_name="simcluster", voting_config=frozenset({A})))


# ---- publication ---------------------------------------------------------------------------------------------


def test_only_an_elected_master_publishes() -> None:
    candidate = bootstrapped(A)
    candidate.handle_start_join(A, 1)

    with pytest.raises(CoordinationStateRejectedError, match="election not won"):
        candidate.handle_client_value(published(candidate, 1))


def test_a_publication_commits_with_a_majority_of_acknowledgements() -> None:
    master = elected()
    state = published(master, 1)
    master.handle_client_value(state)
    master.handle_publish_request(state)

    assert master.handle_publish_response(A, 1, 1) is False
    assert master.handle_publish_response(B, 1, 1) is True
    assert master.handle_publish_response(C, 1, 1) is False  # already committable: reported once


def test_a_reconfiguration_needs_a_majority_of_the_old_and_the_new_configuration() -> None:
    master = elected(voters=(A, B, C, D, E))
    state = published(master, 1, config=frozenset({A, B, C, D, E}))
    master.handle_client_value(state)
    master.handle_publish_request(state)

    # {A, D, E} is a majority of the new configuration but only one node of the committed {A, B, C}.
    for node in (A, D):
        assert master.handle_publish_response(node, 1, 1) is False
    assert master.handle_publish_response(E, 1, 1) is False
    assert master.handle_publish_response(B, 1, 1) is True


def test_a_reconfiguration_needs_votes_from_a_majority_of_the_new_configuration() -> None:
    master = elected(voters=(A, B))

    with pytest.raises(CoordinationStateRejectedError, match="joinVotes have quorum for new config"):
        master.handle_client_value(published(master, 1, config=frozenset({A, D, E})))


def test_an_acknowledgement_for_another_version_or_term_does_not_count() -> None:
    master = elected()
    state = published(master, 1)
    master.handle_client_value(state)

    with pytest.raises(CoordinationStateRejectedError, match="incoming version 2 does not match current version 1"):
        master.handle_publish_response(B, 1, 2)
    with pytest.raises(CoordinationStateRejectedError, match="incoming term 2 does not match current term 1"):
        master.handle_publish_response(B, 2, 1)


def test_a_follower_accepts_only_newer_states_of_its_current_term() -> None:
    follower = bootstrapped(B)
    follower.handle_start_join(A, 2)
    follower.handle_publish_request(ClusterState(cluster_name="simcluster", term=2, version=5))

    with pytest.raises(CoordinationStateRejectedError, match="incoming term 1 does not match current term 2"):
        follower.handle_publish_request(ClusterState(cluster_name="simcluster", term=1, version=9))
    with pytest.raises(CoordinationStateRejectedError, match="incoming version 5 lower or equal to current version 5"):
        follower.handle_publish_request(ClusterState(cluster_name="simcluster", term=2, version=5))


def test_a_commit_must_match_the_last_accepted_state() -> None:
    follower = bootstrapped(B)
    follower.handle_start_join(A, 2)
    follower.handle_publish_request(
        ClusterState(
            cluster_name="simcluster", cluster_uuid="uuid", term=2, version=5, voting_config=frozenset({A, B, C, D, E})
        )
    )

    with pytest.raises(CoordinationStateRejectedError, match="incoming version 4 does not match current version 5"):
        follower.handle_commit(2, 4)
    assert not follower.cluster_uuid_committed

    follower.handle_commit(2, 5)
    assert follower.last_committed_config == frozenset({A, B, C, D, E})
    assert follower.cluster_uuid_committed


def test_the_persisted_form_round_trips() -> None:
    state = elected()
    accepted = ClusterState(
        cluster_name="simcluster", cluster_uuid="uuid", term=1, version=3, voting_config=frozenset({A, B, C}),
        metadata={"persistent": {"x": "y"}},
    )  # fmt: skip
    state.handle_publish_request(accepted)
    state.handle_commit(1, 3)

    restored = PersistedCoordination.from_json(state.to_persisted())

    assert restored.current_term == 1
    assert restored.last_accepted == accepted
    assert restored.last_committed_config == frozenset({A, B, C})
    assert restored.last_vote == (1, A)
    assert restored.cluster_uuid_committed
