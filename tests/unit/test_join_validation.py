"""The cluster UUID rule of join validation (ES `JoinValidationService`), as a pure function."""

from __future__ import annotations

from pathlib import Path

from node.coordination.join_validation import cluster_uuid_rejection

DATA = Path("/var/lib/simcluster/nodes/node-1")


def test_a_node_that_never_committed_a_uuid_may_join_any_cluster() -> None:
    assert cluster_uuid_rejection("_na_", False, "theirs", DATA) is None
    assert cluster_uuid_rejection("mine", False, "theirs", DATA) is None  # accepted, never committed


def test_a_node_may_join_its_own_cluster_again() -> None:
    assert cluster_uuid_rejection("mine", True, "mine", DATA) is None


def test_a_node_of_one_cluster_refuses_another_with_es_message() -> None:
    error = cluster_uuid_rejection("mine", True, "theirs", DATA)
    assert error is not None
    assert error.to_dict() == {
        "type": "coordination_state_rejected_exception",
        "reason": "This node previously joined a cluster with UUID [mine] and is now trying to join a different"
        " cluster with UUID [theirs]. This is forbidden and usually indicates an incorrect discovery or cluster"
        " bootstrapping configuration. Note that the cluster UUID persists across restarts and can only be changed"
        " by deleting the contents of the node's data path [/var/lib/simcluster/nodes/node-1] which will also"
        " remove any data held by this node.",
    }
