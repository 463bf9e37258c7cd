"""When to stand for election, and whether it is worth it (mirrors ES `ElectionSchedulerFactory` and
`PreVoteCollector`).

An election costs every voter its current term, so a candidate first asks for *pre-votes*, which change nothing:
a peer refuses if it still follows a live master, and reports its term and last accepted state. Only if a quorum
of the voting configuration would vote for it (nobody has a leader, nobody has accepted a fresher state) does the
candidate start a real election. This keeps a node that merely lost touch with a healthy master from disrupting
the cluster with ever-higher terms.

Attempts are spread by a random delay that grows with each failed attempt, so that two candidates that collided
are unlikely to collide again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.cluster.state import DiscoveryNode
from node.common import action_names as names
from node.coordination.coordination_state import is_quorum
from node.coordination.membership import describe_node
from node.errors import ElasticsearchError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:
    from node.transport.service import TransportService

__all__ = ["ElectionScheduler", "PreVoteCollector", "PreVoteResponse", "is_pre_vote_quorum"]

log = logging.getLogger(__name__)


class ElectionScheduler:
    """Runs election attempts while the node is a candidate, spread by random, backing-off delays
    (ES `ElectionSchedulerFactory`, `cluster.election.*`).

    Attempt `n` (from 0) waits a uniformly random time in `[0, min(initial * (n + 1), maximum)]`: the first
    attempt is quick, and repeated collisions spread the candidates further apart each time.
    """

    def __init__(self, initial_ms: int, maximum_ms: int = 3000, rng: random.Random | None = None) -> None:
        self._initial_ms = max(1, initial_ms)
        self._maximum_ms = max(self._initial_ms, maximum_ms)
        self._rng = rng or random.Random()
        self._task: asyncio.Task[None] | None = None

    def upper_bound_ms(self, attempt: int) -> int:
        return min(self._initial_ms * (attempt + 1), self._maximum_ms)

    def delay_seconds(self, attempt: int) -> float:
        return self._rng.uniform(0, self.upper_bound_ms(attempt)) / 1000

    def start(self, attempt: Callable[[], Awaitable[bool]], name: str) -> None:
        """Calls `attempt` after each delay until stopped; it returns whether it really stood for election."""
        self.stop()
        self._task = asyncio.create_task(self._run(attempt), name=name)

    def stop(self) -> None:
        # The winning vote can be counted inside an attempt (the candidate votes for itself in-process), so the
        # scheduler may be stopped from its own task: that task is left to finish its attempt and return.
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def close(self) -> None:
        task = self._task
        self.stop()
        if task is not None and task is not asyncio.current_task():
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, attempt: Callable[[], Awaitable[bool]]) -> None:
        me = asyncio.current_task()
        attempts = 0
        while self._task is me:
            await asyncio.sleep(self.delay_seconds(attempts))
            if self._task is not me:
                return
            try:
                if await attempt():
                    attempts += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # never let a bug end elections on this node
                log.exception("election attempt failed")


@dataclass(frozen=True, slots=True)
class PreVoteResponse:
    """A peer's answer to a pre-vote; `has_leader` means it refused because it follows a live master."""

    current_term: int
    last_accepted_term: int
    last_accepted_version: int
    has_leader: bool = False


def is_pre_vote_quorum(
    local_last_accepted: tuple[int, int],
    responses: Mapping[str, PreVoteResponse],
    last_committed_config: Collection[str],
    last_accepted_config: Collection[str],
) -> bool:
    """Whether the pre-votes (the local node's own included in `responses`) would win an election.

    A peer counts only if it has no leader and its last accepted (term, version) is not fresher than ours: it
    would refuse our join otherwise (`CoordinationState.handle_join`), so counting it would start a hopeless
    election in a new term.
    """
    votes = {
        node_id
        for node_id, r in responses.items()
        if not r.has_leader and (r.last_accepted_term, r.last_accepted_version) <= local_last_accepted
    }
    return is_quorum(votes, last_committed_config) and is_quorum(votes, last_accepted_config)


class PreVoteCollector:
    """Serves pre-vote requests and runs pre-voting rounds.

    Args:
        local_response: the local node's own answer (term, last accepted term and version, no leader).
        leader: the master the local node currently follows or is, or None.
        update_max_term_seen: told about every term a candidate reports, so a master can outbid it.
    """

    def __init__(
        self,
        local_node: DiscoveryNode,
        transport: TransportService,
        *,
        timeout: float,
        local_response: Callable[[], PreVoteResponse],
        leader: Callable[[], DiscoveryNode | None],
        update_max_term_seen: Callable[[int], None],
    ) -> None:
        self._local = local_node
        self._transport = transport
        self._timeout = timeout
        self._local_response = local_response
        self._leader = leader
        self._update_max_term_seen = update_max_term_seen
        transport.register_action(names.PRE_VOTE, pb.PreVoteRequest, pb.PreVoteResponse, self._handle_pre_vote)

    async def _handle_pre_vote(self, task: Task, request: pb.PreVoteRequest) -> pb.PreVoteResponse:
        self._update_max_term_seen(request.current_term)
        mine = self._local_response()
        leader = self._leader()
        # ES answers its own leader: a leader that stepped down may be re-elected faster by its old followers.
        has_leader = leader is not None and leader.id != request.candidate.id
        return pb.PreVoteResponse(
            current_term=mine.current_term,
            last_accepted_term=mine.last_accepted_term,
            last_accepted_version=mine.last_accepted_version,
            has_leader=has_leader,
        )

    async def run_round(
        self,
        peers: Collection[DiscoveryNode],
        last_committed_config: Collection[str],
        last_accepted_config: Collection[str],
    ) -> bool:
        """Asks `peers` for pre-votes; True as soon as they form a quorum, False if they cannot in time."""
        mine = self._local_response()
        local_last_accepted = (mine.last_accepted_term, mine.last_accepted_version)
        responses: dict[str, PreVoteResponse] = {self._local.id: mine}
        if is_pre_vote_quorum(local_last_accepted, responses, last_committed_config, last_accepted_config):
            return True
        request = pb.PreVoteRequest(candidate=self._local.to_proto(), current_term=mine.current_term)
        pending = {asyncio.ensure_future(self._ask(peer, request)): peer for peer in peers if peer.id != self._local.id}
        try:
            while pending:
                done, _ = await asyncio.wait(pending, timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    return False
                for future in done:
                    peer = pending.pop(future)
                    response = future.result()
                    if response is None:
                        continue
                    self._update_max_term_seen(response.current_term)
                    responses[peer.id] = response
                    if is_pre_vote_quorum(local_last_accepted, responses, last_committed_config, last_accepted_config):
                        return True
            return False
        finally:
            for future in pending:
                future.cancel()

    async def _ask(self, peer: DiscoveryNode, request: pb.PreVoteRequest) -> PreVoteResponse | None:
        try:
            r: pb.PreVoteResponse = await self._transport.send_request(
                peer, names.PRE_VOTE, request, timeout=self._timeout
            )
        except ElasticsearchError as e:
            log.debug("[%s] pre-vote request to %s failed: %s", self._local.name, describe_node(peer), e.reason)
            return None
        if r.has_leader:
            log.debug("[%s] %s refused a pre-vote: it has a leader", self._local.name, describe_node(peer))
        return PreVoteResponse(r.current_term, r.last_accepted_term, r.last_accepted_version, r.has_leader)
