"""The cluster coordination subsystem of one node: a faithful, simplified Zen2 (mirrors ES `Coordinator`).

A node is always in one of three modes, as in ES:

- CANDIDATE: no master. The `PeerFinder` probes addresses; a brand-new node bootstraps once it has found the nodes
  of `initial_master_nodes`; a master-eligible node with a voting configuration runs pre-votes and elections
  (`ElectionScheduler`, `PreVoteCollector`, `JoinHelper`); a node that finds an elected master joins it.
- LEADER: won an election. The `MasterService` computes new states and the `ClusterStatePublisher` publishes them;
  the `FollowersChecker` removes followers that fail; the `ReconfigurationScheduler` keeps the voting
  configuration healthy.
- FOLLOWER: accepted a state from a master. The `LeaderChecker` watches that master.

The safety rules live in `CoordinationState`; this class wires messages to them, persists what they changed
*before* answering (a vote or an acknowledgement must survive a crash), switches modes, and hands committed states
to the `ClusterApplierService`. Everything runs on the node's single event loop: state transitions are synchronous
between awaits, which is what ES's coordinator mutex gives it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from node.cluster.state import ClusterState, DiscoveryNode
from node.common import action_names as names
from node.config import NodeConfig
from node.coordination.applier import ClusterApplierService
from node.coordination.bootstrap import ClusterBootstrapService, ClusterFormationFailureHelper
from node.coordination.coordination_state import (
    CoordinationState,
    CoordinationStateRejectedError,
    Join,
    NodeClosedError,
    NotMasterError,
    PersistedCoordination,
)
from node.coordination.discovery import PeerFinder
from node.coordination.election import ElectionScheduler, PreVoteCollector, PreVoteResponse
from node.coordination.fault_detection import FollowersChecker, LeaderChecker
from node.coordination.join_helper import JoinHelper
from node.coordination.join_validation import JoinValidationService
from node.coordination.membership import NA_CLUSTER_UUID, add_joining_nodes, become_master, describe_node, remove_nodes
from node.coordination.publication import ClusterStatePublisher, MasterService
from node.coordination.reconfigure import ReconfigurationScheduler
from node.errors import ElasticsearchError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:
    from node.storage.store import NodeStore
    from node.transport.service import TransportService

__all__ = ["Coordinator", "Mode"]

log = logging.getLogger(__name__)

STORE_KEY = "coordination"


class Mode(enum.Enum):
    CANDIDATE = "CANDIDATE"
    LEADER = "LEADER"
    FOLLOWER = "FOLLOWER"


class Coordinator:
    """Discovers, elects, publishes and detects failures for one node; owns its view of the cluster state.

    Args:
        on_applied: called synchronously on the loop with `(old, new)` each time a state is applied, in order.
    """

    def __init__(
        self,
        config: NodeConfig,
        local_node: DiscoveryNode,
        transport: TransportService,
        store: NodeStore,
        on_applied: Callable[[ClusterState, ClusterState], None],
    ) -> None:
        self._config = config
        self._name = config.name
        self._local = local_node
        self._store = store
        persisted = store.load(STORE_KEY)
        coord = CoordinationState(
            local_node.id,
            PersistedCoordination.from_json(persisted)
            if persisted
            else PersistedCoordination.initial(config.cluster_name),
        )
        self._coord = coord
        self._applier = ClusterApplierService(config.name, ClusterState(cluster_name=config.cluster_name), on_applied)
        self._mode = Mode.CANDIDATE
        self._leader: DiscoveryNode | None = None  # ES lastKnownLeader; the local node while LEADER
        self._max_term_seen = coord.current_term
        self._last_join: Join | None = None
        self._voted_for: DiscoveryNode | None = None
        self._election_joiners: dict[str, DiscoveryNode] = {}  # who voted for us this term: added when elected
        self._background: set[asyncio.Task[Any]] = set()
        self._started = self._stopped = False
        fd_timeout = config.fd_timeout_ms / 1000
        self._peer_finder = PeerFinder(
            config, local_node, transport,
            on_active_master_found=self._on_active_master_found,
            on_round_completed=self._on_discovery_round,
            leader=self._known_leader,
            current_term=lambda: coord.current_term,
        )  # fmt: skip
        found_peers = self._peer_finder.found_peers
        self._bootstrap = ClusterBootstrapService(
            config, local_node, coord, found_peers=found_peers, persist=lambda: self._spawn(self._persist(), "persist")
        )
        self._formation = ClusterFormationFailureHelper(
            config, local_node, self._bootstrap.requirements, coord, found_peers
        )
        self._elections = ElectionScheduler(config.election_delay_ms)
        self._pre_votes = PreVoteCollector(
            local_node, transport,
            timeout=fd_timeout,
            local_response=lambda: PreVoteResponse(coord.current_term, coord.last_accepted_term, coord.last_accepted_version),
            leader=self._known_leader,
            update_max_term_seen=self._update_max_term_seen,
        )  # fmt: skip
        self._joins = JoinHelper(
            local_node, transport,
            timeout=fd_timeout,
            join_timeout=config.publish_timeout_ms / 1000 + fd_timeout,
            spawn=self._spawn,
            handle_start_join=self._handle_start_join,
            handle_join=self._handle_join,
        )  # fmt: skip
        self._join_validation = JoinValidationService(
            transport,
            data_path=config.data_dir,
            last_accepted=lambda: coord.last_accepted_state,
            uuid_committed=lambda: coord.cluster_uuid_committed,
            timeout=config.publish_timeout_ms / 1000,
        )
        self._master_service = MasterService(
            config.name, base_state=lambda: coord.last_accepted_state, publish=self._publish
        )
        self._publisher = ClusterStatePublisher(
            local_node.id, transport, coord,
            timeout=config.publish_timeout_ms / 1000,
            before_publication=lambda state: self._followers_checker.set_current_nodes(state.nodes.values()),
            on_failure=self._become_candidate,
        )  # fmt: skip
        self._reconfiguration = ReconfigurationScheduler(
            config.name, local_node.id, coord,
            is_established_leader=lambda: (
                self._mode is Mode.LEADER and self._publisher.current is None and coord.last_accepted_term == coord.current_term
            ),
            submit=self._master_service.submit_in_background,
            spawn=self._spawn,
            reelect=lambda: self._bump_term(collect_votes=True),
            vote_grace=fd_timeout,
        )  # fmt: skip
        self._leader_checker = LeaderChecker(
            config, local_node, transport,
            on_leader_failure=self._on_leader_failure,
            is_leader=lambda: self._mode is Mode.LEADER and not self._stopped,
            is_known_node=lambda node_id: node_id in coord.last_accepted_state.nodes,
        )  # fmt: skip
        self._followers_checker = FollowersChecker(
            config, local_node, transport,
            current_term=lambda: coord.current_term,
            on_node_failure=self._on_follower_failure,
            handle_follower_check=self._handle_follower_check,
        )  # fmt: skip
        transport.register_action(names.PUBLISH_STATE, pb.PublishRequest, pb.PublishResponse, self._handle_publish)
        transport.register_action(names.COMMIT_STATE, pb.CommitRequest, pb.CommitResponse, self._handle_commit)

    # ---- public API -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Begins discovery (and, when possible, bootstrapping and elections); returns at once."""
        if self._started:
            return
        self._started = True
        if self._coord.last_accepted_state.cluster_uuid != NA_CLUSTER_UUID:
            log.info("[%s] cluster UUID [%s]", self._name, self._coord.last_accepted_state.cluster_uuid)
        self._peer_finder.start()
        self._start_candidacy()

    async def stop(self) -> None:
        """Stops every loop and in-flight coordination request of this node; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._publisher.cancel("node is closing")
        await self._master_service.stop()
        await self._elections.close()
        await self._peer_finder.stop()
        await self._leader_checker.stop()
        await self._followers_checker.stop()
        tasks = [t for t in self._background if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def state(self) -> ClusterState:
        """The last applied (committed) state; before any, only the cluster name."""
        return self._applier.state

    @property
    def is_master(self) -> bool:
        return self._mode is Mode.LEADER and self._applier.state.master_node_id == self._local.id

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def current_term(self) -> int:
        return self._coord.current_term

    async def wait_for_state(self, predicate: Callable[[ClusterState], bool], timeout: float) -> ClusterState | None:
        return await self._applier.wait_for_state(predicate, timeout)

    async def submit_state_update(self, source: str, update: Callable[[ClusterState], ClusterState]) -> ClusterState:
        """Runs `update` on the master's state and publishes the result (ES `submitStateUpdateTask`).

        Raises:
            NotMasterError: this node is not the elected master (503).
            FailedToCommitClusterStateError: the publication did not reach a quorum (503).
        """
        self._ensure_running()
        if self._mode is not Mode.LEADER:
            raise NotMasterError(f"no longer master. source: [{source}]")
        return await self._master_service.submit(source, update)

    # ---- helpers -----------------------------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if not self._started or self._stopped:
            raise NodeClosedError(f"node closed {describe_node(self._local)}")

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{name}@{self._name}")
        if self._stopped:  # a handler that was already running when the node stopped: send nothing more
            task.cancel()
            return task
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("[%s] coordination task %s failed", self._name, task.get_name(), exc_info=task.exception())

    async def _persist(self) -> None:
        # Called right after a CoordinationState change, with no await in between: the store's single writer
        # thread then persists the snapshots in the order the changes happened.
        await self._store.store(STORE_KEY, self._coord.to_persisted())

    def _known_leader(self) -> DiscoveryNode | None:
        return None if self._mode is Mode.CANDIDATE else self._leader

    def _known_nodes(self) -> dict[str, DiscoveryNode]:
        nodes = {**self._coord.last_accepted_state.nodes, **self._applier.state.nodes}
        nodes.pop(self._local.id, None)
        return nodes

    def _find_node(self, node_id: str) -> DiscoveryNode | None:
        if self._voted_for is not None and self._voted_for.id == node_id:
            return self._voted_for
        known = self._known_nodes().get(node_id)
        return known or next((n for n in self._peer_finder.found_peers() if n.id == node_id), None)

    # ---- modes (ES becomeCandidate / becomeLeader / becomeFollower) -------------------------------------------

    def _start_candidacy(self) -> None:
        self._peer_finder.activate(self._known_nodes().values())
        self._formation.start()
        self._elections.start(self._attempt_election, f"elections@{self._name}")

    def _become_candidate(self, method: str) -> None:
        if self._mode is Mode.CANDIDATE or self._stopped:
            return
        log.debug(
            "[%s] %s: becoming CANDIDATE in term %d (was %s)", self._name, method, self.current_term, self._mode.value
        )
        previous, self._mode, self._leader = self._mode, Mode.CANDIDATE, None
        self._publisher.cancel(f"become candidate: {method}")
        if previous is Mode.LEADER:
            self._master_service.deactivate(f"became candidate: {method}")
        self._followers_checker.clear()
        self._leader_checker.update_leader(None)
        self._start_candidacy()
        applied = self._applier.state
        if applied.master_node_id is not None:  # ES applies a no-master state at once: nobody leads this node now
            self._applier.apply(applied.with_changes(master_node_id=None), f"becoming candidate: {method}")

    def _become_leader(self, method: str) -> None:
        if self._stopped:
            return
        log.debug("[%s] %s: becoming LEADER in term %d", self._name, method, self.current_term)
        self._mode, self._leader = Mode.LEADER, self._local
        self._elections.stop()
        self._peer_finder.deactivate()
        self._leader_checker.update_leader(None)
        self._master_service.activate(self.current_term)
        self._reconfiguration.reset()
        joiners = list(self._election_joiners.values())
        joined = ", ".join(f"{describe_node(n)} elect leader" for n in joiners)
        self._master_service.submit_in_background(
            f"elected-as-master ([{len(joiners)}] nodes joined)[{joined}]",
            lambda state: become_master(state, self._local, joiners),
        )

    def _become_follower(self, method: str, leader: DiscoveryNode) -> None:
        if self._stopped:
            return
        if self._mode is Mode.LEADER:
            self._become_candidate(method)
        restart_checker = not (self._mode is Mode.FOLLOWER and self._leader == leader)
        if restart_checker:
            log.debug(
                "[%s] %s: becoming FOLLOWER of %s in term %d",
                self._name,
                method,
                describe_node(leader),
                self.current_term,
            )
        self._mode, self._leader = Mode.FOLLOWER, leader
        self._elections.stop()
        self._peer_finder.deactivate()
        self._followers_checker.clear()
        if restart_checker:
            self._leader_checker.update_leader(leader)

    # ---- terms and votes -------------------------------------------------------------------------------------

    def _join_leader_in_term(self, candidate: DiscoveryNode, term: int) -> Join:
        """Votes for `candidate` in `term` (persist before telling anyone); stops following or leading."""
        join = self._coord.handle_start_join(candidate.id, term)
        self._last_join, self._voted_for = join, candidate
        self._election_joiners.clear()
        self._max_term_seen = max(self._max_term_seen, term)
        self._become_candidate("joinLeaderInTerm")
        return join

    def _ensure_term_at_least(self, source: DiscoveryNode, term: int) -> Join | None:
        return self._join_leader_in_term(source, term) if self._coord.current_term < term else None

    def _update_max_term_seen(self, term: int) -> None:
        """A leader that learns of a higher term re-elects itself above it (ES `updateMaxTermSeen`).

        Otherwise a node stuck in a higher term (after failed elections) could never accept this master's states.
        A publication in progress is not disturbed: `_publish` checks again when it ends.
        """
        self._max_term_seen = max(self._max_term_seen, term)
        if self._mode is Mode.LEADER and self._max_term_seen > self.current_term and self._publisher.current is None:
            self._spawn(self._bump_term(), "bump-term")

    async def _bump_term(self, *, collect_votes: bool = False) -> None:
        if self._mode is not Mode.LEADER or (self._max_term_seen <= self.current_term and not collect_votes):
            return
        self._become_candidate("collectMissingVotes" if collect_votes else "updateMaxTermSeen")
        await self._start_election([n for n in self._known_nodes().values() if n.is_master_eligible])

    # ---- elections and joins ---------------------------------------------------------------------------------

    async def _attempt_election(self) -> bool:
        """One pre-vote round and, if it is won, one election; False if this node cannot stand yet."""
        if (
            self._mode is not Mode.CANDIDATE
            or not self._local.is_master_eligible
            or not self._coord.last_accepted_config
        ):
            return False
        peers = [p for p in self._peer_finder.found_peers() if p.is_master_eligible]
        if not self._coord.is_election_quorum({self._local.id, *(p.id for p in peers)}):
            return False
        won = await self._pre_votes.run_round(
            peers, self._coord.last_committed_config, self._coord.last_accepted_config
        )
        if won and self._mode is Mode.CANDIDATE:
            await self._start_election(peers)
        return True

    async def _start_election(self, peers: list[DiscoveryNode]) -> None:
        term = max(self.current_term, self._max_term_seen) + 1
        log.debug("[%s] starting election in term %d", self._name, term)
        await self._joins.start_election(peers, term)

    async def _handle_start_join(self, candidate: DiscoveryNode, term: int) -> Join:
        self._ensure_running()
        join = self._join_leader_in_term(candidate, term)
        await self._persist()
        return join

    async def _handle_join(self, request: pb.JoinRequest) -> None:
        """A vote for us, or a node asking to join our cluster, or both (ES `processJoinRequest`)."""
        self._ensure_running()
        sender = DiscoveryNode.from_proto(request.sender)
        self._update_max_term_seen(request.term)
        if request.is_vote and self._local.is_master_eligible:
            join = Join(
                sender.id, self._local.id, request.term, request.last_accepted_term, request.last_accepted_version
            )
            if not self._coord.election_won:
                await self._count_vote(join, sender)
                return  # the elected state will include every voter
            try:  # already elected: the vote no longer decides anything, but it lets the configuration include it
                if self._coord.handle_join(join):
                    self._reconfiguration.schedule_if_needed()
            except CoordinationStateRejectedError as e:
                log.debug("[%s] ignoring vote of %s: %s", self._name, describe_node(sender), e.reason)
        if self._mode is not Mode.LEADER:
            raise NotMasterError(f"Node [{describe_node(self._local)}] not master for join request")
        await self._validate_join(sender)
        await self._master_service.submit(
            f"node-join[{describe_node(sender)} join existing leader]", lambda state: add_joining_nodes(state, [sender])
        )

    async def _validate_join(self, joiner: DiscoveryNode) -> None:
        """Shows the joiner our state before adding it (ES `Coordinator#validateJoinRequest`).

        Only an established master validates (ES `getStateForJoinValidationService`): before its first state of
        this term is accepted there is no state to show, and the publication's own UUID check guards that window.
        """
        state = self._coord.last_accepted_state
        if joiner.id == self._local.id or state.term != self.current_term or state.master_node_id != self._local.id:
            return
        try:
            await self._join_validation.validate_join(joiner, state)
        except ElasticsearchError as e:
            log.warning(
                "[%s] failed to validate incoming join request from node [%s]: %s",
                self._name,
                describe_node(joiner),
                e.reason,
            )
            raise

    async def _count_vote(self, join: Join, voter: DiscoveryNode) -> None:
        own = self._ensure_term_at_least(self._local, join.term)
        if own is not None:  # a vote for a term we have not entered yet: enter it, voting for ourselves
            await self._persist()
            self._coord.handle_join(own)
        self._coord.handle_join(join)  # raises to the voter when its vote cannot count
        if voter.id != self._local.id:
            self._election_joiners[voter.id] = voter
        if self._coord.election_won and self._mode is Mode.CANDIDATE:
            self._become_leader("handleJoinRequest")

    def _on_active_master_found(self, master: DiscoveryNode, term: int) -> None:
        if self._mode is Mode.CANDIDATE and not self._stopped and not self._joins.is_join_pending_to(master.id):
            self._spawn(self._join_master(master, term), f"join[{master.name}]")

    async def _join_master(self, master: DiscoveryNode, term: int) -> None:
        vote = self._ensure_term_at_least(master, term)
        if vote is not None:
            await self._persist()
        last = self._last_join
        if vote is None and last is not None and last.candidate_id == master.id and last.term == term:
            vote = last  # ES joinWithDestination: repeat our vote for this master in its term
        accepted = (self._coord.last_accepted_term, self._coord.last_accepted_version)
        await self._joins.send_join(master, vote, self.current_term, accepted)

    def _on_discovery_round(self, master_seen: bool) -> None:
        if self._mode is Mode.CANDIDATE and not self._stopped:
            if not master_seen:
                self._bootstrap.maybe_bootstrap()
            self._formation.maybe_warn()

    # ---- publication ----------------------------------------------------------------------------------------

    async def _publish(self, state: ClusterState, source: str) -> ClusterState:
        """Publishes the result of a master-service batch in the current term, as the next version."""
        state = state.with_changes(term=self.current_term, version=self._coord.last_accepted_version + 1)
        if self._mode is not Mode.LEADER:
            raise NotMasterError(f"node is no longer master for term {state.term} while handling publication")
        await self._publisher.publish(state, source)
        self._update_max_term_seen(self._max_term_seen)  # a term bump that waited for this publication
        self._reconfiguration.schedule_if_needed()
        return state

    async def _handle_publish(self, task: Task, request: pb.PublishRequest) -> pb.PublishResponse:
        self._ensure_running()
        state = ClusterState.from_proto(request.state)
        master = state.master
        if master is None or state.cluster_name != self._config.cluster_name:
            raise CoordinationStateRejectedError(f"rejecting cluster state of [{state.cluster_name}] without a master")
        if master.id == self._local.id and self._mode is not Mode.LEADER:
            raise CoordinationStateRejectedError(f"no longer leading this publication's term: {state.term}")
        local_uuid = self._coord.last_accepted_state.cluster_uuid
        if self._coord.cluster_uuid_committed and local_uuid != state.cluster_uuid:
            log.warning(
                "[%s] received cluster state from %s with a different cluster uuid %s than local cluster uuid %s,"
                " rejecting",
                self._name,
                describe_node(master),
                state.cluster_uuid,
                local_uuid,
            )
            raise CoordinationStateRejectedError(
                f"received cluster state from {describe_node(master)} with a different cluster uuid "
                f"{state.cluster_uuid} than local cluster uuid {local_uuid}, rejecting"
            )
        vote = self._ensure_term_at_least(master, state.term)
        self._coord.handle_publish_request(state)
        await self._persist()
        if master.id != self._local.id and self.current_term == state.term:
            self._become_follower("handlePublishRequest", master)
            if vote is not None:  # ES sends this vote with the publish response: the master counts us as live
                self._spawn(self._joins.send_vote(master, vote), f"vote[{master.name}]")
        return pb.PublishResponse(term=state.term, version=state.version)

    async def _handle_commit(self, task: Task, request: pb.CommitRequest) -> pb.CommitResponse:
        self._ensure_running()
        self._coord.handle_commit(request.term, request.version)
        await self._persist()
        state = self._coord.last_accepted_state
        if (state.term, state.version) != (request.term, request.version):
            return pb.CommitResponse()  # a newer state was accepted meanwhile; its own commit applies it
        if state.master_node_id == self._local.id:
            source = self._publisher.source_of(state)
        else:
            master = describe_node(state.master) if state.master is not None else "[]"
            source = f"ApplyCommitRequest{{term={state.term}, version={state.version}, sourceNode={master}}}"
        self._applier.apply(
            state if self._mode is not Mode.CANDIDATE else state.with_changes(master_node_id=None), source
        )
        return pb.CommitResponse()

    # ---- fault detection ------------------------------------------------------------------------------------

    async def _handle_follower_check(self, sender_id: str, term: int) -> None:
        """ES `onFollowerCheckRequest`: adopt a higher term; refuse a master of an older term or a faulty one."""
        self._ensure_running()
        sender = self._find_node(sender_id)
        description = f"FollowerCheckRequest{{term={term}, sender={sender_id}}}"
        if term > self.current_term and sender is not None:
            self._ensure_term_at_least(sender, term)
            await self._persist()
        if term != self.current_term:
            raise CoordinationStateRejectedError(
                f"onFollowerCheckRequest: current term is [{self.current_term}], rejecting {description}"
            )
        if self._mode is not Mode.LEADER and self._coord.last_accepted_term < term and sender is not None:
            self._become_follower("onFollowerCheckRequest", sender)  # we voted for it and missed its first state
        elif self._mode is not Mode.FOLLOWER and not self._joins.is_join_pending:
            raise CoordinationStateRejectedError(
                f"onFollowerCheckRequest: received check from faulty master, rejecting {description}"
            )

    def _on_leader_failure(self, leader: DiscoveryNode, reason: str) -> None:
        if self._mode is not Mode.FOLLOWER or self._leader != leader:
            return
        if reason == "disconnected":
            log.info("[%s] master node [%s] disconnected, restarting discovery", self._name, describe_node(leader))
        else:
            log.info(
                "[%s] master node [%s] failed, restarting discovery: leader check %s",
                self._name,
                describe_node(leader),
                reason,
            )
        self._become_candidate("onLeaderFailure")

    def _on_follower_failure(self, node: DiscoveryNode, reason: str) -> None:
        if self._mode is not Mode.LEADER:
            return
        if self._publisher.current is not None:
            self._publisher.current.on_faulty_node(node.id)
        self._master_service.submit_in_background(
            f"node-left[{describe_node(node)} reason: {reason}]",
            lambda state: remove_nodes(state, {node.id: node.ephemeral_id}),
        )
