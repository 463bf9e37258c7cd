"""What the live view is told about the cluster, tasks and their ends (`node.events.views`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from node.cluster.state import ClusterState, DiscoveryNode
from node.errors import IllegalStateError, TaskCancelledError
from node.events.views import cluster_changes, cluster_view, task_ended, task_view
from node.tasks.manager import TaskManager
from node.tasks.task_id import TaskId


def node(name: str, ephemeral: str = "e1") -> DiscoveryNode:
    number = name.rsplit("-", 1)[1]
    return DiscoveryNode(
        id=f"id-{name}",
        name=name,
        ephemeral_id=f"{ephemeral}-{name}",
        host="127.0.0.1",
        transport_address=f"127.0.0.1:930{number}",
        http_address=f"127.0.0.1:920{number}",
        roles=("data", "ingest", "master"),
    )


def state(
    *nodes: DiscoveryNode, master: str | None = None, term: int = 1, version: int = 1, metadata: Mapping[str, Any] = ()
) -> ClusterState:
    return ClusterState(
        cluster_name="simcluster",
        cluster_uuid="uuid",
        term=term,
        version=version,
        master_node_id=master,
        nodes=MappingProxyType({n.id: n for n in nodes}),
        metadata=dict(metadata),
    )


N1, N2, N3 = node("node-1"), node("node-2"), node("node-3")


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["kind"], e["subject"]) for e in events]


def test_a_nodes_first_state_tells_only_that_it_joined() -> None:
    first = state(N1, N2, N3, master=N1.id, version=7)
    assert kinds(cluster_changes(ClusterState("simcluster"), first, N2)) == [("node_joined", "node-2")]


def test_a_first_state_without_a_master_tells_nothing() -> None:
    assert cluster_changes(ClusterState("simcluster"), state(N2), N2) == []


def test_a_departed_master_and_its_successor() -> None:
    before = state(N1, N2, N3, master=N1.id, term=3, version=10)
    lost = before.with_changes(master_node_id=None)
    assert cluster_changes(before, lost, N2) == [
        {"kind": "master_lost", "key": f"no-master:3:10:{N1.id}", "subject": "node-1", "term": 3}
    ]
    elected = state(N2, N3, master=N2.id, term=4, version=11)
    assert cluster_changes(lost, elected, N2) == [
        {"kind": "master_elected", "key": f"master:4:{N2.id}", "subject": "node-2", "term": 4},
        {"kind": "node_left", "key": f"left:{N1.id}:{N1.ephemeral_id}:11", "subject": "node-1"},
    ]


def test_finding_the_master_of_its_own_term_again_is_no_election() -> None:
    before = state(N1, N2, N3, master=N1.id, term=3, version=10)
    isolated = before.with_changes(master_node_id=None)
    rejoined = state(N1, N2, N3, master=N1.id, term=3, version=12)
    assert cluster_changes(isolated, rejoined, N2) == []


def test_leaving_and_joining_again_are_new_happenings_each_time() -> None:
    whole = state(N1, N2, N3, master=N1.id, version=10)
    without = state(N1, N2, master=N1.id, version=11)
    again = state(N1, N2, N3, master=N1.id, version=12)
    first_leave = cluster_changes(whole, without, N1)
    rejoin = cluster_changes(without, again, N1)
    second_leave = cluster_changes(again, state(N1, N2, master=N1.id, version=13), N1)
    assert kinds(rejoin) == [("node_joined", "node-3")]
    assert first_leave[0]["key"] != second_leave[0]["key"]


def test_the_same_happening_has_the_same_key_on_every_node() -> None:
    before = state(N1, N2, N3, master=N1.id, version=10)
    after = state(N1, N2, master=N1.id, version=11)
    assert cluster_changes(before, after, N1) == cluster_changes(before, after, N2)


def test_a_restarted_node_left_and_joined_again() -> None:
    restarted = node("node-3", ephemeral="e2")
    changes = cluster_changes(state(N1, N2, N3, master=N1.id), state(N1, N2, restarted, master=N1.id), N1)
    assert kinds(changes) == [("node_left", "node-3"), ("node_joined", "node-3")]


def index_metadata(**uuids: str) -> dict[str, Any]:
    return {"indices": {name: {"settings": {"index.uuid": uuid} if uuid else {}} for name, uuid in uuids.items()}}


def test_indices_created_deleted_and_recreated() -> None:
    before = state(N1, master=N1.id, metadata=index_metadata(logs="u1", old="u2"))
    after = state(N1, master=N1.id, metadata=index_metadata(logs="u3", new="u4"))
    assert kinds(cluster_changes(before, after, N1)) == [
        ("index_created", "logs"),
        ("index_created", "new"),
        ("index_deleted", "logs"),
        ("index_deleted", "old"),
    ]


def test_an_index_given_its_uuid_is_not_a_new_index() -> None:
    legacy = state(N1, master=N1.id, metadata=index_metadata(**{".tasks": ""}))
    upgraded = state(N1, master=N1.id, metadata=index_metadata(**{".tasks": "u1"}))
    assert cluster_changes(legacy, upgraded, N1) == []


def test_the_cluster_view_draws_every_copy_and_the_health() -> None:
    routing = {
        "logs": [
            [
                {"node": N1.id, "primary": True, "state": "STARTED"},
                {"node": None, "primary": False, "state": "UNASSIGNED"},
            ]
        ]
    }
    metadata = {
        "indices": {"logs": {"settings": {"index.number_of_shards": "1", "index.number_of_replicas": "1"}}},
        "routing": routing,
    }
    view = cluster_view(state(N1, N2, master=N1.id, term=2, version=5, metadata=metadata))
    assert view["master_node_id"] == N1.id
    assert [n["name"] for n in view["nodes"]] == ["node-1", "node-2"]
    assert view["health"]["status"] == "yellow"
    assert view["indices"] == [
        {
            "name": "logs",
            "status": "yellow",
            "shards": [
                [
                    {"node": N1.id, "primary": True, "state": "STARTED"},
                    {"node": None, "primary": False, "state": "UNASSIGNED"},
                ]
            ],
        }
    ]


def test_a_task_as_the_tree_shows_it() -> None:
    manager = TaskManager("n1")
    task = manager.register(
        type="direct",
        action="cluster:admin/tasks/test[n]",
        description="test task on [node-1]",
        parent=TaskId("n2", 7),
        headers={"X-Opaque-Id": "abc"},
        cancellable=True,
    )
    view = task_view(task)
    assert {k: view[k] for k in ("node", "id", "type", "parent_task_id", "headers", "cancelled")} == {
        "node": "n1",
        "id": 1,
        "type": "direct",
        "parent_task_id": "n2:7",
        "headers": {"X-Opaque-Id": "abc"},
        "cancelled": False,
    }


def test_how_a_task_ended() -> None:
    task = TaskManager("n1").register(type="transport", action="a", cancellable=True)
    assert task_ended(task, None)["outcome"] == "completed"
    assert task_ended(task, TaskCancelledError("task cancelled [by user request]"))["outcome"] == "cancelled"
    failed = task_ended(task, IllegalStateError("boom"))
    assert failed["outcome"] == "failed"
    assert failed["error"] == {"type": "illegal_state_exception", "reason": "boom"}
