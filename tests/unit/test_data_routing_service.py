"""The master's follow-up reroutes and the transient settings a restarted master drops (`node.data.routing_service`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import MappingProxyType

from node.coordination.state import ClusterState, DiscoveryNode
from node.data.allocation import copies_of
from node.data.index_metadata import IndexMetadata, with_index_metadata
from node.data.routing_service import RoutingService, reroute_state


def node(name: str) -> DiscoveryNode:
    return DiscoveryNode(name, name, f"{name}-eph", "127.0.0.1", f"127.0.0.1:{name[-1]}", "", ("data", "master"))


def state(version: int, metadata: dict[str, object], nodes: tuple[str, ...] = ("n1", "n2")) -> ClusterState:
    return ClusterState(
        "c", "uuid", 1, version, "n1", MappingProxyType({n: node(n) for n in nodes}), frozenset(), metadata
    )


class Master:
    """Records submitted updates and applies them to the state they are given."""

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.results: list[ClusterState] = []
        self.current = state(1, {})

    async def submit(self, source: str, update: Callable[[ClusterState], ClusterState]) -> ClusterState:
        self.sources.append(source)
        self.current = update(self.current)
        self.results.append(self.current)
        return self.current


async def run(service: RoutingService, old: ClusterState, new: ClusterState, master: Master) -> None:
    master.current = new
    service.on_applied(old, new)
    for _ in range(10):
        await asyncio.sleep(0)


def service(master: Master, spawned: list[asyncio.Task[None]]) -> RoutingService:
    return RoutingService(
        is_master=lambda: True,
        submit_state_update=master.submit,
        spawn=lambda coro: spawned.append(asyncio.ensure_future(coro)),  # type: ignore[arg-type,func-returns-value]
        version_created="9.1.0",
    )


async def test_a_master_that_loaded_its_state_from_disk_drops_transient_settings() -> None:
    master, spawned = Master(), []
    loaded = state(
        7, {"settings": {"sim.write.doc_time": "1ms"}, "transient_settings": {"sim.reindex.batch_time": "5ms"}}
    )
    await run(service(master, spawned), ClusterState("c"), loaded, master)
    await asyncio.gather(*spawned)
    assert master.current.metadata == {"settings": {"sim.write.doc_time": "1ms"}}


async def test_a_master_that_followed_before_keeps_transient_settings() -> None:
    master, spawned = Master(), []
    metadata = {"transient_settings": {"sim.reindex.batch_time": "5ms"}}
    await run(service(master, spawned), state(6, metadata), state(7, metadata), master)
    await asyncio.gather(*spawned)
    assert master.sources == []


async def test_an_index_without_routing_gets_a_reroute() -> None:
    master, spawned = Master(), []
    index = IndexMetadata.create("logs", {}, uuid="u", creation_date=1, version_created="9.1.0")
    unrouted = state(3, with_index_metadata({}, index))
    await run(service(master, spawned), state(2, {}), unrouted, master)
    await asyncio.gather(*spawned)
    assert master.sources == ["cluster_reroute(routing service)"]
    assert copies_of(master.current.metadata, "logs")[0][0].node == "n1"
    assert reroute_state(master.current, "9.1.0") is master.current, "one reroute settles it"
