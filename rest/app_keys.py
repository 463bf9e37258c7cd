"""What handlers reach through the aiohttp app and request: the serving node and the parsed ES request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiohttp import web

from node.tasks.task import Task, TaskType
from rest.context import RestRequest

if TYPE_CHECKING:
    from node.server import Node

__all__ = ["NODE", "REST_REQUEST", "rest_request", "rest_task", "serving_node"]

NODE: web.AppKey[Node] = web.AppKey("node")
REST_REQUEST: web.RequestKey[RestRequest] = web.RequestKey("rest_request", RestRequest)


def serving_node(request: web.Request) -> Node:
    return request.app[NODE]


def rest_request(request: web.Request) -> RestRequest:
    return request[REST_REQUEST]


@asynccontextmanager
async def rest_task(
    request: web.Request, action: str, *, cancellable: bool, description: str = ""
) -> AsyncIterator[Task]:
    """Registers the top-level `transport` task of a REST request, with the request's task headers."""
    node = serving_node(request)
    task = node.task_manager.register(
        type=TaskType.TRANSPORT,
        action=action,
        description=description,
        headers=rest_request(request).headers,
        cancellable=cancellable,
    )
    try:
        yield task
    except asyncio.CancelledError:
        # The client closed the connection: ES cancels the REST task and, through bans, its descendants.
        node.cancellation.cancel_in_background(task, f"http channel [{_channel(request)}] closed")
        raise
    finally:
        node.task_manager.unregister(task)


def _channel(request: web.Request) -> str:
    """Describes the HTTP channel the way ES's Netty channel prints itself."""
    local = request.transport.get_extra_info("sockname") if request.transport is not None else None
    remote = request.transport.get_extra_info("peername") if request.transport is not None else None
    local_text = f"/{local[0]}:{local[1]}" if local else "/unknown"
    remote_text = f"/{remote[0]}:{remote[1]}" if remote else "/unknown"
    return f"Netty4HttpChannel{{localAddress={local_text}, remoteAddress={remote_text}}}"
