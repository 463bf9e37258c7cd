"""What handlers reach through the aiohttp app and request: the node's services, a client bound to the REST
request, and the parsed ES request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web

from node.actions.support.services import NodeServices
from node.actions.support.transport_action import Request, Response, TransportAction
from node.cluster.state import ClusterState
from node.tasks.task import Task
from rest.context import RestRequest

__all__ = ["REST_REQUEST", "SERVICES", "RestClient", "cluster_state", "rest_client", "rest_request", "services"]

SERVICES: web.AppKey[NodeServices] = web.AppKey("services", NodeServices)
REST_REQUEST: web.RequestKey[RestRequest] = web.RequestKey("rest_request", RestRequest)

A = TypeVar("A", bound=TransportAction[Any, Any])


def services(request: web.Request) -> NodeServices:
    return request.app[SERVICES]


def rest_request(request: web.Request) -> RestRequest:
    return request[REST_REQUEST]


def cluster_state(request: web.Request) -> ClusterState:
    """The cluster state the serving node applied last (what a handler renders node names and roles from)."""
    return services(request).cluster.state()


class RestClient:
    """The node client as a REST request uses it (mirrors ES `RestCancellableNodeClient`).

    Every action runs in a top-level task carrying the request's task headers (`X-Opaque-Id`, trace id, ...); when
    the HTTP client goes away before the answer, the task is cancelled and, through bans, its descendants.
    """

    def __init__(self, request: web.Request) -> None:
        self._client = services(request).client
        self._headers: Mapping[str, str] = rest_request(request).headers
        self._http = request

    async def execute(self, action_type: type[TransportAction[Request, Response]], request: Request) -> Response:
        return await self._client.execute(
            action_type,
            request,
            headers=self._headers,
            cancel_reason_on_exit=f"http channel [{self._channel()}] closed",
        )

    def start(self, action_type: type[TransportAction[Request, Response]], request: Request) -> Task:
        """`wait_for_completion=false`: the task runs on after the answer, and stores its result."""
        return self._client.start(action_type, request, headers=self._headers)

    def _channel(self) -> str:
        """Describes the HTTP channel the way ES's Netty channel prints itself."""
        transport = self._http.transport
        local = transport.get_extra_info("sockname") if transport is not None else None
        remote = transport.get_extra_info("peername") if transport is not None else None
        local_text = f"/{local[0]}:{local[1]}" if local else "/unknown"
        remote_text = f"/{remote[0]}:{remote[1]}" if remote else "/unknown"
        return f"Netty4HttpChannel{{localAddress={local_text}, remoteAddress={remote_text}}}"


def rest_client(request: web.Request) -> RestClient:
    return RestClient(request)
