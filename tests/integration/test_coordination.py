"""Cluster coordination with real coordinators over real gRPC, all in the test's event loop (DESIGN §3)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from node.cluster.state import ClusterState
from node.common import action_names as names
from node.coordination.coordination_state import NotMasterError
from node.errors import ElasticsearchError
from node.transport.faults import FaultKind
from node.transport.pb import transport_pb2 as pb

# The `coordination_cluster` fixture (tests/integration/conftest.py) returns an `InProcessCluster` factory.
ClusterFactory = Callable[..., Any]


async def test_three_nodes_bootstrap_and_elect_exactly_one_master(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)

        assert [n.coordinator.is_master for n in nodes].count(True) == 1
        assert master.coordinator.is_master
        states = [n.state for n in nodes]
        assert len({s.cluster_uuid for s in states}) == 1
        uuid = states[0].cluster_uuid
        assert uuid != "_na_" and len(uuid) == 22
        assert all(s.voting_config == frozenset(n.local_node.id for n in nodes) for s in states)
        assert all(n.local_node.id in n.state.nodes for n in nodes)  # every node sees itself


async def test_on_applied_sees_states_in_version_order(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        await cluster.wait_for_stable_master(nodes)
        for node in nodes:
            assert node.applied, node.name
            for old, new in node.applied:
                assert (new.term, new.version) >= (old.term, old.version)
            assert node.applied[-1][1] is node.state


async def test_stopping_the_master_elects_another_in_a_higher_term(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        old_term = master.state.term
        survivors = [n for n in nodes if n is not master]

        await master.stop()
        elapsed = await cluster.wait_until(
            lambda: all(
                n.state.master_node_id in {s.local_node.id for s in survivors}
                and n.state.term > old_term
                and master.local_node.id not in n.state.nodes
                for n in survivors
            ),
            what="a new master without the stopped one",
        )

        new_master = await cluster.wait_for_stable_master(survivors)
        assert new_master.coordinator.is_master
        # Auto-shrink keeps three voters: the two survivors are a majority of them, the dead node stays listed.
        assert new_master.state.voting_config == frozenset(n.local_node.id for n in nodes)
        assert elapsed < 5, elapsed


async def test_a_single_node_bootstraps_alone(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        [node] = await cluster.start(["solo"], seed_hosts=())
        state = await node.coordinator.wait_for_state(lambda s: s.master_node_id == node.local_node.id, timeout=10)

        assert state is not None
        assert node.coordinator.is_master
        assert state.voting_config == frozenset({node.local_node.id})
        assert set(state.nodes) == {node.local_node.id}
        assert state.term == 1 and state.version == 1


async def test_a_node_of_another_cluster_is_never_admitted(
    coordination_cluster: ClusterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        await cluster.wait_for_stable_master(nodes)
        with caplog.at_level(logging.WARNING, logger="node.coordination.discovery"):
            [stranger] = await cluster.start(
                ["stranger"], seed_hosts=[n.address for n in nodes], initial_master_nodes=(), cluster_name="other"
            )
            await cluster.wait_until(
                lambda: "mismatched cluster name" in caplog.text, what="the stranger to notice the mismatch"
            )

        # Ask directly, as the stranger's discovery does: the reason names the cluster that does not match.
        request = pb.HandshakeRequest(cluster_name="other", sender=stranger.local_node.to_proto())
        with pytest.raises(ElasticsearchError) as failure:
            await stranger.transport.send_to_address(nodes[0].address, names.HANDSHAKE, request, timeout=1)
        assert failure.value.reason == "handshake failed, mismatched cluster name [other]"

        # Several discovery rounds later nobody has admitted it, and it has no master.
        await asyncio.sleep(0.5)
        assert all(stranger.local_node.id not in n.state.nodes for n in nodes)
        assert stranger.state.master_node_id is None


async def test_full_restart_keeps_the_cluster_uuid_and_voting_config(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        names_ = ["node-1", "node-2", "node-3"]
        first = await cluster.start(names_)
        await cluster.wait_for_stable_master(first)
        before = first[0].state
        for node in first:
            await node.stop()

        # Same data dirs (so same node ids), new processes on new ports, initial_master_nodes still set.
        second = await cluster.start(names_)
        await cluster.wait_for_stable_master(second)
        after = second[0].state

        assert after.cluster_uuid == before.cluster_uuid
        assert after.voting_config == before.voting_config
        assert {n.local_node.id for n in second} == {n.local_node.id for n in first}
        assert after.term > before.term and after.version > before.version


async def test_a_node_without_initial_master_nodes_joins_through_one_seed(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        seed = next(n for n in nodes if n is not master)  # a follower: it must point the newcomer to the master

        [fourth] = await cluster.start(["node-4"], seed_hosts=[seed.address], initial_master_nodes=())
        everyone = [*nodes, fourth]
        await cluster.wait_for_stable_master(everyone)

        assert fourth.state.cluster_uuid == master.state.cluster_uuid
        assert fourth.local_node.id in fourth.state.nodes
        # Four live master-eligible nodes: the configuration stays at the three nodes already in it.
        assert fourth.state.voting_config == frozenset(n.local_node.id for n in nodes)


async def test_a_seed_host_name_is_resolved_to_its_addresses(coordination_cluster: ClusterFactory) -> None:
    # A Kubernetes headless service is one name for every pod: discovery resolves names each round (ES
    # `SeedHostsResolver`) and probes every address, its own skipped.
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        port = master.address.rpartition(":")[2]
        [fourth] = await cluster.start(["node-4"], seed_hosts=[f"localhost:{port}"], initial_master_nodes=())
        await cluster.wait_for_stable_master([*nodes, fourth])
        assert fourth.state.cluster_uuid == master.state.cluster_uuid


async def test_a_node_with_no_seeds_is_found_by_the_nodes_seeded_to_it(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        [hub] = await cluster.start(["node-1"], seed_hosts=(), initial_master_nodes=["node-1", "node-2"])
        [spoke] = await cluster.start(["node-2"], seed_hosts=[hub.address], initial_master_nodes=["node-1", "node-2"])

        master = await cluster.wait_for_stable_master([hub, spoke])
        # As in ES, two master-eligible nodes make a one-node voting configuration: the master's.
        await cluster.wait_until(
            lambda: all(n.state.voting_config == frozenset({master.local_node.id}) for n in (hub, spoke)),
            what="the configuration to shrink to the master",
        )


async def test_two_more_master_nodes_grow_the_voting_config_to_five(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        await cluster.wait_for_stable_master(nodes)

        more = await cluster.start(["node-4", "node-5"], initial_master_nodes=())
        everyone = [*nodes, *more]
        await cluster.wait_for_stable_master(everyone)
        await cluster.wait_until(
            lambda: all(n.state.voting_config == frozenset(m.local_node.id for m in everyone) for n in everyone),
            what="a voting configuration of five",
        )


async def test_a_restarted_node_replaces_its_old_entry(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        follower = next(n for n in nodes if n is not master)
        old_ephemeral = follower.local_node.ephemeral_id
        await follower.stop()

        [restarted] = await cluster.start([follower.name], initial_master_nodes=())
        assert restarted.local_node.id == follower.local_node.id and restarted.local_node.ephemeral_id != old_ephemeral
        everyone = [n for n in nodes if n is not follower] + [restarted]
        await cluster.wait_for_stable_master(everyone)
        assert master.state.nodes[restarted.local_node.id].ephemeral_id == restarted.local_node.ephemeral_id


async def test_state_updates_are_published_to_every_node(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)

        def set_setting(state: ClusterState) -> ClusterState:
            return state.with_changes(metadata={**state.metadata, "persistent": {"cluster.routing.rebalance": "none"}})

        committed = await master.coordinator.submit_state_update("cluster-update-settings", set_setting)
        assert committed.metadata["persistent"] == {"cluster.routing.rebalance": "none"}
        await cluster.wait_until(
            lambda: all(n.state.version >= committed.version for n in nodes), what="every node to apply it"
        )
        assert all(n.state.metadata == committed.metadata for n in nodes)

        follower = next(n for n in nodes if n is not master)
        with pytest.raises(NotMasterError) as refused:
            await follower.coordinator.submit_state_update("cluster-update-settings", set_setting)
        assert refused.value.status == 503


async def test_the_master_applies_a_state_after_every_follower_applied_it(coordination_cluster: ClusterFactory) -> None:
    """ES applies a committed state on the master last: whatever the master has applied, every node has."""
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        followers = [n for n in nodes if n is not master]
        seen: list[list[int]] = []
        master.node.cluster.add_applier(
            lambda old, new: seen.append([f.state.version - new.version for f in followers])
        )

        def set_setting(state: ClusterState) -> ClusterState:
            return state.with_changes(metadata={**state.metadata, "persistent": {"cluster.routing.rebalance": "none"}})

        await master.coordinator.submit_state_update("cluster-update-settings", set_setting)
        assert seen == [[0, 0]]


async def test_a_failing_update_fails_only_its_submitter(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        [node] = await cluster.start(["solo"], seed_hosts=())
        await node.coordinator.wait_for_state(lambda s: s.master_node_id == node.local_node.id, timeout=10)

        def broken(state: ClusterState) -> ClusterState:
            raise ElasticsearchError("nope", status=400, es_type="illegal_argument_exception")

        with pytest.raises(ElasticsearchError, match="nope"):
            await node.coordinator.submit_state_update("broken", broken)
        unchanged = await node.coordinator.submit_state_update("noop", lambda s: s)
        assert unchanged is node.state


@pytest.mark.parametrize("kind", [FaultKind.DISCONNECT, FaultKind.BLACKHOLE])
async def test_a_partitioned_master_steps_down_and_the_majority_elects_another(
    coordination_cluster: ClusterFactory, kind: FaultKind
) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        majority = [n for n in nodes if n is not master]
        old_term = master.state.term

        cluster.partition([master], majority, kind)
        await cluster.wait_until(
            lambda: (
                master.state.master_node_id is None
                and all(n.state.master_node_id in {m.local_node.id for m in majority} for n in majority)
                and all(master.local_node.id not in n.state.nodes for n in majority)
            ),
            what="the minority master to step down and the majority to elect another",
        )
        new_master = await cluster.wait_for_stable_master(majority)
        assert new_master.state.term > old_term
        assert not master.coordinator.is_master

        cluster.heal()
        await cluster.wait_for_stable_master(nodes)
        assert all(len(masters) == 1 for masters in cluster.masters_by_term().values()), cluster.masters_by_term()


async def test_an_isolated_follower_never_becomes_master(coordination_cluster: ClusterFactory) -> None:
    async with coordination_cluster() as cluster:
        nodes = await cluster.start(["node-1", "node-2", "node-3"])
        master = await cluster.wait_for_stable_master(nodes)
        loner = next(n for n in nodes if n is not master)
        rest = [n for n in nodes if n is not loner]

        cluster.partition([loner], rest, FaultKind.DISCONNECT)
        await cluster.wait_until(
            lambda: loner.state.master_node_id is None and all(loner.local_node.id not in n.state.nodes for n in rest),
            what="the loner to lose its master and be removed",
        )
        # The majority keeps its master, and the loner stays a candidate however long it tries.
        await asyncio.sleep(1.0)
        assert all(n.state.master_node_id == master.local_node.id for n in rest)
        assert loner.state.master_node_id is None and not loner.coordinator.is_master

        cluster.heal()
        await cluster.wait_for_stable_master(nodes)
        assert all(len(masters) == 1 for masters in cluster.masters_by_term().values()), cluster.masters_by_term()
