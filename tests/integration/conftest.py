"""Integration-test wiring: whole `Node`s — the same composition root a node process runs — in the test's own event
loop, with real gRPC and real HTTP on ports the kernel picks.

`InProcessCluster` is the one in-process harness; its nodes speak mutual TLS with credentials issued in the
cluster's directory (once per session for `coordination_cluster`), as `simcluster up` issues them in a home. Coordination tests start nodes by name and watch their applied
states (`start`, `wait_for_stable_master`, `partition`); REST tests take a formed cluster (`InProcessCluster.formed`)
and call it over HTTP (`get`, `post`, `request`). Fixtures stay synchronous (tests/conftest.py runs async tests in a
fresh loop): the cluster is created inside the test's loop and torn down with `async with`.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aiohttp
import pytest

from cluster.credentials import ClusterCredentials
from node.cluster.state import ClusterState, DiscoveryNode
from node.config import NodeConfig, PortRange
from node.coordination import Coordinator
from node.server import Node
from node.transport.faults import FaultKind, FaultSpec, LinkFaults
from node.transport.service import TransportService

# Fast failure detection (fd 100 ms / 200 ms / 3, election delay 50 ms) keeps every scenario well under a second.
FAST_SETTINGS: dict[str, int] = {
    "fd_interval_ms": 100,
    "fd_timeout_ms": 200,
    "fd_retries": 3,
    "election_delay_ms": 50,
    "publish_timeout_ms": 2000,
}
TEARDOWN_TIMEOUT_S = 15.0


def dump_tasks() -> str:
    """The stack of every pending asyncio task: what a stuck teardown is waiting for."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.print_stack(limit=8, file=out)
    return out.getvalue()


@dataclass(slots=True, eq=False)
class TestNode:
    """One in-process node and every (old, new) cluster state it applied."""

    __test__ = False  # not a test class, despite the name

    node: Node
    applied: list[tuple[ClusterState, ClusterState]] = field(default_factory=list)
    running: bool = True

    @property
    def name(self) -> str:
        return self.node.config.name

    @property
    def node_id(self) -> str:
        return self.node.node_id

    @property
    def local_node(self) -> DiscoveryNode:
        return self.node.local_node

    @property
    def address(self) -> str:
        return self.node.local_node.transport_address

    @property
    def transport(self) -> TransportService:
        return self.node.transport

    @property
    def faults(self) -> LinkFaults:
        return self.node.transport.faults

    @property
    def coordinator(self) -> Coordinator:
        return self.node.cluster.coordinator

    @property
    def state(self) -> ClusterState:
        return self.node.cluster.state()

    async def stop(self) -> None:
        """Stops the node as a crash would look to its peers: the transport goes first (connections refused)."""
        if not self.running:
            return
        self.running = False
        await self.node.transport.stop(grace=0)
        await self.node.stop()


