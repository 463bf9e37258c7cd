"""One node process: the composition root (DESIGN §1).

`Node` wires the task registry, the gRPC transport, coordination, the actions and the aiohttp front end onto one
event loop. `run_node` is what `python -m node` runs: start, print the ready line, serve until SIGTERM/SIGINT (or
EOF on stdin when the launcher asks for fate-sharing), shut down cleanly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time

from aiohttp import web

from node.actions.action_module import register_actions
from node.actions.client import NodeClient
from node.actions.support.services import NodeServices
from node.actions.task_results import TaskResultsService
from node.cluster.master_requests import MasterRequests
from node.cluster.service import ClusterService
from node.cluster.state import ClusterState, DiscoveryNode
from node.config import NodeConfig
from node.data.bulk_by_scroll import BulkByScrollTasks
from node.data.json_body import allow_nesting_depth
from node.events.journal import EventJournal
from node.indices.indices_cluster_state import IndicesClusterStateService
from node.indices.local_shards import LocalShards
from node.indices.recovery import PeerRecovery
from node.indices.routing_service import RoutingService
from node.indices.search_service import SearchService
from node.indices.shard_state import ShardStateAction
from node.logs import setup_logging
from node.monitor.service import MonitorService
from node.settings import publish_host
from node.storage.store import NodeStore, new_node_id
from node.tasks.cancellation import TaskCancellationService
from node.tasks.manager import TaskManager
from node.transport.faults import LinkFaults
from node.transport.service import BoundTransport, TransportService
from node.transport.tls import SslConfigError, TransportTls

__all__ = ["Node", "run_node"]

log = logging.getLogger("node")


class Node:
    """One node: its ports bound, its local `DiscoveryNode` built once, every service and action wired.

    Construction binds both ports (so the node knows its own addresses before anything uses them) and builds
    everything; `start` begins serving and joins the cluster; `stop` shuts down in the reverse order.

    Raises:
        OSError: the data directory cannot be opened, or no port of a configured range is free.
    """

    def __init__(self, config: NodeConfig) -> None:
        from rest.app import build_app  # the composition root is the one place node code reaches into rest
        from rest.http_server import http_runner
        from rest.security import http_ssl_context

        self.config = config
        self.store = NodeStore(config.data_dir)
        self.started_at_millis = time.time_ns() // 1_000_000
        bound = BoundTransport.bind(config.host, config.transport_port.ports(), TransportTls.load(config))
        self._http_socket = _bind_http(config.host, config.http_port.ports())
        self._http_ssl = http_ssl_context(config)
        published = publish_host(config)  # a wildcard bind address is no address to give to others
        self.local_node = DiscoveryNode(
            id=self.store.node_id(),
            name=config.name,
            ephemeral_id=new_node_id(),
            host=published,
            transport_address=f"{published}:{bound.port}",
            http_address=f"{published}:{self._http_socket.getsockname()[1]}",
            roles=config.roles,
            attributes=dict(config.attributes),
            version=config.es_version,
        )
        self.task_manager = TaskManager(self.local_node.id)
        self.transport = TransportService(bound, self.task_manager, self.local_node, LinkFaults())
        self.cluster = ClusterService(config, self.transport, self.store)
        self.cancellation = TaskCancellationService(self.transport, self.cluster)
        master_requests = MasterRequests(self.transport, self.cluster)
        shards = LocalShards(self.store)
        shard_state = ShardStateAction(self.transport, self.cluster, master_requests, config.es_version)
        recovery = PeerRecovery(self.transport, self.cluster, shards)
        self._indices_cluster_state = IndicesClusterStateService(self.local_node.id, shards, shard_state, recovery)
        self._routing = RoutingService(self.cluster, config.es_version)
        self._search = SearchService(self.transport, self.cluster, shards)
        self.monitor = MonitorService(config.data_dir, self.started_at_millis)
        self.client = NodeClient(self.task_manager, self.cancellation)
        task_results = TaskResultsService(self.client, self.transport, self.cluster, config.es_version)
        self.client.store_results_with(task_results)
        self.events = EventJournal(self.cluster, self.transport)
        self.services = NodeServices(
            config=config,
            cluster=self.cluster,
            transport=self.transport,
            cancellation=self.cancellation,
            task_results=task_results,
            master_requests=master_requests,
            shards=shards,
            shard_state=shard_state,
            bulk_by_scroll=BulkByScrollTasks(),
            client=self.client,
            started_at_millis=self.started_at_millis,
            monitor=self.monitor,
            search_contexts=self._search.contexts,
            events=self.events,
        )
        register_actions(self.services)
        self.cluster.add_applier(self._on_applied)
        self.cluster.add_applier(self._indices_cluster_state.on_applied)
        self.cluster.add_applier(self._routing.on_applied)
        self._runner = http_runner(build_app(self.services), config)

    @property
    def node_id(self) -> str:
        return self.local_node.id

    async def start(self) -> None:
        """Serves REST and transport, then starts discovering and joining the cluster."""
        await self._runner.setup()
        if self._runner.server is not None:
            self.monitor.http.attach(self._runner.server)
        await web.SockSite(self._runner, self._http_socket, ssl_context=self._http_ssl).start()
        await self.transport.start()
        await self.cluster.start()

    async def stop(self) -> None:
        """Stops accepting REST, stops the work in flight and coordination, then closes the transport and store."""
        self.events.close()  # event streams never end by themselves: end them, or the HTTP shutdown waits for them
        await self._runner.cleanup()
        self._http_socket.close()
        await self.client.close()  # background tasks and actions first: they use coordination, transport and store
        await self._routing.close()
        await self._indices_cluster_state.close()
        await self.cluster.stop()
        await self.cancellation.stop()
        await self.transport.stop(grace=0.2)
        self.monitor.close()
        self.store.close()

    def _on_applied(self, old: ClusterState, new: ClusterState) -> None:
        """A node that left (or restarted) takes its bans with it, and its tasks' children here are cancelled."""
        for node_id, node in old.nodes.items():
            gone = new.nodes.get(node_id)
            if gone is None or gone.ephemeral_id != node.ephemeral_id:
                self.transport.disconnect(node)
                self.task_manager.drop_bans_from(node_id)
                self.cancellation.cancel_children_of_departed(node_id)

    def log_fields(self) -> dict[str, str]:
        return {
            "elasticsearch.node.name": self.config.name,
            "elasticsearch.node.id": self.node_id,
            "elasticsearch.cluster.name": self.config.cluster_name,
            "elasticsearch.cluster.uuid": self.cluster.state().cluster_uuid,
        }


