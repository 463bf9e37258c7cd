"""`GET /_tasks` (reference §9)."""

from __future__ import annotations

from aiohttp import web

from node.actions.list_tasks import ListTasksAction, ListTasksRequest
from node.tasks.task_id import TaskId
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.params import Params, parse_group_by
from rest.render import render_tasks_response

__all__ = ["list_tasks", "parse_list_tasks_request"]


def parse_list_tasks_request(params: Params) -> ListTasksRequest:
    """Reads the list-tasks parameters shared by `GET /_tasks` and `GET /_cat/tasks`."""
    return ListTasksRequest(
        nodes=params.list("nodes"),
        actions=params.list("actions"),
        parent_task_id=TaskId.parse(params.str("parent_task_id")),
        detailed=params.bool("detailed", False),
        wait_for_completion=params.bool("wait_for_completion", False),
        timeout=params.time("timeout"),
    )


async def list_tasks(request: web.Request) -> web.Response:
    req = rest_request(request)
    list_request = parse_list_tasks_request(req.params)
    group_by = parse_group_by(req.params.str("group_by"))
    human = req.human
    req.params.check_unrecognized()
    result = await rest_client(request).execute(ListTasksAction, list_request)
    body = render_tasks_response(cluster_state(request), result, group_by=group_by, human=human)
    return req.respond(body)
