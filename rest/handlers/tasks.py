"""`GET /_tasks` (reference §9)."""

from __future__ import annotations

from aiohttp import web

from node.actions.list_tasks import ListTasksRequest, Timeout
from node.actions.names import LIST_TASKS
from node.tasks.task_id import TaskId
from rest.app_keys import rest_request, rest_task, serving_node
from rest.params import Params, parse_group_by
from rest.render import render_list_tasks

__all__ = ["list_tasks", "parse_list_tasks_request"]


def parse_list_tasks_request(params: Params) -> ListTasksRequest:
    """Reads the list-tasks parameters shared by `GET /_tasks` and `GET /_cat/tasks`."""
    timeout = params.time("timeout")
    return ListTasksRequest(
        nodes=params.list("nodes"),
        actions=params.list("actions"),
        parent_task_id=TaskId.parse(params.str("parent_task_id")),
        detailed=params.bool("detailed", False),
        wait_for_completion=params.bool("wait_for_completion", False),
        timeout=Timeout(timeout.millis, str(timeout)) if timeout is not None else None,
    )


async def list_tasks(request: web.Request) -> web.Response:
    req = rest_request(request)
    node = serving_node(request)
    list_request = parse_list_tasks_request(req.params)
    group_by = parse_group_by(req.params.str("group_by"))
    human = req.human
    req.params.check_unrecognized()
    async with rest_task(request, LIST_TASKS, cancellable=True) as task:
        result = await node.list_tasks.execute(task, list_request)
    body = render_list_tasks(
        node.cluster_state(), result.tasks_by_node, group_by=group_by, human=human, failures=result.node_failures
    )
    return req.respond(body)
