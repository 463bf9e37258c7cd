"""Finding the other nodes of the cluster (mirrors ES `PeerFinder` and the transport handshake).

While a node has no master it is a *candidate* and the peer finder is active: every round it handshakes every
address it knows (the seed hosts, addresses other nodes told it about, and nodes that contacted it) and asks each
peer for the peers it knows. A peer that says it is the elected master is reported to the coordinator, which
joins it; a peer that follows another master names it, and that master's address is probed next. Once the node
follows or leads, the peer finder goes quiet and only answers other nodes' questions: with its master.

The handshake carries the cluster name. A node of another cluster is refused on both sides, so two clusters whose
seed lists overlap never learn each other's nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from node.cluster.state import DiscoveryNode
from node.common import action_names as names
from node.config import NodeConfig
from node.coordination.membership import describe_node
from node.errors import ElasticsearchError, IllegalStateError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:  # TransportService imports node.cluster.state: a runtime import here would be circular
    from node.transport.service import TransportService

__all__ = ["PeerFinder", "probe_interval_seconds"]

log = logging.getLogger(__name__)


_RESOLVE_TIMEOUT_S = 5.0  # ES `discovery.seed_resolver.timeout`


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def probe_interval_seconds(config: NodeConfig) -> float:
    """A quarter of the fault-detection interval, between 50 ms and 200 ms, for a master-eligible node; ES's own
    second (`discovery.find_peers_interval`) for any other.

    simcluster ties a master-eligible node's discovery to the failure-detection speed so that shrinking the fd
    settings in tests shrinks the time to elect a master. A node that cannot be master only waits to hear of one,
    and a hundred of them probing the few master-eligible nodes five times a second would keep those busy.
    """
    fast = min(0.2, max(0.05, config.fd_interval_ms / 4000))
    return fast if config.is_master_eligible else max(fast, min(1.0, config.fd_interval_ms / 1000))


class PeerFinder:
    """Discovers peers by address and reports an elected master to the coordinator.

    Args:
        on_active_master_found: called with a peer that says it is the elected master, and its term.
        on_round_completed: called after each probing round (bootstrapping checks its requirements there).
        leader: the master the local node follows or is, or None while it is a candidate.
        current_term: the local node's current term, reported to peers.
    """

    def __init__(
        self,
        config: NodeConfig,
        local_node: DiscoveryNode,
        transport: TransportService,
        *,
        on_active_master_found: Callable[[DiscoveryNode, int], None],
        on_round_completed: Callable[[bool], None],
        leader: Callable[[], DiscoveryNode | None],
        current_term: Callable[[], int],
    ) -> None:
        self._config = config
        self._local = local_node
        self._transport = transport
        self._on_active_master_found = on_active_master_found
        self._on_round_completed = on_round_completed
        self._leader = leader
        self._current_term = current_term
        self._addresses: set[str] = {a for a in config.seed_hosts if a != local_node.transport_address}
        self._own_addresses: set[str] = {local_node.transport_address}  # resolved names that turned out to be us
        self._found: dict[str, DiscoveryNode] = {}  # transport address → handshaken node
        self._rejected: set[str] = set()  # addresses of another cluster, warned about once
        self._active = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        transport.register_action(names.HANDSHAKE, pb.HandshakeRequest, pb.HandshakeResponse, self._handle_handshake)
        transport.register_action(names.DISCOVERY_PEERS, pb.PeersRequest, pb.PeersResponse, self._handle_peers)

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"peer-finder[{self._local.name}]")

    async def stop(self) -> None:
        self._active = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def activate(self, last_known_nodes: Iterable[DiscoveryNode]) -> None:
        """Starts probing, also the master-eligible nodes of the last known cluster state (ES: "from last-known
        cluster state")."""
        for node in last_known_nodes:
            if node.is_master_eligible:
                self._learn(node.transport_address)
        self._active = True
        self._wake.set()

    def deactivate(self) -> None:
        # Forget handshakes: when probing starts again, any peer may have restarted with a new identity.
        self._active = False
        self._found.clear()

    @property
    def is_active(self) -> bool:
        return self._active

    def found_peers(self) -> list[DiscoveryNode]:
        """The handshaken master-eligible peers (ES `PeerFinder#getFoundPeers`)."""
        return list(self._found.values())

    @property
    def seed_hosts(self) -> tuple[str, ...]:
        return self._config.seed_hosts

    # ---- probing ---------------------------------------------------------------------------------------------

    def _learn_if_master_eligible(self, sender: pb.DiscoveryNode) -> None:
        if "master" in sender.roles:
            self._learn(sender.transport_address)

    def _learn(self, address: str) -> None:
        if address and address != self._local.transport_address:
            self._addresses.add(address)

    async def _run(self) -> None:
        interval = probe_interval_seconds(self._config)
        me = asyncio.current_task()
        # Loop on our own flag, not only on cancellation: the transport turns the cancellation of a request to a
        # node it is disconnecting into `node_disconnected_exception`, which a probe absorbs.
        while self._task is me:
            try:
                self._wake.clear()
                if self._active:
                    master_seen = await self._probe_round()
                    if self._active:
                        self._on_round_completed(master_seen)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end discovery for good
                log.exception("[%s] discovery round failed", self._local.name)
            with contextlib.suppress(TimeoutError):
                # Inactive (following or leading), it sleeps until activated: no wake-ups on an idle cluster.
                await asyncio.wait_for(self._wake.wait(), interval if self._active else None)

    async def _probe_round(self) -> bool:
        addresses = await self._resolve(sorted(self._addresses))
        results = await asyncio.gather(*(self._probe(a) for a in addresses), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ElasticsearchError):
                log.error("[%s] unexpected discovery failure", self._local.name, exc_info=result)
        return any(r is True for r in results)

    async def _resolve(self, addresses: list[str]) -> list[str]:
        """Host names resolved to every address they have, each round (ES `SeedHostsResolver`): a Kubernetes
        headless service names one address per pod, and pods come and go. A name that does not resolve in time is
        skipped this round."""
        resolved: list[str] = []
        names: list[tuple[str, str]] = []
        for address in addresses:
            host, _, port = address.rpartition(":")
            if _is_ip_literal(host):
                resolved.append(address)
            else:
                names.append((host, port))
        loop = asyncio.get_running_loop()

        async def lookup(host: str, port: str) -> list[str]:
            try:
                infos = await asyncio.wait_for(
                    loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), _RESOLVE_TIMEOUT_S
                )
            except (OSError, TimeoutError) as e:
                log.debug("[%s] failed to resolve seed host [%s]: %s", self._local.name, host, e)
                return []
            return [f"[{i[4][0]}]:{port}" if i[0] == socket.AF_INET6 else f"{i[4][0]}:{port}" for i in infos]

        for found in await asyncio.gather(*(lookup(h, p) for h, p in names)):
            resolved.extend(found)
        return [a for a in dict.fromkeys(resolved) if a not in self._own_addresses]

    async def _probe(self, address: str) -> bool:
        """Handshakes `address` if needed, then exchanges peers; returns whether it reported a master."""
        timeout = self._config.fd_timeout_ms / 1000
        node = self._found.get(address)
        if node is None:
            node = await self._handshake(address, timeout)
            if node is None:
                return False
        request = pb.PeersRequest(sender=self._local.to_proto(), known_peers=sorted(self._found))
        try:
            response: pb.PeersResponse = await self._transport.send_request(
                node, names.DISCOVERY_PEERS, request, timeout=timeout
            )
        except ElasticsearchError as e:
            log.debug("[%s] peers request to %s failed: %s", self._local.name, describe_node(node), e.reason)
            self._found.pop(address, None)
            return False
        for peer in response.known_peers:
            self._learn(peer)
        if not response.has_master:
            return False
        master = DiscoveryNode.from_proto(response.master)
        if master.id == node.id and self._active:
            self._on_active_master_found(master, response.term)
        else:
            self._learn(master.transport_address)  # ES: probe the master a follower names
        return True

    async def _handshake(self, address: str, timeout: float) -> DiscoveryNode | None:
        request = pb.HandshakeRequest(cluster_name=self._config.cluster_name, sender=self._local.to_proto())
        try:
            response: pb.HandshakeResponse = await self._transport.send_to_address(
                address, names.HANDSHAKE, request, timeout=timeout
            )
            if response.cluster_name != self._config.cluster_name:
                raise IllegalStateError(f"handshake failed, mismatched cluster name [{response.cluster_name}]")
        except ElasticsearchError as e:
            if "mismatched cluster name" in e.reason and address not in self._rejected:
                self._rejected.add(address)
                log.warning("[%s] ignoring peer at [%s]: %s", self._local.name, address, e.reason)
            else:
                log.debug("[%s] handshake with [%s] failed: %s", self._local.name, address, e.reason)
            return None
        node = DiscoveryNode.from_proto(response.node)
        if node.id == self._local.id:  # our own address under another spelling
            self._addresses.discard(address)
            self._own_addresses.add(address)
            return None
        self._rejected.discard(address)
        if not node.is_master_eligible:
            # ES "Ignoring non-master-eligible node": only master-eligible nodes lead the way to a master. A
            # seed address is tried again next round (it may be a master after a restart); a learnt one is dropped,
            # so a large cluster's data nodes do not probe each other.
            if address not in self._config.seed_hosts:
                self._addresses.discard(address)
            log.debug(
                "[%s] ignoring non-master-eligible node %s at [%s]", self._local.name, describe_node(node), address
            )
            return None
        self._found[address] = node
        log.debug("[%s] discovered peer %s at [%s]", self._local.name, describe_node(node), address)
        return node

    # ---- handlers --------------------------------------------------------------------------------------------

    async def _handle_handshake(self, task: Task, request: pb.HandshakeRequest) -> pb.HandshakeResponse:
        if request.cluster_name != self._config.cluster_name:
            raise IllegalStateError(f"handshake failed, mismatched cluster name [{request.cluster_name}]")
        # A master-eligible node that contacts us is a peer too: a node with no seed hosts still finds the nodes
        # seeded to it.
        self._learn_if_master_eligible(request.sender)
        return pb.HandshakeResponse(cluster_name=self._config.cluster_name, node=self._local.to_proto())

    async def _handle_peers(self, task: Task, request: pb.PeersRequest) -> pb.PeersResponse:
        self._learn_if_master_eligible(request.sender)
        for peer in request.known_peers:
            self._learn(peer)
        term = self._current_term()
        leader = self._leader()
        if leader is not None:
            return pb.PeersResponse(master=leader.to_proto(), has_master=True, term=term)
        return pb.PeersResponse(has_master=False, known_peers=sorted(self._found), term=term)
