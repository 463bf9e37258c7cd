"""`cluster:monitor/nodes/capabilities` and its `[n]` action: what `GET /_capabilities` asks every node (ES
`TransportNodesCapabilitiesAction`).

Each node answers whether its REST layer has a handler for the method and path that supports the parameters and
capabilities asked (`RestController#checkSupported`, `node.common.rest_capabilities`); the answer is true only when
every node says so, and null when a node failed to answer, as ES's `NodesCapabilitiesResponse#isSupported`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from node.actions.support.nodes_action import TransportNodesAction
from node.common.action_names import NODES_CAPABILITIES
from node.common.time_value import TimeValue
from node.errors import FailedNodeError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["NodesCapabilitiesAction", "NodesCapabilitiesRequest", "NodesCapabilitiesResponse"]


@dataclass(frozen=True, slots=True)
class NodesCapabilitiesRequest:
    method: str = "GET"
    path: str = "/"
    parameters: Sequence[str] = ()
    capabilities: Sequence[str] = ()
    nodes: Sequence[str] = ()
    timeout: TimeValue | None = None


@dataclass(slots=True)
class NodesCapabilitiesResponse:
    supported: dict[str, bool] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)

    @property
    def all_supported(self) -> bool | None:
        """True when every node supports it, None when some node did not answer."""
        if self.failures:
            return None
        return all(self.supported.values())


class NodesCapabilitiesAction(
    TransportNodesAction[
        NodesCapabilitiesRequest,
        NodesCapabilitiesResponse,
        pb.NodesCapabilitiesNodeRequest,
        pb.NodesCapabilitiesNodeResponse,
    ]
):
    name = NODES_CAPABILITIES
    node_request_type = pb.NodesCapabilitiesNodeRequest
    node_response_type = pb.NodesCapabilitiesNodeResponse

    def new_node_request(self, request: NodesCapabilitiesRequest) -> pb.NodesCapabilitiesNodeRequest:
        return pb.NodesCapabilitiesNodeRequest(
            method=request.method,
            path=request.path,
            parameters=list(request.parameters),
            capabilities=list(request.capabilities),
        )

    async def node_operation(
        self, task: Task, request: pb.NodesCapabilitiesNodeRequest
    ) -> pb.NodesCapabilitiesNodeResponse:
        supported = self.services.rest_capabilities.supported(
            request.method, request.path, frozenset(request.parameters), frozenset(request.capabilities)
        )
        return pb.NodesCapabilitiesNodeResponse(supported=supported)

    def new_response(
        self,
        request: NodesCapabilitiesRequest,
        responses: Mapping[str, pb.NodesCapabilitiesNodeResponse],
        failures: list[FailedNodeError],
    ) -> NodesCapabilitiesResponse:
        return NodesCapabilitiesResponse({n: r.supported for n, r in responses.items()}, failures)
