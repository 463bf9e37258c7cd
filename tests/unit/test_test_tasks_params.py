"""`POST /_sim/tasks`: parameter validation, and the pure parts of the test-task action."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from node.actions.test_tasks import TestTasksRequest, is_node_failure, next_node, render_test_tasks
from node.cluster.state import ClusterState, DiscoveryNode
from node.errors import (
    ElasticsearchError,
    FailedNodeError,
    IllegalArgumentError,
    IllegalStateError,
    NodeDisconnectedError,
    NoSuchNodeError,
    ReceiveTimeoutTransportError,
    TaskCancelledError,
)
from rest.handlers.sim import SimTasksParams, parse_sim_tasks_params
from rest.params import Params

PATH = "/_sim/tasks"


def parse(**query: str) -> SimTasksParams:
    params = Params(query, PATH)
    parsed = parse_sim_tasks_params(params)
    params.check_unrecognized()
    return parsed


def error_of(**query: str) -> dict[str, object]:
    with pytest.raises(ElasticsearchError) as raised:
        parse(**query)
    assert raised.value.status == 400
    return raised.value.to_response_body()["error"]  # type: ignore[no-any-return]


def reason_of(**query: str) -> str:
    return str(error_of(**query)["reason"])


# ---- values -------------------------------------------------------------------------------------------------


def test_defaults_run_one_level_on_all_nodes_until_cancelled_and_wait() -> None:
    assert parse() == SimTasksParams(TestTasksRequest(), wait_for_completion=True)
    assert TestTasksRequest() == TestTasksRequest(
        nodes=(), duration_millis=-1, depth=1, cancellable=True, fail=False, check_interval_millis=100
    )


def test_every_parameter_is_read() -> None:
    parsed = parse(
        nodes="node-1,_master",
        duration="2s",
        depth="2",
        cancellable="false",
        fail="",
        check_interval="20ms",
        wait_for_completion="false",
    )
    assert parsed == SimTasksParams(
        TestTasksRequest(
            nodes=("node-1", "_master"),
            duration_millis=2000,
            depth=2,
            cancellable=False,
            fail=True,
            check_interval_millis=20,
        ),
        wait_for_completion=False,
    )


def test_duration_minus_one_runs_until_cancelled() -> None:
    assert parse(duration="-1").request.duration_millis == -1


def test_the_request_travels_to_the_children_unchanged() -> None:
    request = TestTasksRequest(duration_millis=300, depth=2, cancellable=False, fail=True, check_interval_millis=7)
    message = request.to_proto()
    assert (message.duration_millis, message.depth, message.cancellable, message.fail) == (300, 2, False, True)
    assert message.check_interval_millis == 7


# ---- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", ["0", "3", "-1"])
def test_depth_other_than_one_or_two_is_rejected(depth: str) -> None:
    assert error_of(depth=depth) == {
        "root_cause": [{"type": "illegal_argument_exception", "reason": f"[depth] must be 1 or 2 but was [{depth}]"}],
        "type": "illegal_argument_exception",
        "reason": f"[depth] must be 1 or 2 but was [{depth}]",
    }


def test_depth_that_is_not_an_int_fails_like_es_param_as_int() -> None:
    assert error_of(depth="two") == {
        "root_cause": [
            {"type": "illegal_argument_exception", "reason": "Failed to parse int parameter [depth] with value [two]"}
        ],
        "type": "illegal_argument_exception",
        "reason": "Failed to parse int parameter [depth] with value [two]",
        "caused_by": {"type": "number_format_exception", "reason": 'For input string: "two"'},
    }


@pytest.mark.parametrize("name", ["cancellable", "fail", "wait_for_completion"])
def test_booleans_accept_only_true_or_false(name: str) -> None:
    assert reason_of(**{name: "yes"}) == "Failed to parse value [yes] as only [true] or [false] are allowed."


def test_duration_needs_a_unit() -> None:
    assert reason_of(duration="5") == (
        "failed to parse setting [duration] with value [5] as a time value: unit is missing or unrecognized"
    )


def test_check_interval_is_a_time_value() -> None:
    assert reason_of(check_interval="1.5s") == "failed to parse [1.5s], fractional time values are not supported"


@pytest.mark.parametrize("value", ["0", "0ms", "-1", "10micros"])
def test_check_interval_must_be_at_least_a_millisecond(value: str) -> None:
    parsed_text = {"0": "0ms", "-1": "-1"}.get(value, value)
    assert reason_of(check_interval=value) == f"[check_interval] must be at least [1ms] but was [{parsed_text}]"


def test_a_non_cancellable_task_needs_a_duration() -> None:
    assert reason_of(cancellable="false") == "[duration] must be set when [cancellable] is false"


def test_unrecognized_parameters_get_suggestions() -> None:
    assert reason_of(durations="1s", detailed="") == (
        "request [/_sim/tasks] contains unrecognized parameters: [detailed], [durations] -> did you mean [duration]?"
    )


# ---- pure parts of the action -------------------------------------------------------------------------------


def _node(name: str) -> DiscoveryNode:
    return DiscoveryNode(
        id=f"id-{name}", name=name, ephemeral_id="e", host="h", transport_address="h:1", http_address="h:2", roles=()
    )


def _state(*names: str) -> ClusterState:
    return ClusterState(cluster_name="c", nodes=MappingProxyType({f"id-{n}": _node(n) for n in names}))


def test_grandchildren_go_to_the_next_node_by_name_wrapping() -> None:
    state = _state("node-3", "node-1", "node-2")
    assert [next_node(state, _node(n)).name for n in ("node-1", "node-2", "node-3")] == ["node-2", "node-3", "node-1"]


def test_a_single_node_runs_its_grandchild_itself() -> None:
    assert next_node(_state("node-1"), _node("node-1")).name == "node-1"


def test_only_transport_failures_are_node_failures() -> None:
    assert is_node_failure(NodeDisconnectedError("gone"))
    assert is_node_failure(ReceiveTimeoutTransportError("slow"))
    assert is_node_failure(NoSuchNodeError("x"))
    assert not is_node_failure(IllegalStateError("simulated failure of task [n:1]"))
    assert not is_node_failure(TaskCancelledError("task cancelled [by user request]"))
    assert not is_node_failure(IllegalArgumentError("bad"))


def test_response_lists_every_node_that_answered() -> None:
    entry = {"name": "node-1", "task": "id-node-1:5", "running_time_in_nanos": 10}
    assert render_test_tasks("c", {"id-node-1": entry}, []) == {
        "_nodes": {"total": 1, "successful": 1, "failed": 0},
        "cluster_name": "c",
        "nodes": {"id-node-1": entry},
    }


def test_response_counts_and_lists_node_failures() -> None:
    failure = FailedNodeError(
        "id-node-2", NodeDisconnectedError("[node-2][h:1][cluster:admin/tasks/test[n]] disconnected")
    )
    assert render_test_tasks("c", {}, [failure]) == {
        "_nodes": {
            "total": 1,
            "successful": 0,
            "failed": 1,
            "failures": [
                {
                    "type": "failed_node_exception",
                    "reason": "Failed node [id-node-2]",
                    "node_id": "id-node-2",
                    "caused_by": {
                        "type": "node_disconnected_exception",
                        "reason": "[node-2][h:1][cluster:admin/tasks/test[n]] disconnected",
                    },
                }
            ],
        },
        "cluster_name": "c",
        "nodes": {},
    }
