"""Node-to-node requests over gRPC, with one task registered per request (DESIGN §5; mirrors ES TransportService).

Every action is registered once with `register_action`. Sending a request to another node goes as a frame on one
long-lived stream of one long-lived `grpc.aio` channel per peer (node/transport/connection.py) and registers a
`transport` task on the receiver; sending one to the local node runs the same handler in-process and registers a
`direct` task. Either way the receiving side registers exactly one task, runs the handler and unregisters it in
`finally`, so no handler can forget it.

A handler whose task is not cancellable (a write's `[s][p]` and `[s][r]`, a shard-state report, a stored-result
read) runs to its end even when the sender stops waiting — its call cancelled, timed out or its node gone — as ES's
handlers do: closing a channel cancels only cancellable tasks. Only stopping the node interrupts it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message

from node.cluster.state import DiscoveryNode
from node.common.background import BackgroundTasks, UnstoppableWork
from node.errors import (
    ElasticsearchError,
    NodeDisconnectedError,
    ReceiveTimeoutTransportError,
    SendRequestTransportError,
    TransportError,
)
from node.tasks.manager import TaskManager
from node.tasks.task import Task, TaskType
from node.tasks.task_id import TaskId
from node.transport.connection import InboundStream, PeerConnection
from node.transport.faults import LinkFaults
from node.transport.pb import transport_pb2 as pb
from node.transport.pb import transport_pb2_grpc as pb_grpc
from node.transport.stats import TransportStats
from node.transport.tls import TransportTls

__all__ = ["ActionHandler", "BoundTransport", "TransportService"]

log = logging.getLogger(__name__)

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)

# All of a peer's traffic shares one stream, so gRPC's 4 MB message limit would fail every request in flight with
# the one response that exceeds it, and a bulk shard request is as large as the REST body that brought it (up to
# `http.max_content_length`); as ES's TCP transport, the transport takes messages of any size.
_MESSAGE_SIZE_OPTIONS = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
SERVER_OPTIONS = [("grpc.so_reuseport", 0), *_MESSAGE_SIZE_OPTIONS]
# A restarted peer should be reachable again within a fraction of a second (performance-baselines P4). Not
# `grpc.min_reconnect_backoff_ms`: gRPC core reads it as the minimum *connect timeout*, and 50 ms (100 at least) is
# less than a TLS handshake with a peer on a loaded machine takes, so every cold call to it failed as UNAVAILABLE.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 500),
    ("grpc.enable_retries", 0),
    *_MESSAGE_SIZE_OPTIONS,
]


@dataclass(frozen=True, slots=True)
class ActionHandler(Generic[Req, Resp]):
    """How one action is served: its messages, its handler, and the kind of task it registers."""

    action: str
    request_type: type[Req]
    response_type: type[Resp]
    handler: Callable[[Task, Req], Awaitable[Resp]]
    cancellable: bool | Callable[[Req], bool] = False
    describe: Callable[[Req], str] | None = None

    def is_cancellable(self, request: Req) -> bool:
        return self.cancellable(request) if callable(self.cancellable) else self.cancellable


class _Disconnected(Exception):
    """Internal marker: an in-flight request was abandoned because its target left the cluster."""


class BoundTransport:
    """The node's gRPC server, bound to its port but not yet serving (ES binds its transport before the node
    knows its own `DiscoveryNode`, which carries the bound address), and the credentials it speaks mutual TLS with:
    the server's, and what the node presents when it calls its peers (node/transport/tls.py)."""

    def __init__(self, server: grpc.aio.Server, host: str, port: int, tls: TransportTls | None) -> None:
        self.server = server
        self.host = host
        self.port = port
        self.tls = tls

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def bind(cls, host: str, ports: range, tls: TransportTls) -> BoundTransport:
        """Binds to the first free port of `ports` (port 0: ephemeral, chosen by the kernel); the server speaks
        mutual TLS only.

        Raises:
            OSError: no port of the range could be bound.
        """
        server = grpc.aio.server(options=SERVER_OPTIONS)
        credentials = tls.server_credentials()
        for port in ports:
            try:
                bound = server.add_secure_port(f"{host}:{port}", credentials)
            except RuntimeError:
                bound = 0
            if bound:
                return cls(server, host, bound, tls)
        raise OSError(f"failed to bind transport to {host}:{ports.start}-{ports.stop - 1}: no free port")


