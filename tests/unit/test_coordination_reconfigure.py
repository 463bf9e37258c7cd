"""Voting-configuration choices of the `Reconfigurator` (auto-shrink on, as ES's default) and bootstrapping."""

from __future__ import annotations

import pytest

from node.cluster.state import ClusterState, DiscoveryNode
from node.coordination.bootstrap import BootstrapRequirements, cluster_formation_message
from node.coordination.reconfigure import (
    ConfigurationDecision,
    Reconfigurator,
    improve_configuration,
    round_down_to_odd,
)


def node(node_id: str, *, master: bool = True, name: str | None = None, port: int = 9300) -> DiscoveryNode:
    return DiscoveryNode(
        id=node_id,
        name=name or node_id,
        ephemeral_id=f"{node_id}-e",
        host="127.0.0.1",
        transport_address=f"127.0.0.1:{port}",
        http_address="127.0.0.1:9200",
        roles=("data", "master") if master else ("data",),
    )


def reconfigure(live: list[str], current: set[str], master: str = "a", retired: set[str] = frozenset()) -> set[str]:
    return set(Reconfigurator().reconfigure([node(n) for n in live], retired, master, frozenset(current)))


@pytest.mark.parametrize(("size", "odd"), [(0, -1), (1, 1), (2, 1), (3, 3), (4, 3), (5, 5), (6, 5)])
def test_round_down_to_odd(size: int, odd: int) -> None:
    assert round_down_to_odd(size) == odd


def test_a_three_node_cluster_that_loses_a_node_keeps_three_voters() -> None:
    assert reconfigure(live=["a", "b"], current={"a", "b", "c"}) == {"a", "b", "c"}


def test_two_more_master_nodes_grow_three_voters_to_five() -> None:
    assert reconfigure(live=["a", "b", "c", "d", "e"], current={"a", "b", "c"}) == {"a", "b", "c", "d", "e"}


def test_a_fourth_node_does_not_join_the_configuration() -> None:
    assert reconfigure(live=["a", "b", "c", "d"], current={"a", "b", "c"}) == {"a", "b", "c"}


def test_live_nodes_replace_dead_ones() -> None:
    assert reconfigure(live=["a", "b", "d"], current={"a", "b", "c"}) == {"a", "b", "d"}


def test_the_master_is_always_kept() -> None:
    assert "e" in reconfigure(live=["a", "b", "c", "d", "e"], current={"a", "b", "c"}, master="e")
    assert reconfigure(live=["a", "b", "c", "e"], current={"a", "b", "c"}, master="e") == {"a", "b", "e"}


def test_a_five_node_configuration_shrinks_to_three_when_two_leave() -> None:
    assert reconfigure(live=["a", "b", "c"], current={"a", "b", "c", "d", "e"}) == {"a", "b", "c"}


def test_a_small_configuration_follows_the_live_nodes() -> None:
    assert reconfigure(live=["a", "b"], current={"a"}) == {"a"}  # two nodes: one voter, as in ES
    assert reconfigure(live=["a", "b", "c"], current={"a"}) == {"a", "b", "c"}


def test_no_change_without_a_live_quorum_of_the_new_configuration() -> None:
    # Only the master is live: a configuration it could not satisfy alone is not proposed.
    assert reconfigure(live=["a"], current={"a", "b", "c", "d", "e"}) == {"a", "b", "c", "d", "e"}


def test_retired_and_master_ineligible_nodes_leave_the_configuration() -> None:
    assert reconfigure(live=["a", "b", "c", "d"], current={"a", "b", "c"}, retired={"c"}) == {"a", "b", "d"}
    config = Reconfigurator().reconfigure([node("a"), node("b"), node("x", master=False)], (), "a", frozenset({"a"}))
    assert config == {"a"}


# ---- bootstrapping -------------------------------------------------------------------------------------------


def test_bootstrapping_waits_for_every_listed_node() -> None:
    requirements = BootstrapRequirements(("node-1", "node-2", "node-3"))
    one, two, three = (node(f"id{i}", name=f"node-{i}", port=9300 + i) for i in (1, 2, 3))

    assert requirements.voting_config([one, two]) is None
    assert requirements.unmatched([one, two]) == ["node-3"]
    assert requirements.voting_config([one, two, three]) == {"id1", "id2", "id3"}


