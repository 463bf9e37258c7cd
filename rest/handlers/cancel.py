"""`POST /_tasks/_cancel` and `POST /_tasks/{task_id}/_cancel` (reference §11; ES `RestCancelTasksAction`)."""

from __future__ import annotations

from aiohttp import web

from node.actions.cancel_tasks import CancelTasksAction, CancelTasksRequest
from node.tasks.task_id import TaskId
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.params import parse_group_by
from rest.render import render_list_tasks, task_failure

__all__ = ["cancel_tasks"]


async def cancel_tasks(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    cancel_request = CancelTasksRequest(
        target_task_id=TaskId.parse(request.match_info.get("task_id")),
        nodes=p.list("nodes"),
        actions=p.list("actions"),
        parent_task_id=TaskId.parse(p.str("parent_task_id")),
        wait_for_completion=p.bool("wait_for_completion", False),
    )
    group_by = parse_group_by(p.str("group_by"))
    human = req.human
    p.check_unrecognized()
    cancel_request.validate()
    result = await rest_client(request).execute(CancelTasksAction, cancel_request)
    body = render_list_tasks(
        cluster_state(request),
        result.tasks_by_node,
        group_by=group_by,
        human=human,
        failures=result.node_failures,
        task_failures=[task_failure(f.task_id, f.node_id, f.error) for f in result.task_failures],
    )
    return req.respond(body)
