"""Integration-test wiring: several real coordinators in the test's own event loop.

Each test node has its own `TaskManager`, a real gRPC `TransportService` bound on port 0 (mutual TLS with
credentials issued once per session, `cluster_credentials`) and a `NodeStore` in the test's tmp dir, exactly as a
node process wires them, minus the REST front end. Fixtures stay synchronous
(tests/conftest.py runs async tests in a fresh loop): `coordination_cluster` returns an `InProcessCluster` that
creates every grpc.aio object inside the test's loop, and the test tears it down with `async with`.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest

from cluster.credentials import ClusterCredentials
from node.config import NodeConfig
from node.coordination import Coordinator
from node.coordination.state import ClusterState, DiscoveryNode
from node.storage.store import NodeStore, new_node_id
from node.tasks.manager import TaskManager
from node.transport.faults import FaultKind, FaultSpec
from node.transport.service import TransportService
from node.transport.tls import TransportTls

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
    """One in-process node: config, store, transport and coordinator, plus every (old, new) it applied."""

    __test__ = False  # not a test class, despite the name

    config: NodeConfig
    store: NodeStore
    transport: TransportService
    coordinator: Coordinator
    local: DiscoveryNode
    applied: list[tuple[ClusterState, ClusterState]] = field(default_factory=list)
    running: bool = True

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def address(self) -> str:
        return self.local.transport_address

    @property
    def state(self) -> ClusterState:
        return self.coordinator.state

    async def stop(self) -> None:
        """Stops the node as a crash would look to its peers: the transport goes first (connections refused)."""
        if not self.running:
            return
        self.running = False
        await self.transport.stop(grace=0)
        await self.coordinator.stop()
        await asyncio.to_thread(self.store.close)


class InProcessCluster:
    """Starts, stops and restarts coordination nodes in the current event loop; `async with` tears all down."""

    def __init__(self, base_dir: Path, credentials: ClusterCredentials, settings: dict[str, int] | None = None) -> None:
        self._base_dir = base_dir
        self._credentials = credentials
        self._settings = dict(FAST_SETTINGS if settings is None else settings)
        self.nodes: dict[str, TestNode] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        stopping = asyncio.gather(*(node.stop() for node in self.nodes.values()), return_exceptions=True)
        try:
            await asyncio.wait_for(stopping, TEARDOWN_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(f"teardown did not finish in {TEARDOWN_TIMEOUT_S}s:\n{dump_tasks()}") from None

    def running(self) -> list[TestNode]:
        return [n for n in self.nodes.values() if n.running]

    def tls(self) -> TransportTls:
        """The transport TLS every node of this cluster presents (the credentials of its home)."""
        c = self._credentials
        return TransportTls.from_files(c.transport_key, c.transport_certificate, c.ca_certificate)

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

        By default the new nodes bootstrap together (`initial_master_nodes` = their names) and seed to each other
        and to every running node; pass `initial_master_nodes=()` for nodes that may only join.
        """
        prepared = []
        for name in names:
            store = NodeStore(self._base_dir / name)
            node_id = store.node_id()
            holder: list[DiscoveryNode] = []
            transport = TransportService(TaskManager(node_id), lambda holder=holder: holder[0])
            port = transport.bind("127.0.0.1", range(1), self.tls())
            local = DiscoveryNode(
                id=node_id,
                name=name,
                ephemeral_id=new_node_id(),
                host="127.0.0.1",
                transport_address=f"127.0.0.1:{port}",
                http_address="127.0.0.1:0",
                roles=tuple(sorted(roles)),
            )
            holder.append(local)
            prepared.append((name, store, transport, local))
        if seed_hosts is None:
            seeds = [n.address for n in self.running()] + [p[3].transport_address for p in prepared]
        else:
            seeds = list(seed_hosts)
        started = []
        for name, store, transport, local in prepared:
            config = NodeConfig(
                name=name,
                data_dir=self._base_dir / name,
                cluster_name=cluster_name,
                seed_hosts=tuple(s for s in seeds if s != local.transport_address),
                initial_master_nodes=tuple(names if initial_master_nodes is None else initial_master_nodes),
                roles=roles,
                **self._settings,  # type: ignore[arg-type]
            )
            applied: list[tuple[ClusterState, ClusterState]] = []
            coordinator = Coordinator(config, local, transport, store, lambda old, new, a=applied: a.append((old, new)))
            node = TestNode(config, store, transport, coordinator, local, applied)
            self.nodes[name] = node
            started.append(node)
        # Every action is registered (by the coordinators) before the first request is served.
        for node in started:
            await node.transport.start()
        for node in started:
            await node.coordinator.start()
        return started

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
        ids = {n.local.id for n in nodes}

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
        return next(n for n in nodes if n.local.id == master_id)

    def partition(self, side_a: Sequence[TestNode], side_b: Sequence[TestNode], kind: FaultKind) -> None:
        """Cuts every link between the two sides, both directions (transport fault rules, DESIGN §5)."""
        for a in side_a:
            for b in side_b:
                a.transport.faults.add(FaultSpec(kind, target=b.address, target_name=b.name, group="partition"))
                b.transport.faults.add(FaultSpec(kind, target=a.address, target_name=a.name, group="partition"))

    def heal(self) -> None:
        for node in self.running():
            node.transport.faults.heal()

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
