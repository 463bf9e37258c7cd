"""Computing and publishing new cluster states on the master (mirrors ES `MasterService` and `Publication`).

The `MasterService` runs state updates one batch at a time: it takes every queued update, applies them in order
to the last accepted state, and publishes the result once. Publications are therefore serialized, and a burst of
joins or failures costs one publication, not one each.

A `Publication` is ES's two-phase protocol: send the full state to every node (PUBLISH_STATE); once a quorum of the
voting configuration accepted it (of both the old and the new configuration when it changes), it is committed
and every node that accepted it is told to apply it (COMMIT_STATE), the master itself last, once every other node
applied it: a state applied on the master is applied everywhere. Nodes are never waited for beyond the publish
timeout, and a node the followers checker marked faulty is not waited for at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from node.cluster.state import ClusterState, DiscoveryNode
from node.common import action_names as names
from node.coordination.coordination_state import (
    CoordinationState,
    CoordinationStateRejectedError,
    FailedToCommitClusterStateError,
    NotMasterError,
)
from node.coordination.membership import describe_node
from node.errors import ElasticsearchError
from node.transport.pb import transport_pb2 as pb

if TYPE_CHECKING:
    from node.transport.service import TransportService

__all__ = ["ClusterStatePublisher", "ClusterStateUpdate", "MasterService", "Publication"]

log = logging.getLogger(__name__)


class Publication:
    """One state's way to every node: publish, wait for a commit quorum, commit, wait for the appliers.

    Args:
        handle_publish_response: counts an acknowledgement in the master's `CoordinationState`; True once the
            state is committable.
        timeout: ES `cluster.publish.timeout`, for the whole publication.
    """

    def __init__(
        self,
        state: ClusterState,
        transport: TransportService,
        *,
        local_node_id: str,
        handle_publish_response: Callable[[str, int, int], bool],
        timeout: float,
    ) -> None:
        self.state = state
        self._transport = transport
        self._local_id = local_node_id
        self._handle_publish_response = handle_publish_response
        self._timeout = timeout
        self._request = pb.PublishRequest(state=state.to_proto())
        self._commit = pb.CommitRequest(term=state.term, version=state.version)
        self._committed = asyncio.Event()
        self._decided = asyncio.Event()  # committed, or every target answered the publish request
        self._answered: set[str] = set()
        self._failures: dict[str, str] = {}
        self._applied: set[str] = set()
        self._followers_done = asyncio.Event()  # every other node applied the state, failed, or timed out
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel_reason: str | None = None
        self._deadline = 0.0

    @property
    def is_committed(self) -> bool:
        return self._committed.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel_reason is not None

    def _remaining(self) -> float:
        return max(0.001, self._deadline - asyncio.get_running_loop().time())

    def on_faulty_node(self, node_id: str) -> None:
        """Stops waiting for a node the followers checker found faulty (ES `Publication#onFaultyNode`)."""
        task = self._tasks.get(node_id)
        if task is not None and not task.done():
            task.cancel()
        self._fail(node_id, "faulty node")

    def cancel(self, reason: str) -> None:
        """Abandons the publication (the master stepped down); a committed state stays committed."""
        self._cancel_reason = reason
        for task in self._tasks.values():
            if task is not asyncio.current_task():
                task.cancel()
        self._decided.set()

    async def run(self) -> None:
        """Publishes and commits; returns once the master applied the state.

        Raises:
            FailedToCommitClusterStateError: no quorum within the timeout, or the master stepped down first.
        """
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self._timeout
        for node in self.state.nodes.values():
            self._tasks[node.id] = asyncio.create_task(self._publish_to(node), name=f"publish[{node.name}]")
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._decided.wait(), self._remaining())
            if not self.is_committed:
                raise FailedToCommitClusterStateError(self._failure_reason())
            followers = [t for node_id, t in self._tasks.items() if node_id != self._local_id and not t.done()]
            if followers:
                _, pending_set = await asyncio.wait(followers, timeout=self._remaining())
                if pending_set:
                    waiting = sorted(n.name for n in self.state.nodes.values() if self._tasks[n.id] in pending_set)
                    log.warning(
                        "after [%dms] publication of cluster state version [%d] is still waiting for %s",
                        int(self._timeout * 1000),
                        self.state.version,
                        waiting,
                    )
            self._followers_done.set()
            local = self._tasks.get(self._local_id)
            if local is not None:
                await asyncio.wait([local])
            if self._local_id not in self._applied:
                raise FailedToCommitClusterStateError(
                    f"publication of cluster state version [{self.state.version}] in term [{self.state.term}] was "
                    f"committed but not applied on the master: {self._cancel_reason or self._failures.get(self._local_id)}"
                )
        finally:
            for task in self._tasks.values():
                task.cancel()

    def _failure_reason(self) -> str:
        if self._cancel_reason is not None:
            return f"publication cancelled before committing: {self._cancel_reason}"
        if len(self._answered) < len(self.state.nodes):
            return f"publication of cluster state version [{self.state.version}] timed out before committing"
        details = ", ".join(f"{node_id}: {reason}" for node_id, reason in sorted(self._failures.items()))
        return f"non-failed nodes do not form a quorum ({details})"

    def _fail(self, node_id: str, reason: str) -> None:
        self._failures.setdefault(node_id, reason)
        self._answer(node_id)

    def _answer(self, node_id: str) -> None:
        self._answered.add(node_id)
        if len(self._answered) >= len(self.state.nodes):
            self._decided.set()

    async def _publish_to(self, node: DiscoveryNode) -> None:
        try:
            response: pb.PublishResponse = await self._transport.send_request(
                node, names.PUBLISH_STATE, self._request, timeout=self._remaining()
            )
            if self._handle_publish_response(node.id, response.term, response.version):
                self._committed.set()
                self._decided.set()
        except ElasticsearchError as e:
            log.debug("publication of version [%d] to %s failed: %s", self.state.version, describe_node(node), e.reason)
            self._fail(node.id, e.reason)
            return
        self._answer(node.id)
        await self._committed.wait()
        if node.id == self._local_id:
            # ES applies a committed state on the master last, once every other node has applied it (or failed,
            # or the publish timeout passed): a state the master applied is a state the whole cluster has.
            await self._followers_done.wait()
        try:
            timeout = self._timeout if node.id == self._local_id else self._remaining()
            await self._transport.send_request(node, names.COMMIT_STATE, self._commit, timeout=timeout)
        except ElasticsearchError as e:
            log.debug("commit of version [%d] on %s failed: %s", self.state.version, describe_node(node), e.reason)
            self._failures.setdefault(node.id, e.reason)
            return
        self._applied.add(node.id)


class ClusterStatePublisher:
    """Publishes the master's states, one `Publication` at a time (ES `Coordinator#publish`).

    Args:
        coordination: the master's `CoordinationState`, which must agree to publish and counts acknowledgements.
        before_publication: called with each state about to be published (the followers checker follows its
            nodes from then on, as in ES).
        on_failure: called when a publication failed; the master steps down.
    """

    def __init__(
        self,
        local_node_id: str,
        transport: TransportService,
        coordination: CoordinationState,
        *,
        timeout: float,
        before_publication: Callable[[ClusterState], None],
        on_failure: Callable[[str], None],
    ) -> None:
        self._local_id = local_node_id
        self._transport = transport
        self._coordination = coordination
        self._timeout = timeout
        self._before_publication = before_publication
        self._on_failure = on_failure
        self.current: Publication | None = None
        self._sources: dict[tuple[int, int], str] = {}

    def source_of(self, state: ClusterState) -> str:
        """The master-service source that produced `state` (for the applier's log), or a generic one."""
        return self._sources.pop(
            (state.term, state.version), f"Publication{{term={state.term}, version={state.version}}}"
        )

    async def publish(self, state: ClusterState, source: str) -> None:
        """Publishes and commits `state`.

        Raises:
            FailedToCommitClusterStateError: refused by the coordination state, or no quorum in time.
        """
        try:
            self._coordination.handle_client_value(state)
        except CoordinationStateRejectedError as e:
            # Stepping down is the only way out of a state the master cannot publish from: a new election
            # resets the votes and the published version.
            self._on_failure("publishing failed")
            raise FailedToCommitClusterStateError(f"publishing failed: {e.reason}") from None
        self._before_publication(state)
        publication = Publication(
            state, self._transport,
            local_node_id=self._local_id,
            handle_publish_response=self._coordination.handle_publish_response,
            timeout=self._timeout,
        )  # fmt: skip
        self.current = publication
        self._sources = {(state.term, state.version): source}
        try:
            await publication.run()
        except FailedToCommitClusterStateError as e:
            # A publication cancelled because this node stepped down (a lost election race) is routine.
            level = logging.INFO if publication.cancelled else logging.WARNING
            log.log(
                level, "failing [%s]: failed to commit cluster state version [%d]: %s", source, state.version, e.reason
            )
            self._on_failure("Publication.onCompletion(false)")
            raise
        finally:
            if self.current is publication:
                self.current = None

    def cancel(self, reason: str) -> None:
        if self.current is not None:
            self.current.cancel(reason)


@dataclass(slots=True)
class ClusterStateUpdate:
    """A queued update: its source (for logs and errors), the function, and who waits for the result."""

    source: str
    update: Callable[[ClusterState], ClusterState]
    future: asyncio.Future[ClusterState] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class MasterService:
    """Batches state updates and publishes their result, one publication at a time.

    Args:
        base_state: the state updates start from (the master's last accepted state).
        publish: prepares (version, term, voting configuration) and publishes a changed state; returns the state
            that was committed, or raises.
    """

    def __init__(
        self,
        node_name: str,
        *,
        base_state: Callable[[], ClusterState],
        publish: Callable[[ClusterState, str], Awaitable[ClusterState]],
    ) -> None:
        self._node_name = node_name
        self._base_state = base_state
        self._publish = publish
        self._queue: list[ClusterStateUpdate] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._term: int | None = None

    @property
    def is_active(self) -> bool:
        return self._term is not None

    def activate(self, term: int) -> None:
        self.deactivate("a new term begins")
        self._term = term
        self._task = asyncio.create_task(self._run(term), name=f"master-service[{self._node_name}]")

    def deactivate(self, reason: str) -> None:
        """Fails every queued update with `not_master_exception` (ES: "no longer master")."""
        self._term = None
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None
        queue, self._queue = self._queue, []
        for item in queue:
            if not item.future.done():
                item.future.set_exception(NotMasterError(f"no longer master. source: [{item.source}] ({reason})"))

    async def stop(self) -> None:
        task = self._task
        self.deactivate("node is closing")
        if task is not None and task is not asyncio.current_task():
            await asyncio.gather(task, return_exceptions=True)

    def submit(self, source: str, update: Callable[[ClusterState], ClusterState]) -> asyncio.Future[ClusterState]:
        """Queues an update; the future resolves with the committed state (or the unchanged one)."""
        item = ClusterStateUpdate(source, update)
        if self._term is None:
            item.future.set_exception(NotMasterError(f"no longer master. source: [{source}]"))
            return item.future
        self._queue.append(item)
        self._wake.set()
        return item.future

    def submit_in_background(self, source: str, update: Callable[[ClusterState], ClusterState]) -> None:
        """Queues an update nobody waits for (an election, a departed node); its failure is only logged."""
        self.submit(source, update).add_done_callback(self._log_failure)

    def _log_failure(self, future: asyncio.Future[ClusterState]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.debug("[%s] cluster state update failed: %s", self._node_name, future.exception())

    async def _run(self, term: int) -> None:
        while self._term == term:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._queue = self._queue, []
            try:
                await self._run_batch(batch)
            except asyncio.CancelledError:
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(NotMasterError(f"no longer master. source: [{item.source}]"))
                raise
            except Exception:  # a bug in one batch must not stop every later update
                log.exception("[%s] failed to run cluster state updates", self._node_name)
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(FailedToCommitClusterStateError(f"failed to run [{item.source}]"))

    async def _run_batch(self, batch: list[ClusterStateUpdate]) -> None:
        base = self._base_state()
        state = base
        executed: list[ClusterStateUpdate] = []
        for item in batch:
            try:
                state = item.update(state)
            except Exception as e:  # noqa: BLE001 - the update's failure goes to its submitter only (ES `onFailure`)
                error = e if isinstance(e, ElasticsearchError) else ElasticsearchError(f"{type(e).__name__}: {e}")
                if not item.future.done():
                    item.future.set_exception(error)
            else:
                executed.append(item)
        if not executed:
            return
        if state is base:
            for item in executed:
                if not item.future.done():
                    item.future.set_result(base)
            return
        source = ", ".join(item.source for item in executed)
        try:
            committed = await self._publish(state, source)
        except ElasticsearchError as e:
            for item in executed:
                if not item.future.done():
                    item.future.set_exception(e)
            return
        for item in executed:
            if not item.future.done():
                item.future.set_result(committed)
