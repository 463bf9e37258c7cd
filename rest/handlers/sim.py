"""`POST /_sim/tasks`: start a tree of test tasks (simulator-only; the REST face of ES's test-task plugin).

Parameters (all optional):

| name | default | meaning |
| --- | --- | --- |
| `nodes` | all | node selector (reference §5) for the `[n]` children |
| `duration` | `-1` | how long each child works; `-1` until cancelled |
| `depth` | `1` | `2`: every child also starts a `[n][n]` grandchild on the next node by name |
| `cancellable` | `true` | whether the parent and all its descendants are cancellable |
| `fail` | `false` | children end with `illegal_state_exception`, and the parent fails with it |
| `check_interval` | `100ms` | how often running code notices cancellation |
| `wait_for_completion` | `true` | `false`: answer `{"task": "<node id>:<id>"}` at once and store the result |
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node.actions.test_tasks import TestTasksAction, TestTasksRequest
from node.errors import IllegalArgumentError
from rest.app_keys import rest_client, rest_request
from rest.params import Params, TimeValue

__all__ = ["SimTasksParams", "parse_sim_tasks_params", "start_test_tasks"]

_DEFAULT_CHECK_INTERVAL = TimeValue(100, "ms")


@dataclass(frozen=True, slots=True)
class SimTasksParams:
    """The parsed request: the task tree to start, and whether the HTTP call waits for it."""

    request: TestTasksRequest
    wait_for_completion: bool


def parse_sim_tasks_params(params: Params) -> SimTasksParams:
    """Reads and validates every parameter, raising ES-style 400s (`illegal_argument_exception`)."""
    nodes = params.list("nodes")
    duration = params.time("duration") or TimeValue.MINUS_ONE
    depth = params.int("depth", 1)
    cancellable = params.bool("cancellable", True)
    fail = params.bool("fail", False)
    check_interval = params.time("check_interval") or _DEFAULT_CHECK_INTERVAL
    wait_for_completion = params.bool("wait_for_completion", True)
    if depth not in (1, 2):
        raise IllegalArgumentError(f"[depth] must be 1 or 2 but was [{depth}]")
    if check_interval.millis <= 0:
        raise IllegalArgumentError(f"[check_interval] must be at least [1ms] but was [{check_interval}]")
    if not cancellable and duration.millis < 0:
        raise IllegalArgumentError("[duration] must be set when [cancellable] is false")
    request = TestTasksRequest(
        nodes=tuple(nodes),
        duration_millis=max(duration.millis, -1),
        depth=depth,
        cancellable=cancellable,
        fail=fail,
        check_interval_millis=check_interval.millis,
    )
    return SimTasksParams(request, wait_for_completion)


async def start_test_tasks(request: web.Request) -> web.Response:
    req = rest_request(request)
    parsed = parse_sim_tasks_params(req.params)
    req.params.check_unrecognized()
    client = rest_client(request)
    if not parsed.wait_for_completion:
        task = client.start(TestTasksAction, parsed.request)
        return req.respond({"task": str(task.task_id)})
    return req.respond(await client.execute(TestTasksAction, parsed.request))
