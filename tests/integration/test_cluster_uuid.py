"""Two clusters with one name never merge, even when they share credentials (ES `JoinValidationService` and the
cluster UUID check of `Coordinator#handlePublishRequest`).

Both clusters here run in one event loop with the *same* CA and transport certificate, so TLS lets them talk: what
keeps them apart is the cluster UUID each node committed. The nodes of both clusters even share their names, as
two `simcluster up` homes would.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cluster.credentials import ClusterCredentials
from node.common import action_names as names
from node.errors import CoordinationStateRejectedError
from node.transport.pb import transport_pb2 as pb
from tests.integration.conftest import InProcessCluster, TestNode

NAMES = ["node-1", "node-2", "node-3"]


async def _formed(cluster: InProcessCluster) -> tuple[list[TestNode], TestNode]:
    nodes = await cluster.start(NAMES)
    return nodes, await cluster.wait_for_stable_master(nodes)


@contextlib.asynccontextmanager
async def _master_and_stranger(
    tmp_path: Path, credentials: ClusterCredentials
) -> AsyncIterator[tuple[TestNode, TestNode]]:
    """The master of a first cluster, and a node of a second one: both formed, same name, same credentials."""
    async with (
        InProcessCluster(tmp_path / "a", credentials) as a,
        InProcessCluster(tmp_path / "b", credentials) as b,
    ):
        _, a_master = await _formed(a)
        b_nodes, _ = await _formed(b)
        yield a_master, b_nodes[0]


async def test_a_node_of_another_cluster_refuses_the_masters_state_with_es_message(
    tmp_path: Path, cluster_credentials: ClusterCredentials
) -> None:
    async with _master_and_stranger(tmp_path, cluster_credentials) as (a_master, stranger):
        request = pb.ValidateJoinRequest(state=a_master.state.to_proto())

        with pytest.raises(CoordinationStateRejectedError) as refused:
            await a_master.transport.send_request(stranger.local_node, names.VALIDATE_JOIN, request, timeout=5)

        assert refused.value.reason == (
            f"This node previously joined a cluster with UUID [{stranger.state.cluster_uuid}] and is now trying to"
            f" join a different cluster with UUID [{a_master.state.cluster_uuid}]. This is forbidden and usually"
            " indicates an incorrect discovery or cluster bootstrapping configuration. Note that the cluster UUID"
            " persists across restarts and can only be changed by deleting the contents of the node's data path"
            f" [{tmp_path / 'b' / 'node-1'}] which will also remove any data held by this node."
        )


async def test_a_node_of_another_cluster_refuses_its_publication(
    tmp_path: Path, cluster_credentials: ClusterCredentials
) -> None:
    async with _master_and_stranger(tmp_path, cluster_credentials) as (a_master, stranger):
        state = a_master.state.with_changes(term=stranger.state.term + 1)  # a newer term: only the UUID is wrong

        with pytest.raises(CoordinationStateRejectedError) as refused:
            await a_master.transport.send_request(
                stranger.local_node, names.PUBLISH_STATE, pb.PublishRequest(state=state.to_proto()), timeout=5
            )

        assert refused.value.reason == (
            f"received cluster state from {{{a_master.name}}}{{{a_master.local_node.id}}} with a different cluster uuid"
            f" {a_master.state.cluster_uuid} than local cluster uuid {stranger.state.cluster_uuid}, rejecting"
        )


async def test_a_restarted_cluster_seeded_with_another_ones_nodes_stays_apart(
    tmp_path: Path, cluster_credentials: ClusterCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="node.coordination.coordinator")
    async with (
        InProcessCluster(tmp_path / "a", cluster_credentials) as a,
        InProcessCluster(tmp_path / "b", cluster_credentials) as b,
    ):
        a_nodes, a_master = await _formed(a)
        before = a_master.state
        b_nodes, _ = await _formed(b)
        b_uuid = b_nodes[0].state.cluster_uuid
        for node in b_nodes:
            await node.stop()

        # The second cluster comes back with its seeds on the first one's ports (issue 8: shifted default ports).
        restarted = await b.start(NAMES, seed_hosts=[n.address for n in a_nodes], initial_master_nodes=())

        def refused(node: TestNode) -> bool:
            return any(
                f"failed to validate incoming join request from node [{{{node.name}}}{{{node.local_node.id}}}]"
                in r.message
                and "This node previously joined a cluster with UUID" in r.message
                for r in caplog.records
            )

        await a.wait_until(lambda: all(refused(n) for n in restarted), what="every join of the second cluster refused")
        after = a_master.state
        assert set(after.nodes) == set(before.nodes) == {n.local_node.id for n in a_nodes}
        assert after.voting_config == before.voting_config
        assert sorted(n.name for n in after.nodes.values()) == NAMES
        for node in restarted:
            assert node.state.master_node_id is None
            assert not set(node.state.nodes) & set(after.nodes)
        assert b_uuid != after.cluster_uuid
