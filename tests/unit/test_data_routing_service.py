"""The master's follow-up reroutes and the transient settings a restarted master drops (`node.indices.routing_service`)."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from node.cluster.state import ClusterState, DiscoveryNode
from node.data import allocation
from node.data.allocation import copies_of
from node.data.index_metadata import IndexMetadata, indices_of, with_index_metadata
from node.indices.routing_service import RoutingService, reroute_state
from node.storage.task_results import TASKS_INDEX, with_tasks_index


def node(name: str) -> DiscoveryNode:
    return DiscoveryNode(name, name, f"{name}-eph", "127.0.0.1", f"127.0.0.1:{name[-1]}", "", ("data", "master"))


def state(version: int, metadata: dict[str, object], nodes: tuple[str, ...] = ("n1", "n2")) -> ClusterState:
    return ClusterState(
        "c", "uuid", 1, version, "n1", MappingProxyType({n: node(n) for n in nodes}), frozenset(), metadata
    )


class Master:
    """The elected master's `ClusterService`, as far as the routing service uses it: records submitted updates and
    applies them to the state they are given."""

    is_master = True

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.results: list[ClusterState] = []
        self.current = state(1, {})

    async def submit_state_update(self, source: str, update: Callable[[ClusterState], ClusterState]) -> ClusterState:
        return await self.submit(source, update)

    async def submit(self, source: str, update: Callable[[ClusterState], ClusterState]) -> ClusterState:
        self.sources.append(source)
        self.current = update(self.current)
        self.results.append(self.current)
        return self.current


async def run(service: RoutingService, old: ClusterState, new: ClusterState, master: Master) -> None:
    master.current = new
    service.on_applied(old, new)
    await service.join()


def service(master: Master) -> RoutingService:
    return RoutingService(master, version_created="9.1.0")  # type: ignore[arg-type]


async def test_a_master_that_loaded_its_state_from_disk_drops_transient_settings() -> None:
    master = Master()
    loaded = state(
        7, {"settings": {"sim.write.doc_time": "1ms"}, "transient_settings": {"sim.reindex.batch_time": "5ms"}}
    )
    await run(service(master), ClusterState("c"), loaded, master)
    assert master.current.metadata == {"settings": {"sim.write.doc_time": "1ms"}}


async def test_a_master_that_followed_before_keeps_transient_settings() -> None:
    master = Master()
    metadata = {"transient_settings": {"sim.reindex.batch_time": "5ms"}}
    await run(service(master), state(6, metadata), state(7, metadata), master)
    assert master.sources == []


async def test_an_index_without_routing_gets_a_reroute() -> None:
    master = Master()
    index = IndexMetadata.create("logs", {}, uuid="u", creation_date=1, version_created="9.1.0")
    unrouted = state(3, with_index_metadata({}, index))
    await run(service(master), state(2, {}), unrouted, master)
    assert master.sources == ["cluster_reroute(routing service)"]
    assert copies_of(master.current.metadata, "logs")[0][0].node == "n1"
    assert reroute_state(master.current, "9.1.0") is master.current, "one reroute settles it"


def test_tasks_created_and_rerouted_in_one_update_keeps_its_uuid_through_a_shard_started_in_the_next() -> None:
    """`.tasks` gets its uuid in the update that creates it: a shard-started batched right after it (which rewrites
    every index's metadata) can no longer leave its allocated primary under the `_na_` uuid, never started."""
    logs = IndexMetadata.create("logs", {}, uuid="u", creation_date=1, version_created="9.1.0")
    with_logs = reroute_state(state(3, with_index_metadata({}, logs)), "9.1.0")
    created = reroute_state(with_tasks_index(with_logs), "9.1.0")
    uuid = indices_of(created.metadata)[TASKS_INDEX].uuid
    assert uuid != "_na_"
    assert copies_of(created.metadata, TASKS_INDEX)[0][0].state == "INITIALIZING"

    logs_primary = copies_of(created.metadata, "logs")[0][0]
    started = allocation.started(created.metadata, "logs", "u", 0, str(logs_primary.node))
    after = reroute_state(created.with_changes(metadata=started), "9.1.0")
    assert indices_of(after.metadata)[TASKS_INDEX].uuid == uuid


def test_an_index_rewritten_before_it_got_its_uuid_still_gets_one() -> None:
    """A flat `.tasks` entry (as a state stored by an older node holds it) rewritten by a shard-started into ES's
    structure is still given its uuid by the next reroute."""
    logs = IndexMetadata.create("logs", {}, uuid="u", creation_date=1, version_created="9.1.0")
    with_logs = reroute_state(state(3, with_index_metadata({}, logs)), "9.1.0")
    flat = with_tasks_index(with_logs)
    logs_primary = copies_of(flat.metadata, "logs")[0][0]
    rewritten = allocation.started(flat.metadata, "logs", "u", 0, str(logs_primary.node))
    assert "settings" in rewritten["indices"][TASKS_INDEX]

    after = reroute_state(flat.with_changes(metadata=rewritten), "9.1.0")
    assert indices_of(after.metadata)[TASKS_INDEX].uuid != "_na_"
