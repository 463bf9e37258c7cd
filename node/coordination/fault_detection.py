"""Fault detection between the master and its followers (mirrors ES `LeaderChecker` and `FollowersChecker`).

Both directions use the same rule, ES's `cluster.fault_detection.*`: a check every `fd_interval_ms` with a
deadline of `fd_timeout_ms`; `fd_retries` consecutive failures mark the other side failed, but a *disconnect*
(gRPC UNAVAILABLE: the peer's process is gone, the kernel answered with a reset) marks it failed at once, because
waiting for more evidence would only delay the inevitable. A hung peer (SIGSTOP) is caught by the deadline.

The master removes a failed follower through a publication; a follower whose master failed becomes a candidate
and finds (or elects) a master again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from node.cluster.state import DiscoveryNode
from node.common import action_names as names
from node.config import NodeConfig
from node.coordination.coordination_state import CoordinationStateRejectedError
from node.coordination.membership import describe_node
from node.errors import ConnectTransportError, ElasticsearchError, ReceiveTimeoutTransportError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:
    from node.transport.service import TransportService

__all__ = ["CheckOutcome", "FollowersChecker", "LeaderChecker"]

log = logging.getLogger(__name__)


class CheckOutcome:
    """Counts the failures of one checked node since its last success and decides when it has failed."""

    __slots__ = ("rejections", "retries", "timeouts")

    def __init__(self, retries: int) -> None:
        self.retries = retries
        self.timeouts = 0
        self.rejections = 0

    def success(self) -> None:
        self.timeouts = self.rejections = 0

    def failure(self, error: ElasticsearchError) -> str | None:
        """Records a failed check; returns the failure reason once the node counts as failed, else None."""
        if isinstance(error, ConnectTransportError):
            return "disconnected"
        if isinstance(error, ReceiveTimeoutTransportError):
            self.timeouts += 1
        else:
            self.rejections += 1
        if self.timeouts + self.rejections >= self.retries:
            return f"retry count exceeded [timeouts={self.timeouts}, failures={self.rejections}]"
        return None


def _cancel_unless_current(task: asyncio.Task[None] | None) -> None:
    # A checker may be stopped from inside its own callback; cancelling the running task would abort the
    # callback half-way, so that task is left to notice it is stale and return.
    if task is not None and task is not asyncio.current_task():
        task.cancel()


class LeaderChecker:
    """Checks the master from a follower, and answers the checks of followers while master.

    Args:
        on_leader_failure: called once with the checked master and the reason when it failed.
        is_leader: whether the local node is the elected master now.
        is_known_node: whether a node id is in the master's last published state.
    """

    def __init__(
        self,
        config: NodeConfig,
        local_node: DiscoveryNode,
        transport: TransportService,
        *,
        on_leader_failure: Callable[[DiscoveryNode, str], None],
        is_leader: Callable[[], bool],
        is_known_node: Callable[[str], bool],
    ) -> None:
        self._config = config
        self._local = local_node
        self._transport = transport
        self._on_leader_failure = on_leader_failure
        self._is_leader = is_leader
        self._is_known_node = is_known_node
        self._leader: DiscoveryNode | None = None
        self._task: asyncio.Task[None] | None = None
        transport.register_action(names.LEADER_CHECK, pb.LeaderCheckRequest, pb.LeaderCheckResponse, self._handle)

    @property
    def leader(self) -> DiscoveryNode | None:
        return self._leader

    def update_leader(self, leader: DiscoveryNode | None) -> None:
        """Starts checking `leader` (None: stops checking)."""
        _cancel_unless_current(self._task)
        self._task = None
        self._leader = leader
        if leader is not None:
            self._task = asyncio.create_task(self._run(leader), name=f"leader-checker[{self._local.name}]")

    async def stop(self) -> None:
        task, self._task, self._leader = self._task, None, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, leader: DiscoveryNode) -> None:
        outcome = CheckOutcome(self._config.fd_retries)
        request = pb.LeaderCheckRequest(sender_id=self._local.id)
        interval = self._config.fd_interval_ms / 1000
        # The followers of one publication start checking at the same moment; a random first wait spreads their
        # checks over the interval, so a master of a hundred followers sees a steady trickle, not a burst a second.
        wait = random.uniform(0, interval)
        while self._leader is leader:
            await asyncio.sleep(wait)
            wait = interval
            if self._leader is not leader:
                return
            try:
                await self._transport.send_request(
                    leader, names.LEADER_CHECK, request, timeout=self._config.fd_timeout_ms / 1000
                )
            except ElasticsearchError as e:
                reason = outcome.failure(e)
                log.debug("[%s] leader check of %s failed: %s", self._local.name, describe_node(leader), e.reason)
                if reason is not None and self._leader is leader:
                    self._leader = None
                    self._on_leader_failure(leader, reason)
                    return
            else:
                outcome.success()

    async def _handle(self, task: Task, request: pb.LeaderCheckRequest) -> pb.LeaderCheckResponse:
        # ES `LeaderChecker#handleLeaderCheck`: a follower that gets these answers rejoins through discovery.
        if not self._is_leader():
            raise CoordinationStateRejectedError(
                f"rejecting leader check from [{request.sender_id}] sent to a node that is no longer the master"
            )
        if not self._is_known_node(request.sender_id):
            raise CoordinationStateRejectedError(
                f"rejecting leader check since [{request.sender_id}] has been removed from the cluster"
            )
        return pb.LeaderCheckResponse()


class FollowersChecker:
    """Checks every follower from the master; calls `on_node_failure(node, reason)` once per failed node."""

    def __init__(
        self,
        config: NodeConfig,
        local_node: DiscoveryNode,
        transport: TransportService,
        *,
        current_term: Callable[[], int],
        on_node_failure: Callable[[DiscoveryNode, str], None],
        handle_follower_check: Callable[[str, int], Awaitable[None]],
    ) -> None:
        self._config = config
        self._local = local_node
        self._transport = transport
        self._current_term = current_term
        self._on_node_failure = on_node_failure
        self._handle_follower_check = handle_follower_check
        self._checked: dict[str, tuple[DiscoveryNode, asyncio.Task[None]]] = {}
        self._faulty: set[str] = set()  # ephemeral ids already reported, until they leave the cluster state
        transport.register_action(names.FOLLOWER_CHECK, pb.FollowerCheckRequest, pb.FollowerCheckResponse, self._handle)

    def set_current_nodes(self, nodes: Iterable[DiscoveryNode]) -> None:
        """Checks exactly `nodes` (minus the local node) from now on (ES: the nodes of each publication)."""
        wanted = {n.id: n for n in nodes if n.id != self._local.id}
        for node_id, (node, task) in list(self._checked.items()):
            if node_id not in wanted or wanted[node_id] != node:
                _cancel_unless_current(task)
                del self._checked[node_id]
        self._faulty &= {n.ephemeral_id for n in wanted.values()}
        for node_id, node in wanted.items():
            if node_id not in self._checked and node.ephemeral_id not in self._faulty:
                task = asyncio.create_task(self._run(node), name=f"follower-checker[{self._local.name}→{node.name}]")
                self._checked[node_id] = (node, task)

    def clear(self) -> None:
        for _, task in self._checked.values():
            _cancel_unless_current(task)
        self._checked.clear()
        self._faulty.clear()

    async def stop(self) -> None:
        tasks = [t for _, t in self._checked.values() if t is not asyncio.current_task()]
        self.clear()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _is_current(self, node: DiscoveryNode) -> bool:
        entry = self._checked.get(node.id)
        return entry is not None and entry[0] is node

    async def _run(self, node: DiscoveryNode) -> None:
        # The first check goes out at once, as in ES: a node that died during an election is noticed quickly.
        outcome = CheckOutcome(self._config.fd_retries)
        while self._is_current(node):
            request = pb.FollowerCheckRequest(sender_id=self._local.id, term=self._current_term())
            try:
                await self._transport.send_request(
                    node, names.FOLLOWER_CHECK, request, timeout=self._config.fd_timeout_ms / 1000
                )
            except ElasticsearchError as e:
                reason = outcome.failure(e)
                log.debug("[%s] follower check of %s failed: %s", self._local.name, describe_node(node), e.reason)
                if reason is not None and self._is_current(node):
                    del self._checked[node.id]
                    self._faulty.add(node.ephemeral_id)
                    self._on_node_failure(node, reason if reason == "disconnected" else f"followers check {reason}")
                    return
            else:
                outcome.success()
            await asyncio.sleep(self._config.fd_interval_ms / 1000)

    async def _handle(self, task: Task, request: pb.FollowerCheckRequest) -> pb.FollowerCheckResponse:
        await self._handle_follower_check(request.sender_id, request.term)  # raises to refuse
        return pb.FollowerCheckResponse()