def _bind_http(host: str, ports: range) -> socket.socket:
    """A listening socket on the first free port of `ports` (port 0: ephemeral); aiohttp serves it once started."""
    family = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    last_error: OSError | None = None
    for port in ports:
        try:
            return socket.create_server((host, port), family=family, backlog=128)
        except OSError as e:
            last_error = e
    raise OSError(f"failed to bind HTTP to {host}:{ports.start}-{ports.stop - 1}: {last_error}")


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Fate-sharing with a foreground launcher: EOF on stdin (the launcher died or closed it) stops the node."""

    class _Eof(asyncio.Protocol):
        def eof_received(self) -> bool:
            loop.call_soon(stop.set)
            return False

        def connection_lost(self, exc: Exception | None) -> None:
            loop.call_soon(stop.set)

    loop.create_task(loop.connect_read_pipe(_Eof, sys.stdin))


async def run_node(config: NodeConfig) -> int:
    """Runs a node until told to stop; returns the process exit code."""
    allow_nesting_depth()  # cluster state and task results may carry any document a body was allowed to hold
    try:
        node = Node(config)
    except (OSError, SslConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    listener = setup_logging(config.log_path, node.log_fields)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await node.start()
        except OSError as e:
            log.error("failed to start: %s", e)
            print(f"error: {e}", file=sys.stderr)
            return 1
        if config.watch_stdin:
            _watch_stdin(loop, stop)
        ready = {
            "event": "ready",
            "name": config.name,
            "node_id": node.node_id,
            "pid": os.getpid(),
            "http_address": node.local_node.http_address,
            "transport_address": node.local_node.transport_address,
            "cluster_name": config.cluster_name,
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        log.info(
            "publish_address {%s}, bound_addresses {%s}", node.local_node.http_address, node.local_node.http_address
        )
        log.info("started")
        await stop.wait()
        log.info("stopping ...")
    finally:
        await node.stop()
        log.info("stopped")
        listener.stop()
    return 0
