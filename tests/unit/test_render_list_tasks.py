"""ListTasksResponse shapes (reference §9.3, §7.4)."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType

import pytest

from node.cluster.state import ClusterState, DiscoveryNode
from node.errors import FailedNodeError, NoSuchNodeError
from node.tasks.task import TaskInfo, TaskInfos
from rest.render import render_list_tasks
from rest.xcontent import to_json


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


def _over_the_wire(tasks: dict[str, list[TaskInfo]]) -> dict[str, TaskInfos]:
    """The same tasks as a coordinating node holds them once the nodes answered (`TasksNodeResponse.tasks_json`)."""
    return {node: TaskInfos(json.loads(json.dumps([t.to_dict() for t in infos]))) for node, infos in tasks.items()}


@pytest.mark.parametrize("group_by", ["nodes", "parents", "none"])
@pytest.mark.parametrize("human", [False, True])
def test_tasks_received_over_the_wire_render_exactly_as_task_infos(group_by: str, human: bool) -> None:
    detailed = dataclasses.replace(
        REMOTE_N, status={"phase": "running", "ratio": 0.25}, description="d", headers={"X-Opaque-Id": "o"}
    )
    tasks = {"A": [LIST, LOCAL_N], "B": [detailed]}
    expected = render_list_tasks(STATE, tasks, group_by=group_by, human=human)
    received = render_list_tasks(STATE, _over_the_wire(tasks), group_by=group_by, human=human)
    assert to_json(received) == to_json(expected)
    assert to_json(received, pretty=True) == to_json(expected, pretty=True)


def test_received_tasks_read_back_as_the_task_infos_that_were_sent() -> None:
    received = _over_the_wire(TASKS)
    assert list(received["A"]) == [LIST, LOCAL_N]
    assert received["B"][0] == REMOTE_N
    assert len(received["A"]) == 2
