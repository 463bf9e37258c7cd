"""`GET /_tasks/{task_id}` (reference §10; ES `RestGetTaskAction`)."""

from __future__ import annotations

from aiohttp import web

from node.actions.get_task import GetTaskAction, GetTaskRequest
from node.tasks.task_id import TaskId
from rest.app_keys import rest_client, rest_request
from rest.params import Params

__all__ = ["get_task", "parse_get_task_request"]


def parse_get_task_request(task_id: str, params: Params) -> GetTaskRequest:
    """Reads the path id and the only two parameters get accepts, `wait_for_completion` and `timeout`.

    A malformed id fails here (400, `malformed task id ...`); an unset one only at validation, as in ES.
    A negative `timeout` (`-1`) means none, so waits get the 30s default and forwarding no deadline.
    """
    parsed = TaskId.parse(task_id)
    wait_for_completion = params.bool("wait_for_completion", False)
    timeout = params.time("timeout")
    return GetTaskRequest(
        task_id=parsed,
        wait_for_completion=wait_for_completion,
        timeout=timeout if timeout is not None and timeout.millis >= 0 else None,
    )


async def get_task(request: web.Request) -> web.Response:
    req = rest_request(request)
    get_request = parse_get_task_request(request.match_info["task_id"], req.params)
    human = req.human
    req.params.check_unrecognized()
    result = await rest_client(request).execute(GetTaskAction, get_request)
    return req.respond(result.to_dict(human=human))
