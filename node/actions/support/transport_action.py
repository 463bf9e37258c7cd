"""`TransportAction`: a named operation that runs in a task on this node (mirrors ES `TransportAction`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

from node.actions.support.services import NodeServices
from node.tasks.task import Task

__all__ = ["Request", "Response", "TransportAction"]

Request = TypeVar("Request")
Response = TypeVar("Response")


class TransportAction(Generic[Request, Response]):
    """An action of this node: `execute(task, request)` runs it in a task the caller registered.

    Callers do not call `execute` themselves: they go through the `NodeClient`, which registers the task (with the
    action's name, the request's description and cancellability, the caller's headers or parent) and unregisters
    it, as ES's `NodeClient#executeLocally` does.

    Subclasses set `name` and implement `execute`; those that serve requests from other nodes register their
    handlers in `register`, which the composition root calls once, before the transport starts.
    """

    name: ClassVar[str]
    cancellable: ClassVar[bool] = False

    def __init__(self, services: NodeServices) -> None:
        self.services = services
        self.cluster = services.cluster
        self.transport = services.transport
        self.task_manager = services.transport.task_manager
        self.client = services.client
        self.local_node = services.transport.local_node

    def register(self) -> None:
        """Registers the transport handlers this action serves; none for a coordinating-only action."""

    def describe(self, request: Request) -> str:
        """The description of the action's task (ES `TransportRequest#getDescription`)."""
        describe = getattr(request, "description", None)
        return describe() if callable(describe) else ""

    def is_cancellable(self, request: Request) -> bool:
        """Whether the task is a `CancellableTask` (ES `TransportRequest#createTask`)."""
        return self.cancellable

    async def execute(self, task: Task, request: Request) -> Response:
        raise NotImplementedError

    def response_document(self, response: Response) -> Mapping[str, Any]:
        """The `response` stored in `.tasks` for a run in the background (ES stores the response's XContent)."""
        if not isinstance(response, Mapping):
            raise TypeError(f"[{self.name}] cannot store a {type(response).__name__}")
        return response

    async def close(self) -> None:
        """Stops background work the action owns; called when the node stops."""
