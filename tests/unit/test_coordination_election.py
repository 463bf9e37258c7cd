"""Pre-vote counting, election back-off and the membership transitions a master publishes."""

from __future__ import annotations

import random

from node.cluster.state import ClusterState, DiscoveryNode
from node.coordination.election import ElectionScheduler, PreVoteResponse, is_pre_vote_quorum
from node.coordination.membership import add_joining_nodes, become_master, describe_node, remove_nodes

CONFIG = frozenset({"a", "b", "c"})


def pre_vote(term: int = 1, accepted: tuple[int, int] = (1, 5), *, has_leader: bool = False) -> PreVoteResponse:
    return PreVoteResponse(term, accepted[0], accepted[1], has_leader)


def test_pre_votes_from_a_majority_without_a_leader_win() -> None:
    responses = {"a": pre_vote(), "b": pre_vote()}

    assert is_pre_vote_quorum((1, 5), responses, CONFIG, CONFIG)


def test_a_peer_that_follows_a_live_master_refuses_its_pre_vote() -> None:
    responses = {"a": pre_vote(), "b": pre_vote(has_leader=True)}

    assert not is_pre_vote_quorum((1, 5), responses, CONFIG, CONFIG)


def test_a_peer_with_a_fresher_state_does_not_count() -> None:
    assert not is_pre_vote_quorum((1, 5), {"a": pre_vote(), "b": pre_vote(accepted=(1, 6))}, CONFIG, CONFIG)
    assert not is_pre_vote_quorum((1, 5), {"a": pre_vote(), "b": pre_vote(accepted=(2, 0))}, CONFIG, CONFIG)
    assert is_pre_vote_quorum((1, 5), {"a": pre_vote(), "b": pre_vote(term=9, accepted=(1, 4))}, CONFIG, CONFIG)


def test_a_minority_never_wins_a_pre_vote() -> None:
    config = frozenset({"a", "b", "c", "d", "e"})

    assert not is_pre_vote_quorum((1, 5), {"a": pre_vote(), "b": pre_vote()}, config, config)


def test_during_a_reconfiguration_both_configurations_need_a_majority() -> None:
    new = frozenset({"a", "d", "e"})

    assert not is_pre_vote_quorum((1, 5), {"a": pre_vote(), "d": pre_vote(), "e": pre_vote()}, CONFIG, new)
    votes = {"a": pre_vote(), "b": pre_vote(), "d": pre_vote()}
    assert is_pre_vote_quorum((1, 5), votes, CONFIG, new)


def test_election_delays_back_off_up_to_a_cap() -> None:
    scheduler = ElectionScheduler(100, maximum_ms=350, rng=random.Random(7))

    assert [scheduler.upper_bound_ms(n) for n in range(5)] == [100, 200, 300, 350, 350]
    assert all(0 <= scheduler.delay_seconds(n) <= 0.35 for n in range(20))


# ---- membership transitions ----------------------------------------------------------------------------------


def node(node_id: str, ephemeral: str = "e1", port: int = 9300) -> DiscoveryNode:
    return DiscoveryNode(node_id, f"node-{node_id}", ephemeral, "127.0.0.1", f"127.0.0.1:{port}", "", ("master",))


def test_a_new_master_keeps_the_known_nodes_and_gets_a_uuid_once() -> None:
    old = ClusterState(cluster_name="c").with_nodes([node("a", port=1), node("b", port=2)])

    state = become_master(old, node("a", port=1), [node("c", port=3)])

    assert state.master_node_id == "a"
    assert set(state.nodes) == {"a", "b", "c"}
    assert len(state.cluster_uuid) == 22
    assert become_master(state, node("b", port=2), []).cluster_uuid == state.cluster_uuid


def test_a_restarted_node_replaces_its_stale_entry() -> None:
    state = ClusterState(cluster_name="c").with_nodes([node("a", port=1), node("b", "old", port=2)])

    joined = add_joining_nodes(state, [node("b", "new", port=2)])

    assert joined.nodes["b"].ephemeral_id == "new"
    assert add_joining_nodes(joined, [node("b", "new", port=2)]) is joined  # unchanged: nothing to publish


def test_a_new_node_on_an_old_address_replaces_the_old_node() -> None:
    state = ClusterState(cluster_name="c").with_nodes([node("a", port=1), node("b", port=2)])

    assert set(add_joining_nodes(state, [node("z", port=2)]).nodes) == {"a", "z"}


def test_removal_matches_the_process_not_only_the_id() -> None:
    state = ClusterState(cluster_name="c").with_nodes([node("a", port=1), node("b", "new", port=2)])

    assert remove_nodes(state, {"b": "old"}) is state  # a stale report about the previous process
    assert set(remove_nodes(state, {"b": "new"}).nodes) == {"a"}


def test_nodes_are_described_as_es_does() -> None:
    assert describe_node(node("xyz")) == "{node-xyz}{xyz}"
