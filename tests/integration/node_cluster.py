"""Whole `Node`s (transport, coordination, actions and REST) in the test's own event loop.

The in-process counterpart of `LocalCluster`: the same composition root a node process runs, minus the process, so
fan-out and failure semantics can be tested in milliseconds with real gRPC and real HTTP on port 0.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from cluster.credentials import ClusterCredentials
from node.config import NodeConfig, PortRange
from node.server import Node

__all__ = ["NodeCluster"]

FAST = {"fd_interval_ms": 100, "fd_timeout_ms": 200, "fd_retries": 2, "election_delay_ms": 50}


class NodeCluster:
    """`async with NodeCluster(tmp_path, 3) as c:` starts node-1..node-N and waits until they formed a cluster.

    Nodes present the credentials of `base_dir` (issued on first use, as `simcluster up` issues them in a home).
    """

    def __init__(self, base_dir: Path, count: int, **overrides: Any) -> None:
        self._base_dir = base_dir
        self._count = count
        self._overrides = overrides
        self.credentials = ClusterCredentials(base_dir)
        self.nodes: dict[str, Node] = {}
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> NodeCluster:
        names = [f"node-{i}" for i in range(1, self._count + 1)]
        self.credentials.ensure()
        try:
            seeds: tuple[str, ...] = ()
            for name in names:
                config = NodeConfig(
                    name=name,
                    data_dir=self._base_dir / name,
                    http_port=PortRange(0, 0),
                    transport_port=PortRange(0, 0),
                    seed_hosts=seeds,
                    initial_master_nodes=tuple(names),
                    **{**FAST, **self.credentials.node_settings(security=False), **self._overrides},
                )
                node = Node(config)
                self.nodes[name] = node
                await node.start()
                seeds = (node.local_node.transport_address,)
            self.session = aiohttp.ClientSession()
            await self.wait_for(lambda: all(len(n.cluster_state().nodes) == self._count for n in self.running()))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()
        for name in list(self.nodes):
            await self.stop(name)

    def running(self) -> list[Node]:
        return list(self.nodes.values())

    async def stop(self, name: str) -> None:
        node = self.nodes.pop(name, None)
        if node is not None:
            await node.stop()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.02)

    async def get(self, name: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        assert self.session is not None
        url = f"http://{self.nodes[name].local_node.http_address}{path}"
        async with self.session.get(url, **kwargs) as response:
            return response.status, await response.json(content_type=None)

    async def post(self, name: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        assert self.session is not None
        url = f"http://{self.nodes[name].local_node.http_address}{path}"
        async with self.session.post(url, **kwargs) as response:
            return response.status, await response.json(content_type=None)