class InProcessCluster:
    """Starts, stops and restarts whole nodes in the current event loop; `async with` tears all down."""

    def __init__(
        self, base_dir: Path, credentials: ClusterCredentials | None = None, settings: dict[str, Any] | None = None
    ) -> None:
        self._base_dir = base_dir
        if credentials is None:
            credentials = ClusterCredentials(base_dir / "credentials")
            credentials.ensure()
        self.credentials = credentials
        self._settings = dict(FAST_SETTINGS if settings is None else settings)
        self.nodes: dict[str, TestNode] = {}
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def formed(cls, base_dir: Path, count: int, **settings: Any) -> _Formed:
        """`async with InProcessCluster.formed(tmp_path, 3) as c:` — node-1..node-N, formed, ready for HTTP."""
        return _Formed(cls(base_dir, settings={**FAST_SETTINGS, "fd_retries": 2, **settings}), count)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        stopping = asyncio.gather(*(node.stop() for node in self.nodes.values()), return_exceptions=True)
        try:
            await asyncio.wait_for(stopping, TEARDOWN_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(f"teardown did not finish in {TEARDOWN_TIMEOUT_S}s:\n{dump_tasks()}") from None

    def running(self) -> list[TestNode]:
        return [n for n in self.nodes.values() if n.running]

    async def start(
        self,
        names: Sequence[str],
        *,
        seed_hosts: Iterable[str] | None = None,
        initial_master_nodes: Sequence[str] | None = None,
        cluster_name: str = "simcluster",
        roles: tuple[str, ...] = ("data", "ingest", "master"),
    ) -> list[TestNode]:
        """Starts nodes `names` (reusing the data dir of an earlier node of the same name).

        By default the new nodes bootstrap together (`initial_master_nodes` = their names) and seed to every running
        node and to the new nodes built before them (discovery finds the rest, as ES's does); pass
        `initial_master_nodes=()` for nodes that may only join.
        """
        seeds = [n.address for n in self.running()] if seed_hosts is None else list(seed_hosts)
        started = []
        for name in names:
            config = NodeConfig(
                name=name,
                data_dir=self._base_dir / name,
                cluster_name=cluster_name,
                http_port=PortRange(0, 0),
                transport_port=PortRange(0, 0),
                seed_hosts=tuple(seeds),
                initial_master_nodes=tuple(names if initial_master_nodes is None else initial_master_nodes),
                roles=roles,
                **self.credentials.node_settings(security=False),
                **self._settings,
            )
            test_node = TestNode(Node(config))
            test_node.node.cluster.add_applier(lambda old, new, a=test_node.applied: a.append((old, new)))
            self.nodes[name] = test_node
            started.append(test_node)
            if seed_hosts is None:
                seeds.append(test_node.address)
        for test_node in started:
            await test_node.node.start()
        return started

    async def stop(self, name: str) -> None:
        await self.nodes[name].stop()

    # ---- waiting ----------------------------------------------------------------------------------------------

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> float:
        """Polls `condition` every 10 ms until it holds; returns the seconds it took, fails the test otherwise."""
        started = time.monotonic()
        deadline = started + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}: {self.describe()}")
            await asyncio.sleep(0.01)
        return time.monotonic() - started

    async def wait_for_stable_master(self, nodes: Sequence[TestNode], timeout: float = 10.0) -> TestNode:
        """Waits until every node in `nodes` applied a state with the same master and exactly these nodes."""
        ids = {n.node_id for n in nodes}

        def formed() -> bool:
            masters = {n.state.master_node_id for n in nodes}
            return (
                len(masters) == 1
                and None not in masters
                and all(set(n.state.nodes) == ids for n in nodes)
                and len({(n.state.term, n.state.version) for n in nodes}) == 1
            )

        await self.wait_until(formed, timeout, f"a master over {sorted(n.name for n in nodes)}")
        master_id = nodes[0].state.master_node_id
        return next(n for n in nodes if n.node_id == master_id)

    # ---- faults -----------------------------------------------------------------------------------------------

    def partition(self, side_a: Sequence[TestNode], side_b: Sequence[TestNode], kind: FaultKind) -> None:
        """Cuts every link between the two sides, both directions (transport fault rules, DESIGN §5)."""
        for a in side_a:
            for b in side_b:
                a.faults.add(FaultSpec(kind, target=b.address, target_name=b.name, group="partition"))
                b.faults.add(FaultSpec(kind, target=a.address, target_name=a.name, group="partition"))

    def heal(self) -> None:
        for node in self.running():
            node.faults.heal()

    def masters_by_term(self) -> dict[int, set[str]]:
        """Every master any node ever applied, by term: safety means one master per term."""
        masters: dict[int, set[str]] = {}
        for node in self.nodes.values():
            for _, new in node.applied:
                if new.master_node_id is not None:
                    masters.setdefault(new.term, set()).add(new.master_node_id)
        return masters

    def describe(self) -> str:
        return "; ".join(
            f"{n.name}: mode={n.coordinator.mode.value} term={n.coordinator.current_term} "
            f"master={n.state.master.name if n.state.master else None} "
            f"nodes={sorted(m.name for m in n.state.nodes.values())} v={n.state.version}"
            for n in self.running()
        )

    # ---- HTTP -------------------------------------------------------------------------------------------------

    async def request(
        self, name: str, method: str, path: str, body: Any = None, *, content_type: str | None = None
    ) -> tuple[int, Any]:
        """One HTTP request to node `name`; a `bytes` body goes as NDJSON (unless `content_type`), anything else as
        JSON."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = f"http://{self.nodes[name].local_node.http_address}{path}"
        data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        default = "application/x-ndjson" if isinstance(body, bytes) else "application/json"
        headers = {"Content-Type": content_type or default}
        async with self._session.request(method, url, data=data, headers=headers) as response:
            text = await response.text()
            return response.status, json.loads(text) if text.strip().startswith(("{", "[")) else text

    async def get(self, name: str, path: str) -> tuple[int, Any]:
        return await self.request(name, "GET", path)

    async def post(self, name: str, path: str, json: Any = None) -> tuple[int, Any]:
        return await self.request(name, "POST", path, json)

    async def delete(self, name: str, path: str) -> tuple[int, Any]:
        return await self.request(name, "DELETE", path)


class _Formed:
    """The `async with` of `InProcessCluster.formed`: starts the nodes and waits until they formed one cluster."""

    def __init__(self, cluster: InProcessCluster, count: int) -> None:
        self._cluster = cluster
        self._count = count

    async def __aenter__(self) -> InProcessCluster:
        cluster = self._cluster
        try:
            nodes = await cluster.start([f"node-{i}" for i in range(1, self._count + 1)])
            await cluster.wait_for_stable_master(nodes)
        except BaseException:
            await cluster.__aexit__(None, None, None)
            raise
        return cluster

    async def __aexit__(self, *exc: object) -> None:
        await self._cluster.__aexit__(*exc)


@pytest.fixture(scope="session")
def cluster_credentials(tmp_path_factory: pytest.TempPathFactory) -> ClusterCredentials:
    """One CA and transport certificate for every in-process cluster of the session (ECDSA: milliseconds)."""
    credentials = ClusterCredentials(tmp_path_factory.mktemp("credentials"))
    credentials.ensure()
    return credentials


@pytest.fixture
def coordination_cluster(tmp_path: Path, cluster_credentials: ClusterCredentials) -> Callable[..., InProcessCluster]:
    """A factory, so the cluster itself is created inside the test's event loop."""
    return lambda settings=None: InProcessCluster(tmp_path, cluster_credentials, settings)
