"""Votes and joins on the wire (mirrors ES `JoinHelper`).

ES uses one message for two things, and so does simcluster: a `JoinRequest` asks the receiver to add the sender
to its cluster, and may carry a *vote* (`is_vote`) for the receiver in the sender's current term.

- An election: the candidate sends START_JOIN(term) to the master-eligible nodes it found, itself first. A node
  that accepts moves to that term (persisting it, so it can never vote twice in one term) and answers by sending
  a JOIN with its vote to the candidate. The candidate counts the votes; a quorum makes it master.
- Joining a running cluster: a candidate that discovers an elected master sends it a JOIN; the master adds it
  through a publication and answers once the new state is committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import TYPE_CHECKING, Any

from node.cluster.state import DiscoveryNode
from node.common import action_names as names
from node.coordination.coordination_state import Join
from node.coordination.membership import describe_node
from node.errors import ElasticsearchError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:
    from node.transport.service import TransportService

__all__ = ["JoinHelper", "JoinRequest"]

log = logging.getLogger(__name__)

JoinRequest = pb.JoinRequest


class JoinHelper:
    """Sends START_JOIN and JOIN requests and routes incoming ones to the coordinator.

    Args:
        timeout: how long an election round waits for the voters (the fd timeout).
        join_timeout: the deadline of a JOIN, which a master answers only after a publication.
        spawn: starts a background task that the coordinator cancels when it stops.
        handle_start_join: the coordinator's vote: moves to the term and returns the `Join` to send.
        handle_join: the coordinator's handling of an incoming JOIN (counts a vote, or adds the node).
    """

    def __init__(
        self,
        local_node: DiscoveryNode,
        transport: TransportService,
        *,
        timeout: float,
        join_timeout: float,
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
        handle_start_join: Callable[[DiscoveryNode, int], Awaitable[Join]],
        handle_join: Callable[[pb.JoinRequest], Awaitable[None]],
    ) -> None:
        self._local = local_node
        self._transport = transport
        self._timeout = timeout
        self._join_timeout = join_timeout
        self._spawn = spawn
        self._handle_start_join_request = handle_start_join
        self._handle_join_request = handle_join
        self._pending_joins: set[str] = set()  # master ids with an outgoing, unanswered join (ES pendingOutgoingJoins)
        transport.register_action(names.START_JOIN, pb.StartJoinRequest, pb.JoinResponse, self._handle_start_join)
        transport.register_action(names.JOIN, pb.JoinRequest, pb.JoinResponse, self._handle_join)

    @property
    def is_join_pending(self) -> bool:
        return bool(self._pending_joins)

    # ---- elections ---------------------------------------------------------------------------------------

    async def start_election(self, voters: Collection[DiscoveryNode], term: int) -> None:
        """Asks for votes in `term`: the local node first, then every voter; waits at most `timeout` for them.

        The local vote comes first so the candidate is already in `term` when other votes arrive. Votes still in
        flight after the timeout keep going in the background and still count when they arrive.
        """
        request = pb.StartJoinRequest(candidate=self._local.to_proto(), term=term)
        try:
            await self._transport.send_request(self._local, names.START_JOIN, request, timeout=self._join_timeout)
        except ElasticsearchError as e:
            log.debug("[%s] could not vote for itself in term %d: %s", self._local.name, term, e.reason)
            return
        tasks = [
            self._spawn(self._send_start_join(voter, request), f"start-join[{voter.name}]")
            for voter in voters
            if voter.id != self._local.id
        ]
        if tasks:
            await asyncio.wait(tasks, timeout=self._timeout)

    async def _send_start_join(self, voter: DiscoveryNode, request: pb.StartJoinRequest) -> None:
        try:
            await self._transport.send_request(
                voter, names.START_JOIN, request, timeout=self._join_timeout + self._timeout
            )
        except ElasticsearchError as e:
            log.debug(
                "[%s] %s did not vote in term %d: %s", self._local.name, describe_node(voter), request.term, e.reason
            )

    def _join_request(self, join: Join | None, term: int, last_accepted: tuple[int, int]) -> pb.JoinRequest:
        accepted_term, accepted_version = (
            (join.last_accepted_term, join.last_accepted_version) if join is not None else last_accepted
        )
        return pb.JoinRequest(
            sender=self._local.to_proto(),
            term=term,
            last_accepted_term=accepted_term,
            last_accepted_version=accepted_version,
            is_vote=join is not None,
        )

    async def send_vote(self, candidate: DiscoveryNode, join: Join) -> None:
        """Sends a vote to the candidate (or master) it is for; failures are only logged, as in ES."""
        request = self._join_request(join, join.term, (join.last_accepted_term, join.last_accepted_version))
        try:
            await self._transport.send_request(candidate, names.JOIN, request, timeout=self._join_timeout)
        except ElasticsearchError as e:
            log.debug(
                "[%s] vote for %s in term %d failed: %s",
                self._local.name,
                describe_node(candidate),
                join.term,
                e.reason,
            )

    # ---- joining a master ----------------------------------------------------------------------------------

    async def send_join(
        self, master: DiscoveryNode, join: Join | None, term: int, last_accepted: tuple[int, int]
    ) -> bool:
        """Asks `master` to add the local node; at most one join per master is in flight. True if it was accepted."""
        if master.id in self._pending_joins:
            return False
        self._pending_joins.add(master.id)
        try:
            await self._transport.send_request(
                master, names.JOIN, self._join_request(join, term, last_accepted), timeout=self._join_timeout
            )
        except ElasticsearchError as e:
            log.debug("[%s] failed to join %s: %s", self._local.name, describe_node(master), e.reason)
            return False
        finally:
            self._pending_joins.discard(master.id)
        log.debug("[%s] joined %s", self._local.name, describe_node(master))
        return True

    def is_join_pending_to(self, master_id: str) -> bool:
        return master_id in self._pending_joins

    # ---- handlers --------------------------------------------------------------------------------------------

    async def _handle_start_join(self, task: Task, request: pb.StartJoinRequest) -> pb.JoinResponse:
        candidate = DiscoveryNode.from_proto(request.candidate)
        join = await self._handle_start_join_request(candidate, request.term)
        # Answer only once the vote was delivered, so the candidate's election round ends with its outcome known.
        await self._spawn(self.send_vote(candidate, join), f"vote[{candidate.name}]")
        return pb.JoinResponse()

    async def _handle_join(self, task: Task, request: pb.JoinRequest) -> pb.JoinResponse:
        await self._handle_join_request(request)
        return pb.JoinResponse()
