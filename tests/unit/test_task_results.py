"""Stored task results and the get-task answers built from them (reference §10, §13, §20.12)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from node.actions.get_task import GetTaskRequest, task_not_found, task_of_departed_node
from node.actions.support.wire import request_from_json, request_to_json
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.time_value import TimeValue
from node.errors import ActionRequestValidationError, IllegalStateError, ResourceNotFoundError
from node.storage.task_results import TASKS_INDEX_SETTINGS, TaskResult, task_info_from_dict, with_tasks_index
from node.tasks.task import TaskInfo
from node.tasks.task_id import TaskId

INFO = TaskInfo(
    node="n1",
    id=7,
    type="transport",
    action="cluster:admin/tasks/test",
    status={"phase": "finished", "children": 3, "completed": 3},
    description="test task on [node-1]",
    start_time_in_millis=1714641301123,
    running_time_in_nanos=1_512_000_000,
    cancellable=True,
    cancelled=True,
    parent_task_id=None,
    headers={"X-Opaque-Id": "job-42"},
)
STORED_TASK = {
    "node": "n1",
    "id": 7,
    "type": "transport",
    "action": "cluster:admin/tasks/test",
    "status": {"phase": "finished", "children": 3, "completed": 3},
    "description": "test task on [node-1]",
    "start_time_in_millis": 1714641301123,
    "running_time_in_nanos": 1512000000,
    "cancellable": True,
    "headers": {"X-Opaque-Id": "job-42"},
}


# ---- documents ----------------------------------------------------------------------------------------------


def test_document_of_a_response_never_stores_cancelled() -> None:
    document = TaskResult.of_response(INFO, {"ok": 1}).to_document()
    assert document == {"completed": True, "task": STORED_TASK, "response": {"ok": 1}}
    assert list(document) == ["completed", "task", "response"]


def test_document_of_a_failure_stores_the_error_without_root_cause() -> None:
    error = ResourceNotFoundError("outer", cause=IllegalStateError("inner"))
    document = TaskResult.of_error(INFO, error).to_document()
    assert document == {
        "completed": True,
        "task": STORED_TASK,
        "error": {
            "type": "resource_not_found_exception",
            "reason": "outer",
            "caused_by": {"type": "illegal_state_exception", "reason": "inner"},
        },
    }


def test_a_stored_cancellable_task_reads_back_as_not_cancelled() -> None:
    stored = TaskResult.from_dict(TaskResult.of_response(INFO, {"ok": 1}).to_document())
    body = stored.to_dict()
    assert body["task"]["cancelled"] is False
    assert list(body["task"])[-3:] == ["cancellable", "cancelled", "headers"]
    assert body["response"] == {"ok": 1}


def test_a_running_task_renders_without_response_or_error() -> None:
    assert TaskResult(completed=False, task=INFO).to_dict() == {
        "completed": False,
        "task": {**STORED_TASK, "cancelled": True},
    }


def test_human_adds_the_time_texts_to_the_task_only() -> None:
    body = TaskResult.of_response(INFO, {"took": 3}).to_dict(human=True)
    assert body["task"]["start_time"] == "2024-05-02T09:15:01.123Z"
    assert body["task"]["running_time"] == "1.5s"
    assert body["response"] == {"took": 3}


def test_task_info_without_optional_fields_parses() -> None:
    info = task_info_from_dict(
        {
            "node": "n",
            "id": 1,
            "type": "direct",
            "action": "a",
            "start_time_in_millis": 5,
            "running_time_in_nanos": 6,
            "cancellable": False,
            "headers": {},
        }
    )
    assert info.status is None and info.description is None and info.parent_task_id is None
    assert info.to_dict() == {
        "node": "n",
        "id": 1,
        "type": "direct",
        "action": "a",
        "start_time_in_millis": 5,
        "running_time_in_nanos": 6,
        "cancellable": False,
        "headers": {},
    }


def test_wire_form_round_trips_a_running_task_with_its_parent() -> None:
    child = TaskResult(completed=False, task=TaskInfo(**{**_fields(INFO), "parent_task_id": "n0:3"}))
    assert TaskResult.from_dict(child.to_dict()) == child


def _fields(info: TaskInfo) -> dict[str, object]:
    return {name: getattr(info, name) for name in info.__slots__}


# ---- not found ----------------------------------------------------------------------------------------------


def test_not_found_before_the_index_exists_is_caused_by_index_not_found() -> None:
    body = task_not_found(TaskId("n", 1), index_exists=False).to_response_body()
    index_error = {
        "type": "index_not_found_exception",
        "reason": "no such index [.tasks]",
        "resource.type": "index_expression",
        "resource.id": ".tasks",
        "index_uuid": "_na_",
        "index": ".tasks",
    }
    assert body == {
        "error": {
            "root_cause": [index_error],
            "type": "resource_not_found_exception",
            "reason": "task [n:1] isn't running and hasn't stored its results",
            "caused_by": index_error,
        },
        "status": 404,
    }


def test_not_found_once_the_index_exists_has_no_cause() -> None:
    reason = "task [n:1] isn't running and hasn't stored its results"
    assert task_not_found(TaskId("n", 1), index_exists=True).to_response_body() == {
        "error": {
            "root_cause": [{"type": "resource_not_found_exception", "reason": reason}],
            "type": "resource_not_found_exception",
            "reason": reason,
        },
        "status": 404,
    }


def test_departed_node_wraps_the_miss_exactly_as_reference_10_1() -> None:
    task_id = TaskId("foo", 1)
    body = task_of_departed_node(task_id, task_not_found(task_id, index_exists=False)).to_response_body()
    index_error = {
        "type": "index_not_found_exception",
        "reason": "no such index [.tasks]",
        "resource.type": "index_expression",
        "resource.id": ".tasks",
        "index_uuid": "_na_",
        "index": ".tasks",
    }
    assert body == {
        "error": {
            "root_cause": [index_error],
            "type": "resource_not_found_exception",
            "reason": "task [foo:1] belongs to the node [foo] which isn't part of the cluster "
            "and there is no record of the task",
            "caused_by": {
                "type": "resource_not_found_exception",
                "reason": "task [foo:1] isn't running and hasn't stored its results",
                "caused_by": index_error,
            },
        },
        "status": 404,
    }


def test_unset_task_id_fails_validation() -> None:
    with pytest.raises(ActionRequestValidationError) as raised:
        GetTaskRequest(TaskId.parse("unset")).validate()
    assert raised.value.to_response_body()["error"]["reason"] == "Validation Failed: 1: task id is required;"
    assert raised.value.status == 400


def test_get_request_round_trips_through_the_wire() -> None:
    for request in (GetTaskRequest(TaskId("n", 3)), GetTaskRequest(TaskId("n", 3), True, TimeValue(200, "ms"))):
        assert request_from_json(GetTaskRequest, request_to_json(request)) == request


# ---- cluster metadata and replica placement -----------------------------------------------------------------


def _node(name: str, roles: tuple[str, ...] = ("data", "master")) -> DiscoveryNode:
    return DiscoveryNode(
        id=f"id-{name}", name=name, ephemeral_id="e", host="h", transport_address="h:1", http_address="h:2", roles=roles
    )


def _state(*nodes: DiscoveryNode, **metadata: object) -> ClusterState:
    return ClusterState(cluster_name="c", nodes=MappingProxyType({n.id: n for n in nodes}), metadata=metadata)


def test_tasks_index_is_added_next_to_existing_metadata() -> None:
    state = _state(persistent={"a": "1"}, indices={"logs": {"index.number_of_shards": "2"}})
    updated = with_tasks_index(state)
    assert updated.metadata == {
        "persistent": {"a": "1"},
        "indices": {"logs": {"index.number_of_shards": "2"}, ".tasks": dict(TASKS_INDEX_SETTINGS)},
    }
    assert state.metadata == {"persistent": {"a": "1"}, "indices": {"logs": {"index.number_of_shards": "2"}}}


def test_adding_the_tasks_index_twice_changes_nothing() -> None:
    once = with_tasks_index(_state())
    assert with_tasks_index(once) is once