class TransportService:
    """Sends and serves node-to-node requests for one node.

    It carries what every sender and handler needs, as ES's does: the node's `TaskManager` (every request
    registers a task) and the local `DiscoveryNode` (built once, after binding).
    """

    def __init__(
        self,
        bound: BoundTransport,
        task_manager: TaskManager,
        local_node: DiscoveryNode,
        faults: LinkFaults | None = None,
    ) -> None:
        self.task_manager = task_manager
        self.local_node = local_node
        self.faults = faults if faults is not None else LinkFaults()
        self.stats = TransportStats()
        self._server = bound.server
        self._tls = bound.tls
        self._handlers: dict[str, ActionHandler[Any, Any]] = {}
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._connections: dict[str, PeerConnection] = {}
        # Requests held by simulated faults, per node incarnation (ephemeral id): a restarted node keeps its id, not
        # its requests. Requests on a connection are failed through the connection.
        self._held: dict[str, set[asyncio.Future[pb.TransportResponse]]] = defaultdict(set)
        self._disconnected: set[asyncio.Future[pb.TransportResponse]] = set()
        self._request_ids = itertools.count(1)
        self._closing = BackgroundTasks("transport", log)
        self._unstoppable = UnstoppableWork()
        pb_grpc.add_TransportServicer_to_server(_Servicer(self), self._server)

    # ---- registry ---------------------------------------------------------------------------------------

    def register_action(
        self,
        action: str,
        request_type: type[Req],
        response_type: type[Resp],
        handler: Callable[[Task, Req], Awaitable[Resp]],
        *,
        cancellable: bool | Callable[[Req], bool] = False,
        describe: Callable[[Req], str] | None = None,
    ) -> None:
        """Serves `action`; `cancellable` may depend on the request, as ES's `TransportRequest#createTask` does."""
        if action in self._handlers:
            raise ValueError(f"action [{action}] is already registered")
        self._handlers[action] = ActionHandler(action, request_type, response_type, handler, cancellable, describe)

    @property
    def registered_actions(self) -> tuple[str, ...]:
        """Every action this node serves, in registration order."""
        return tuple(self._handlers)

    # ---- server -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts serving; every action is registered by now (the composition root registers before starting)."""
        await self._server.start()

    async def stop(self, grace: float = 0.5) -> None:
        await self._server.stop(grace)
        await self._unstoppable.close()
        await self._closing.join()
        connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            await connection.close()
        for channel in list(self._channels.values()):
            await channel.close()
        self._channels.clear()

    # ---- sending ----------------------------------------------------------------------------------------

    async def send_request(
        self,
        node: DiscoveryNode,
        action: str,
        request: Message,
        *,
        parent: Task | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Sends `request` to `node` as `action` and returns the response message.

        A request to the local node takes the in-process `direct` path. Headers and the parent id come from
        `parent`, so every descendant task carries the caller's X-Opaque-Id and trace id.

        Raises:
            ElasticsearchError: the remote handler's error, unwrapped, or a transport error
                (`receive_timeout_transport_exception`, `node_disconnected_exception`, ...).
        """
        handler = self._handlers[action]
        parent_id = parent.task_id if parent is not None else TaskId.UNSET
        headers: Mapping[str, str] = parent.headers if parent is not None else {}
        if node.id == self.local_node.id:
            return await self._handle_locally(handler, request, parent_id, headers)
        request_id = next(self._request_ids)
        # The envelope is built inside each call, so nothing here keeps it (and its buffers) while the peer works.
        try:
            if self.faults.active:
                envelope = self._envelope(action, request, parent_id, headers)
                response = await self._send_held(node, envelope, timeout, request_id)
            else:
                connection = self._connection(node.transport_address)
                try:
                    response = await connection.send(
                        request_id, self._envelope(action, request, parent_id, headers), timeout
                    )
                finally:
                    connection.settle(request_id)
        except _Disconnected:
            raise NodeDisconnectedError(f"[{node.name}][{node.transport_address}][{action}] disconnected") from None
        except grpc.aio.AioRpcError as e:
            raise self._transport_error(e, node.name, node.transport_address, action, request_id, timeout) from None
        self.stats.received(response.ByteSize())
        return self._unwrap(handler, response)

    def _envelope(
        self, action: str, request: Message, parent_id: TaskId, headers: Mapping[str, str]
    ) -> pb.TransportRequest:
        envelope = pb.TransportRequest(
            action=action,
            parent_task_id=str(parent_id) if parent_id.is_set else "",
            headers=headers,
            payload=request.SerializeToString(),
            source_node_id=self.local_node.id,
        )
        self.stats.sent(envelope.ByteSize())
        return envelope

    async def send_to_address(self, address: str, action: str, request: Message, *, timeout: float) -> Any:
        """Sends a request to a transport address whose node is not known yet (discovery, handshakes)."""
        handler = self._handlers[action]
        local = self.local_node
        envelope = pb.TransportRequest(action=action, payload=request.SerializeToString(), source_node_id=local.id)
        self.stats.sent(envelope.ByteSize())
        request_id = next(self._request_ids)
        try:
            if self.faults.active:
                send = functools.partial(self._exchange, address, envelope, request_id)
                response = await self.faults.send_through(address, action, timeout, send)
            else:
                response = await self._exchange(address, envelope, request_id, timeout)
        except _Disconnected:
            raise NodeDisconnectedError(f"[][{address}][{action}] disconnected") from None
        except grpc.aio.AioRpcError as e:
            raise self._transport_error(e, "", address, action, request_id, timeout) from None
        self.stats.received(response.ByteSize())
        return self._unwrap(handler, response)

    def disconnect(self, node: DiscoveryNode) -> None:
        """Fails every in-flight request to `node` and closes its connection; called when it leaves the cluster."""
        for held in list(self._held.pop(node.ephemeral_id, ())):
            self._disconnected.add(held)
            held.cancel()
        connection = self._connections.pop(node.transport_address, None)
        if connection is not None:
            connection.fail_all(_Disconnected)
        channel = self._channels.pop(node.transport_address, None)
        if connection is not None or channel is not None:
            self._closing.spawn(self._close_link(connection, channel), name=f"close link to {node.transport_address}")

    async def _send_held(
        self, node: DiscoveryNode, envelope: pb.TransportRequest, timeout: float | None, request_id: int
    ) -> pb.TransportResponse:
        """A request through the simulated faults (node/transport/faults.py), which act on the sending side; while a
        fault holds it, `disconnect` can still fail it."""
        address = node.transport_address
        send = functools.partial(self._exchange, address, envelope, request_id)
        held = asyncio.ensure_future(self.faults.send_through(address, envelope.action, timeout, send))
        holding = self._held[node.ephemeral_id]
        holding.add(held)
        try:
            return await held
        except asyncio.CancelledError:
            current = asyncio.current_task()
            # Our own caller's cancellation wins over a simultaneous disconnect: it must never be absorbed.
            if held in self._disconnected and not (current is not None and current.cancelling()):
                raise _Disconnected from None
            raise
        finally:
            holding.discard(held)
            self._disconnected.discard(held)

    async def _exchange(
        self, address: str, envelope: pb.TransportRequest, request_id: int, timeout: float | None
    ) -> pb.TransportResponse:
        return await self._connection(address).exchange(request_id, envelope, timeout)

    def _connection(self, address: str) -> PeerConnection:
        """The peer's connection: one stream on its long-lived channel, opened again after it broke."""
        connection = self._connections.get(address)
        if connection is not None and not connection.closed:
            return connection
        channel = self._channels.get(address)
        if channel is None:
            if self._tls is None:
                raise RuntimeError("the transport has no credentials to present to its peers")
            options = [*CHANNEL_OPTIONS, *self._tls.channel_options()]
            channel = grpc.aio.secure_channel(address, self._tls.channel_credentials(), options=options)
            self.stats.outbound_connections += 1
            self._channels[address] = channel
        connection = self._connections[address] = PeerConnection(pb_grpc.TransportStub(channel), address)
        return connection

    @staticmethod
    async def _close_link(connection: PeerConnection | None, channel: grpc.aio.Channel | None) -> None:
        if connection is not None:
            await connection.close()
        if channel is not None:
            await channel.close()

    @staticmethod
    def _unwrap(handler: ActionHandler[Any, Any], response: pb.TransportResponse) -> Any:
        if response.WhichOneof("result") == "error_json":
            raise ElasticsearchError.from_wire(json.loads(response.error_json))
        return handler.response_type.FromString(response.payload)

    @staticmethod
    def _transport_error(
        e: grpc.aio.AioRpcError, name: str, address: str, action: str, request_id: int, timeout: float | None
    ) -> ElasticsearchError:
        code = e.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            millis = int((timeout or 0) * 1000)
            return ReceiveTimeoutTransportError(
                f"[{name}][{address}][{action}] request_id [{request_id}] timed out after [{millis}ms]"
            )
        if code == grpc.StatusCode.UNAVAILABLE:
            return NodeDisconnectedError(f"[{name}][{address}][{action}] disconnected")
        return SendRequestTransportError(
            f"[{name}][{address}][{action}]", cause=TransportError(f"{code.name}: {e.details()}")
        )

    # ---- receiving --------------------------------------------------------------------------------------

    async def _handle_locally(
        self, handler: ActionHandler[Any, Any], request: Message, parent: TaskId, headers: Mapping[str, str]
    ) -> Any:
        """A request to the local node: the same handler in-process, in a `direct` task."""
        task = self._register(handler, request, TaskType.DIRECT, parent, headers)
        return await self._run(handler, task, request)

    async def handle_envelope(self, envelope: pb.TransportRequest) -> pb.TransportResponse:
        """Serves one request from another node: the single entry point of every action received over the wire."""
        self.stats.received(envelope.ByteSize())
        action = envelope.action
        try:
            handler = self._handlers.get(action)
            if handler is None:
                raise TransportError(
                    f"No handler for action [{action}]", es_type="action_not_found_transport_exception"
                )
            request = handler.request_type.FromString(envelope.payload)
            parent = TaskId.parse(envelope.parent_task_id) if envelope.parent_task_id else TaskId.UNSET
            task = self._register(handler, request, TaskType.TRANSPORT, parent, envelope.headers)
            # A request may run for minutes among thousands: this frame keeps neither the envelope (a view into the
            # whole message it arrived in) nor, when the task is cancellable, the request its handler holds.
            del envelope
            if task.cancellable:  # `_run`, inlined: one coroutine less for every request in flight
                work = self._start(handler, task, request)
                del request
                try:
                    response = await work
                finally:
                    self.task_manager.unregister(task)
            else:
                response = await self._run(handler, task, request)
            answer = pb.TransportResponse(payload=response.SerializeToString())
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - every failure is answered in-band
            answer = self._failure(action, e)
        self.stats.sent(answer.ByteSize())
        return answer

    def _register(
        self,
        handler: ActionHandler[Any, Any],
        request: Message,
        task_type: str,
        parent: TaskId,
        headers: Mapping[str, str],
    ) -> Task:
        return self.task_manager.register(
            type=task_type,
            action=handler.action,
            description=handler.describe(request) if handler.describe is not None else "",
            parent=parent,
            headers=headers,
            cancellable=handler.is_cancellable(request),
        )

    def _start(self, handler: ActionHandler[Any, Any], task: Task, request: Message) -> Awaitable[Message]:
        """The handler's work for `task`, not started yet; a handler that fails at once unregisters its task."""
        try:
            return handler.handler(task, request)
        except BaseException:
            self.task_manager.unregister(task)
            raise

    async def _run(self, handler: ActionHandler[Any, Any], task: Task, request: Message) -> Any:
        """Runs the handler and unregisters `task` after it; a handler whose task is not cancellable runs to its
        end even when the caller stops waiting."""
        if task.cancellable:
            return await self._to_the_end(handler, task, request)
        return await self._unstoppable.run(
            self._to_the_end(handler, task, request), name=f"{handler.action}[{task.id}]"
        )

    async def _to_the_end(self, handler: ActionHandler[Any, Any], task: Task, request: Message) -> Any:
        work = self._start(handler, task, request)
        try:
            return await work
        finally:
            self.task_manager.unregister(task)

    def _failure(self, action: str, error: Exception) -> pb.TransportResponse:
        if not isinstance(error, ElasticsearchError):  # a bug in a handler: answer like ES would, and log it
            log.error("unexpected failure handling [%s]", action, exc_info=error)
            error = ElasticsearchError(f"{type(error).__name__}: {error}")
        return pb.TransportResponse(error_json=json.dumps(error.to_wire()))


class _Servicer(pb_grpc.TransportServicer):
    def __init__(self, service: TransportService) -> None:
        self._service = service

    async def Invoke(self, request: pb.TransportRequest, context: grpc.aio.ServicerContext) -> pb.TransportResponse:  # noqa: N802
        return await self._service.handle_envelope(request)

    async def Connect(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:  # noqa: N802
        service = self._service  # looked up per request, so that a test may wrap `handle_envelope`
        await InboundStream(lambda envelope: service.handle_envelope(envelope), context.write).serve(request_iterator)