def test_bootstrapping_matches_names_or_transport_addresses_of_master_eligible_nodes() -> None:
    one, two = node("id1", name="node-1", port=9301), node("id2", name="node-2", port=9302)

    assert BootstrapRequirements(("node-1", "127.0.0.1:9302")).voting_config([one, two]) == {"id1", "id2"}
    data_only = node("id3", name="node-3", master=False, port=9303)
    assert BootstrapRequirements(("node-1", "node-3")).voting_config([one, data_only]) is None


def test_bootstrapping_refuses_an_ambiguous_requirement() -> None:
    twins = [node("id1", name="node-1", port=9301), node("id2", name="node-1", port=9302)]

    assert BootstrapRequirements(("node-1",)).voting_config(twins) is None


def test_no_requirements_never_bootstrap() -> None:
    assert BootstrapRequirements(()).voting_config([node("a")]) is None


def test_the_formation_warning_says_what_is_missing() -> None:
    local = node("id1", name="node-1", port=9301)
    common = {
        "local": local,
        "discovered": [node("id2", name="node-2", port=9302)],
        "seed_hosts": ["127.0.0.1:9302"],
        "current_term": 4,
        "last_accepted_term": 3,
        "last_accepted_version": 17,
    }
    unbootstrapped = {"last_committed_config": frozenset(), "last_accepted_config": frozenset()}

    waiting = cluster_formation_message(
        requirements=BootstrapRequirements(("node-1", "node-3")), **unbootstrapped, **common
    )
    assert waiting.startswith(
        "master not discovered yet, this node has not previously joined a bootstrapped cluster, and this node must "
        "discover master-eligible nodes ['node-1', 'node-3'] to bootstrap a cluster: have discovered "
        "[{node-1}{id1}, {node-2}{id2}]"
    )
    assert "[cluster.initial_master_nodes] is empty" in cluster_formation_message(
        requirements=BootstrapRequirements(()), **unbootstrapped, **common
    )
    config = frozenset({"id1", "id2", "id3"})
    quorum = cluster_formation_message(
        requirements=BootstrapRequirements(()), last_committed_config=config, last_accepted_config=config, **common
    )
    assert "an election requires at least 2 nodes with ids from ['id1', 'id2', 'id3']" in quorum
    assert "which is a quorum" in quorum
    assert quorum.endswith("node term 4, last-accepted version 17 in term 3")


# ---- the master's decision (only nodes that voted for it in its term count as live) -------------------------


def cluster(ids: list[str], config: set[str]) -> ClusterState:
    nodes = [node(i, port=9300 + n) for n, i in enumerate(ids)]
    return ClusterState(cluster_name="c", voting_config=frozenset(config)).with_nodes(nodes)


def test_votes_from_every_node_reconfigure_as_the_reconfigurator_does() -> None:
    state = cluster(["a", "b", "c", "d", "e"], {"a", "b", "c"})

    decision = improve_configuration(state, "a", lambda node_id: True)

    assert decision == ConfigurationDecision(frozenset({"a", "b", "c", "d", "e"}))


def test_a_missing_vote_that_does_not_matter_changes_nothing() -> None:
    # node c lost the election race: it follows without a vote, but three voters stay three voters.
    decision = improve_configuration(cluster(["a", "b", "c"], {"a", "b", "c"}), "a", lambda node_id: node_id != "c")

    assert decision == ConfigurationDecision(frozenset({"a", "b", "c"}))


def test_a_missing_vote_that_would_drop_a_healthy_node_keeps_the_configuration_and_asks_for_votes() -> None:
    state = cluster(["a", "b", "c", "d"], {"a", "b", "c"})

    decision = improve_configuration(state, "a", lambda node_id: node_id != "c")  # ES alone would pick {a, b, d}

    assert decision == ConfigurationDecision(frozenset({"a", "b", "c"}), votes_missing=frozenset({"c"}))


def test_after_one_attempt_to_collect_the_votes_it_reconfigures_as_es_does() -> None:
    state = cluster(["a", "b", "c", "d"], {"a", "b", "c"})

    decision = improve_configuration(state, "a", lambda node_id: node_id != "c", votes_collected_for=frozenset({"c"}))

    assert decision == ConfigurationDecision(frozenset({"a", "b", "d"}))
