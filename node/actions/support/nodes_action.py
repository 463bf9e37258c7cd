"""`TransportNodesAction`: one `[n]` request to every resolved node (mirrors ES `TransportNodesAction`; reference §6).

The coordinating task resolves the target nodes, sends each one `<name>[n]` as its child (`direct` to itself,
`transport` elsewhere), and builds the response from the nodes that answered and the `failed_node_exception`s of
those that did not: a node missing from the cluster state, not answering within the per-node timeout, or failing.
A partial failure is never a failure of the whole request.

The per-node timeout is the request's `timeout` (ES `BaseNodesRequest#timeout`); without one, the node's
`--node-request-timeout` (10s by default). ES has no such default — its fan-outs wait until fault detection removes
a node that does not answer (elastic/elasticsearch#50641) — so a paused node would hold every `_cat/nodes` for as
long as fault detection takes; the default bounds that wait, and `-1` restores ES's unbounded one. When the coordinating task is cancelled, it fails at once
with `task_cancelled_exception` and leaves the `[n]` children to the bans (ES `CancellableFanOut`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from google.protobuf.message import Message

from node.actions.support.transport_action import Request, Response, TransportAction
from node.cluster.node_selector import resolve_nodes
from node.cluster.state import ClusterState
from node.common.action_names import node_level
from node.common.time_value import TimeValue
from node.errors import ElasticsearchError, FailedNodeError, NoSuchNodeError
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.service import TransportService

__all__ = ["NodeRequest", "NodeResponse", "NodesResponse", "TransportNodesAction", "fan_out"]

NodeRequest = TypeVar("NodeRequest", bound=Message)
NodeResponse = TypeVar("NodeResponse", bound=Message)
T = TypeVar("T")


@dataclass(slots=True)
class NodesResponse(Generic[T]):
    """Per-node responses (keyed by node id, in target order) and the failures of the other nodes."""

    responses: dict[str, T] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


async def fan_out(
    transport: TransportService,
    state: ClusterState,
    node_ids: Sequence[str],
    action: str,
    request: Message,
    *,
    parent: Task,
    timeout: TimeValue | None,
    on_node_done: Callable[[], None] | None = None,
) -> NodesResponse[Any]:
    """Sends `request` as `action` to every node id, each counted as an outstanding child request of `parent`.

    `on_node_done` is called as each node answers or fails (a parent's progress status counts them).

    Raises:
        TaskCancelledError: `parent` was cancelled before every node answered.
    """
    task_manager: TaskManager = transport.task_manager
    seconds = timeout.seconds if timeout is not None and timeout.millis >= 0 else None

    async def one(node_id: str) -> Any:
        # The response or its `ElasticsearchError`, so a child failing after its coordinator gave up (cancelled)
        # leaves no unretrieved exception behind; anything else is a bug and propagates.
        node = state.nodes[node_id]
        try:
            with task_manager.child_request(parent, node_id):
                return await transport.send_request(node, action, request, parent=parent, timeout=seconds)
        except ElasticsearchError as e:
            return e
        finally:
            if on_node_done is not None:
                on_node_done()

    targets = [n for n in node_ids if n in state.nodes]
    calls = [asyncio.ensure_future(one(n)) for n in targets]
    await parent.wait_unless_cancelled(calls)
    out: NodesResponse[Any] = NodesResponse()
    by_node = {node_id: call.result() for node_id, call in zip(targets, calls, strict=True)}
    for node_id in node_ids:
        if node_id not in by_node:
            out.failures.append(FailedNodeError(node_id, NoSuchNodeError(node_id)))
            continue
        result = by_node[node_id]
        if isinstance(result, ElasticsearchError):
            out.failures.append(FailedNodeError(node_id, result))
        else:
            out.responses[node_id] = result
    return out


class TransportNodesAction(TransportAction[Request, Response], Generic[Request, Response, NodeRequest, NodeResponse]):
    """Fans `<name>[n]` out to the nodes the request selects and merges what they answer.

    Subclasses set `name`, `node_request_type` and `node_response_type`, and implement `new_node_request`,
    `node_operation` and `new_response`; requests with a `nodes` selector and an optional `timeout` need nothing more.
    """

    node_request_type: ClassVar[type[Message]]
    node_response_type: ClassVar[type[Message]]
    node_cancellable: ClassVar[bool] = True
    cancellable = True

    @property
    def node_action(self) -> str:
        return node_level(self.name)

    def register(self) -> None:
        self.transport.register_action(
            self.node_action, self.node_request_type, self.node_response_type, self.node_operation,
            cancellable=self.node_cancellable, describe=self.node_description,
        )  # fmt: skip

    # ---- what a subclass states -------------------------------------------------------------------------------

    def new_node_request(self, request: Request) -> NodeRequest:
        raise NotImplementedError

    async def node_operation(self, task: Task, request: NodeRequest) -> NodeResponse:
        raise NotImplementedError

    def new_response(
        self, request: Request, responses: Mapping[str, NodeResponse], failures: list[FailedNodeError]
    ) -> Response:
        raise NotImplementedError

    # ---- what a subclass may refine ---------------------------------------------------------------------------

    def resolve_nodes(self, request: Request, state: ClusterState) -> list[str]:
        """ES `resolveRequest`: the request's `nodes` selectors (every node when it has none)."""
        return resolve_nodes(state, self.local_node.id, getattr(request, "nodes", ()))

    def node_timeout(self, request: Request) -> TimeValue | None:
        """How long each node may take: the request's `timeout` (ES `BaseNodesRequest#timeout`), else the node's
        default per-node timeout; None: no bound."""
        timeout: TimeValue | None = getattr(request, "timeout", None)
        return timeout if timeout is not None else self.cluster.node_request_timeout

    def node_description(self, request: NodeRequest) -> str:
        return ""

    # ---- the fan-out ------------------------------------------------------------------------------------------

    async def execute(self, task: Task, request: Request) -> Response:
        state = self.cluster.state()
        node_ids = self.resolve_nodes(request, state)
        nodes = await fan_out(
            self.transport, state, node_ids, self.node_action, self.new_node_request(request),
            parent=task, timeout=self.node_timeout(request),
        )  # fmt: skip
        return self.new_response(request, nodes.responses, nodes.failures)
