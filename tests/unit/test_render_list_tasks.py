"""ListTasksResponse shapes (reference §9.3, §7.4)."""

from __future__ import annotations

from types import MappingProxyType

from node.cluster.state import ClusterState, DiscoveryNode
from node.errors import FailedNodeError, NoSuchNodeError
from node.tasks.task import TaskInfo
from rest.render import render_list_tasks


def _info(node: str, id: int, action: str, parent: str | None, start: int, type: str = "transport") -> TaskInfo:
    return TaskInfo(
        node=node, id=id, type=type, action=action, status=None, description=None,
        start_time_in_millis=start, running_time_in_nanos=1000, cancellable=True, cancelled=False,
        parent_task_id=parent, headers={},
    )  # fmt: skip


NODE_A = DiscoveryNode(
    id="A", name="node-1", ephemeral_id="e", host="127.0.0.1", transport_address="127.0.0.1:9300",
    http_address="127.0.0.1:9200", roles=("master", "data", "ingest"), attributes=MappingProxyType({"zone": "a"}),
)  # fmt: skip
NODE_B = DiscoveryNode(
    id="B", name="node-2", ephemeral_id="e", host="127.0.0.1", transport_address="127.0.0.1:9301",
    http_address="127.0.0.1:9201", roles=("data", "ingest"),
)  # fmt: skip
STATE = ClusterState(cluster_name="c", nodes=MappingProxyType({"A": NODE_A, "B": NODE_B}))

LIST = _info("A", 87, "cluster:monitor/tasks/lists", None, 100)
LOCAL_N = _info("A", 88, "cluster:monitor/tasks/lists[n]", "A:87", 101, type="direct")
REMOTE_N = _info("B", 40, "cluster:monitor/tasks/lists[n]", "A:87", 102)
TASKS = {"A": [LIST, LOCAL_N], "B": [REMOTE_N]}


def test_group_by_nodes_node_entry_fields_in_order() -> None:
    body = render_list_tasks(STATE, TASKS, group_by="nodes", human=False)
    entry = body["nodes"]["A"]
    assert list(entry) == ["name", "transport_address", "host", "ip", "roles", "attributes", "tasks"]
    assert entry["ip"] == "127.0.0.1:9300"
    assert entry["roles"] == ["data", "ingest", "master"]
    assert list(entry["tasks"]) == ["A:87", "A:88"]
    assert "attributes" not in body["nodes"]["B"]


def test_a_node_that_left_keeps_only_its_tasks() -> None:
    body = render_list_tasks(STATE, {"gone": [_info("gone", 1, "x", None, 1)]}, group_by="nodes", human=False)
    assert list(body["nodes"]["gone"]) == ["tasks"]


def test_group_by_parents_nests_children_under_present_parents() -> None:
    body = render_list_tasks(STATE, TASKS, group_by="parents", human=False)
    assert list(body["tasks"]) == ["A:87"]
    children = body["tasks"]["A:87"]["children"]
    assert [(c["node"], c["id"]) for c in children] == [("A", 88), ("B", 40)]
    assert "children" not in children[0]


def test_group_by_parents_orphans_become_top_level() -> None:
    body = render_list_tasks(STATE, {"B": [REMOTE_N]}, group_by="parents", human=False)
    assert list(body["tasks"]) == ["B:40"]


def test_group_by_none_is_a_flat_array() -> None:
    body = render_list_tasks(STATE, TASKS, group_by="none", human=False)
    assert [t["id"] for t in body["tasks"]] == [87, 88, 40]


def test_empty_results() -> None:
    assert render_list_tasks(STATE, {}, group_by="nodes", human=False) == {"nodes": {}}
    assert render_list_tasks(STATE, {}, group_by="parents", human=False) == {"tasks": {}}
    assert render_list_tasks(STATE, {}, group_by="none", human=False) == {"tasks": []}


def test_node_failures_come_first() -> None:
    failure = FailedNodeError("foo", NoSuchNodeError("foo"))
    body = render_list_tasks(STATE, {}, group_by="nodes", human=False, failures=[failure])
    assert list(body) == ["node_failures", "nodes"]
    assert body["node_failures"] == [
        {
            "type": "failed_node_exception",
            "reason": "Failed node [foo]",
            "node_id": "foo",
            "caused_by": {"type": "no_such_node_exception", "reason": "No such node [foo]", "node_id": "foo"},
        }
    ]
