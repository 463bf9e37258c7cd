"""`POST /_tasks/_cancel` and `POST /_tasks/{task_id}/_cancel` (reference §11; ES `RestCancelTasksAction`)."""

from __future__ import annotations

from aiohttp import web

from node.actions.cancel_tasks import CancelTasksAction, CancelTasksRequest
from node.tasks.task_id import TaskId
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.params import parse_group_by
from rest.render import render_tasks_response

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
    body = render_tasks_response(cluster_state(request), result, group_by=group_by, human=human)
    return req.respond(body)
