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
import sys
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from node.actions.cancel_tasks import CancelTasksAction
from node.actions.get_task import GetTaskAction
from node.actions.list_tasks import ListTasksAction
from node.actions.nodes_info import NodesInfoAction, local_node_info
from node.actions.test_tasks import TestTasksAction
from node.config import NodeConfig, PortRange
from node.coordination import Coordinator
from node.coordination.state import ClusterState, DiscoveryNode
from node.data.json_body import allow_nesting_depth
from node.data.plane import DataPlane
from node.logs import setup_logging
from node.storage.store import NodeStore, new_node_id
from node.storage.task_results import TaskResultsService
from node.tasks.cancellation import TaskCancellationService
from node.tasks.manager import TaskManager
from node.transport.faults import LinkFaults
from node.transport.service import TransportService

__all__ = ["Node", "run_node"]

log = logging.getLogger("node")


class Node:
    """Everything one node owns. Handlers reach it through the aiohttp app (`rest.app_keys.NODE`)."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.store = NodeStore(config.data_dir)
        self.node_id = self.store.node_id()
        self.ephemeral_id = new_node_id()
        self.started_at_millis = time.time_ns() // 1_000_000
        self.task_manager = TaskManager(self.node_id)
        self.faults = LinkFaults()  # `/_sim/faults`: simulated faults on this node's outbound links
        self.transport = TransportService(self.task_manager, lambda: self.local_node, self.faults)
        self.local_node = DiscoveryNode(
            id=self.node_id,
            name=config.name,
            ephemeral_id=self.ephemeral_id,
            host=config.host,
            transport_address="",
            http_address="",
            roles=config.roles,
            attributes=dict(config.attributes),
            version=config.es_version,
        )
        self._runner: web.AppRunner | None = None
        self._coordinator: Coordinator | None = None

    @property
    def coordinator(self) -> Coordinator:
        if self._coordinator is None:
            raise RuntimeError("node not started")
        return self._coordinator

    def cluster_state(self) -> ClusterState:
        return self.coordinator.state

    async def start(self) -> None:
        """Binds both servers, registers every action, then starts serving."""
        from rest.app import build_app  # the composition root is the one place node code reaches into rest
        from rest.http_server import http_runner

        transport_port = self.transport.bind(self.config.host, _ports(self.config.transport_port))
        self._runner = http_runner(build_app(self), self.config)
        await self._runner.setup()
        http_port = await _bind_http(self._runner, self.config.host, _ports(self.config.http_port))
        self.local_node = DiscoveryNode(
            id=self.node_id,
            name=self.config.name,
            ephemeral_id=self.ephemeral_id,
            host=self.config.host,
            transport_address=f"{self.config.host}:{transport_port}",
            http_address=f"{self.config.host}:{http_port}",
            roles=self.config.roles,
            attributes=dict(self.config.attributes),
            version=self.config.es_version,
        )
        self._coordinator = Coordinator(self.config, self.local_node, self.transport, self.store, self._on_applied)
        state = self.cluster_state
        self.cancellation = TaskCancellationService(self.task_manager, self.transport, state)
        self.list_tasks = ListTasksAction(self.transport, self.task_manager, state, self.node_id)
        self.cancel_tasks = CancelTasksAction(self.transport, self.task_manager, self.cancellation, state, self.node_id)
        self.nodes_info = NodesInfoAction(self.transport, self.task_manager, state, self.node_id, self._local_info)
        self.task_results = TaskResultsService(
            self.store, self.transport, state, self.node_id, self._coordinator.submit_state_update
        )
        self.get_task = GetTaskAction(self.transport, self.task_manager, state, self.node_id, self.task_results)
        self.test_tasks = TestTasksAction(
            self.transport, self.task_manager, state, lambda: self.local_node, self.task_results
        )
        self.data = DataPlane(
            self.config, self.store, self.task_manager, self.transport, self._coordinator,
            lambda: self.local_node, self.task_results,
        )  # fmt: skip
        await self.transport.start()
        await self._coordinator.start()

    async def stop(self) -> None:
        """Stops accepting REST, stops coordination, then closes the transport and the store."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._coordinator is not None:  # background test tasks first: they use coordination, transport and store
            await self.test_tasks.close()
            await self.data.close()
        if self._coordinator is not None:
            await self._coordinator.stop()
            await self.cancellation.stop()
        await self.transport.stop(grace=0.2)
        self.store.close()

    def _local_info(self, metrics: Sequence[str]) -> dict[str, Any]:
        return local_node_info(self.config, self.local_node, metrics, self.started_at_millis)

    def _on_applied(self, old: ClusterState, new: ClusterState) -> None:
        """A node that left (or restarted) takes its bans with it, and its tasks' children here are cancelled."""
        for node_id, node in old.nodes.items():
            gone = new.nodes.get(node_id)
            if gone is None or gone.ephemeral_id != node.ephemeral_id:
                self.transport.disconnect(node)
                self.task_manager.drop_bans_from(node_id)
                self.cancellation.cancel_children_of_departed(node_id)
        self.data.on_applied(old, new)

    def log_fields(self) -> dict[str, str]:
        fields = {
            "elasticsearch.node.name": self.config.name,
            "elasticsearch.node.id": self.node_id,
            "elasticsearch.cluster.name": self.config.cluster_name,
        }
        if self._coordinator is not None:
            fields["elasticsearch.cluster.uuid"] = self._coordinator.state.cluster_uuid
        return fields


def _ports(ports: PortRange) -> range:
    return range(ports.first, ports.last + 1)


async def _bind_http(runner: web.AppRunner, host: str, ports: range) -> int:
    last_error: OSError | None = None
    for port in ports:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as e:
            last_error = e
            continue
        return int(runner.addresses[-1][1])
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
    except OSError as e:
        print(f"error: cannot open data directory {config.data_dir}: {e}", file=sys.stderr)
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
