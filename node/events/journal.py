"""The live events of one node, streamed to the live view (`GET /_sim/events`, simulator-only).

Every node publishes what only it knows: its tasks starting, being cancelled and ending (`TaskListener`), its fault
rules changing (`LinkFaults` listeners), and the cluster states it applied (a `ClusterService` applier). A page
subscribes to every node and joins their streams into one picture.

A subscription starts with a snapshot taken in the same step as the subscription itself (nothing can fall between
the two on the event loop): the node, the cluster as this node applied it, its tasks, its fault rules and its recent
history. Then come the events, in batches. The hooks sit on the task registry's hot path, so they cost a list test
when nobody listens: a task's events are built only for subscribers, except for top-level tasks, which also go into
the recent history a newly opened page starts from. A subscriber that falls too far behind is dropped (its stream
ends and the page reconnects to a fresh snapshot) rather than letting its queue grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from node.cluster.service import ClusterService
from node.cluster.state import ClusterState
from node.common.regex import simple_match
from node.errors import ElasticsearchError
from node.events.views import cluster_changes, cluster_view, node_view, task_ended, task_view
from node.tasks.task import Task
from node.transport.faults import FaultRule
from node.transport.service import TransportService

__all__ = ["EventJournal", "Subscription"]

HISTORY_SIZE = 500
MAX_PENDING_EVENTS = 50_000  # a subscriber further behind is ended; its page reconnects to a fresh snapshot
MAX_BATCH_EVENTS = 5_000  # one message at most: its JSON is encoded on the event loop
MAX_SUBSCRIBERS = 64


class Subscription:
    """One subscriber's stream: the snapshot it started from, then batches of events.

    `exclude_actions` (`*` patterns) leaves out the events of tasks with those actions, at the source: the nodes'
    own traffic (`internal:*`) is most of the events when thousands of tasks are cancelled, and a page that hides
    it need not receive it.
    """

    def __init__(self, journal: EventJournal, exclude_actions: Sequence[str] = ()) -> None:
        self._journal = journal
        self._exclude = tuple(exclude_actions)
        self._excluded: dict[str, bool] = {}  # per action: the few distinct actions are matched once each
        self.snapshot: dict[str, Any] = {}
        self._pending: list[dict[str, Any]] = []
        self._wakeup = asyncio.Event()
        self.overflowed = False
        self.closed = False

    def excludes(self, action: str) -> bool:
        excluded = self._excluded.get(action)
        if excluded is None:
            excluded = self._excluded[action] = any(simple_match(p, action) for p in self._exclude)
        return excluded

    def push(self, event: dict[str, Any], action: str | None = None) -> None:
        if self.overflowed or self.closed or (action is not None and self._exclude and self.excludes(action)):
            return
        self._pending.append(event)
        if len(self._pending) > MAX_PENDING_EVENTS:
            self.overflowed = True
            self._pending.clear()
        self._wakeup.set()

    async def next_batch(self, timeout: float) -> list[dict[str, Any]]:
        """The events published since the last batch, oldest first and at most `MAX_BATCH_EVENTS`; waits up to
        `timeout` seconds for one (`[]` then)."""
        if not self._pending and not self.closed and not self.overflowed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
        batch, self._pending = self._pending[:MAX_BATCH_EVENTS], self._pending[MAX_BATCH_EVENTS:]
        if not self._pending:
            self._wakeup.clear()
        return batch

    @property
    def ended(self) -> bool:
        """The journal closed (the node is stopping) or this subscriber fell too far behind."""
        return self.closed or self.overflowed

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()
        self._journal.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventJournal:
    """Collects this node's events and hands them to subscribers; keeps the recent ones for new subscribers."""

    def __init__(
        self,
        cluster: ClusterService,
        transport: TransportService,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cluster = cluster
        self._task_manager = transport.task_manager
        self._faults = transport.faults
        self._local = transport.local_node
        self._clock = clock
        self._seq = itertools.count(1)
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY_SIZE)
        self._subscribers: list[Subscription] = []
        self._closed = False
        self._http_addresses = {self._local.http_address}
        self._task_manager.add_listener(self)
        self._faults.add_listener(self.on_faults_changed)
        cluster.add_applier(self.on_cluster_state_applied)

    # ---- subscribing --------------------------------------------------------------------------------------------

    def subscribe(self, exclude_actions: Sequence[str] = ()) -> Subscription:
        """A new subscription, starting from a snapshot of this node; the tasks whose action matches one of
        `exclude_actions` are left out of both.

        Raises:
            ElasticsearchError: `es_rejected_execution_exception` (429) with too many subscribers, or when the
                node is stopping.
        """
        if self._closed or len(self._subscribers) >= MAX_SUBSCRIBERS:
            reason = "node is closing" if self._closed else f"too many event subscribers [{MAX_SUBSCRIBERS}]"
            raise ElasticsearchError(reason, es_type="es_rejected_execution_exception", status=429)
        subscription = Subscription(self, exclude_actions)
        subscription.snapshot = self._snapshot(subscription)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def close(self) -> None:
        """Ends every stream (the node is stopping) and refuses new subscribers."""
        self._closed = True
        for subscription in list(self._subscribers):
            subscription.close()

    def http_addresses(self) -> frozenset[str]:
        """The HTTP addresses (`host:port`) of every node this node saw in the cluster, itself included: where the
        pages that may follow it come from."""
        return frozenset(self._http_addresses)

    def _snapshot(self, subscription: Subscription) -> dict[str, Any]:
        return {
            "node": node_view(self._local),
            "time": int(self._clock() * 1000),
            "cluster": cluster_view(self._cluster.state()),
            "tasks": [task_view(t) for t in self._task_manager.tasks() if not subscription.excludes(t.action)],
            "faults": self._fault_views(self._faults.rules()),
            "recent": list(self._history),
        }

    # ---- publishing ---------------------------------------------------------------------------------------------

    def _publish(self, kind: str, fields: dict[str, Any], *, history: bool, action: str | None = None) -> None:
        event = {"seq": next(self._seq), "time": int(self._clock() * 1000), "node": self._local.id, "kind": kind}
        event.update(fields)
        if history:
            self._history.append(event)
        for subscription in self._subscribers:
            subscription.push(event, action)

    # TaskListener: every task's events go to subscribers, to draw the trees; the history keeps what a person
    # started (top-level tasks, not the nodes' own `internal:` traffic such as fault detection) and failures.

    def on_task_registered(self, task: Task) -> None:
        notable = _started_by_a_client(task)
        if notable or self._subscribers:
            self._publish("task_started", {"task": task_view(task)}, history=notable, action=task.action)

    def on_task_cancelled(self, task: Task) -> None:
        notable = _started_by_a_client(task)
        if notable or self._subscribers:
            fields = {"id": task.id, "action": task.action, "reason": task.cancel_reason}
            self._publish("task_cancelled", fields, history=notable, action=task.action)

    def on_task_unregistered(self, task: Task, failure: BaseException | None) -> None:
        notable = _started_by_a_client(task)
        if not (notable or self._subscribers or failure is not None):
            return
        ended = task_ended(task, failure)
        ended["action"] = task.action
        ended["running_time_in_nanos"] = time.monotonic_ns() - task.start_nanos
        failed = ended["outcome"] == "failed"
        self._publish("task_finished", ended, history=notable or failed, action=task.action)

    # Fault rules of this node's outbound links.

    def on_faults_changed(self, change: str, rules: Sequence[FaultRule]) -> None:
        self._publish(f"fault_{change}", {"faults": self._fault_views(rules)}, history=True)
        if change == "added":
            self._expire_later(rules)

    def _fault_views(self, rules: Sequence[FaultRule]) -> list[dict[str, Any]]:
        return [{**self._faults.render(rule), "source_name": self._local.name} for rule in rules]

    def _expire_later(self, rules: Sequence[FaultRule]) -> None:
        """Rules expire when next looked at; look at them when they are due, so the view hears of it in time."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # rules added outside a loop (unit tests of the rules) expire when next looked at
            return
        for rule in rules:
            if rule.spec.duration_millis is not None:
                loop.call_later(rule.spec.duration_millis / 1000 + 0.01, self._faults.rules)

    # Cluster states this node applied.

    def on_cluster_state_applied(self, old: ClusterState, new: ClusterState) -> None:
        self._http_addresses.update(node.http_address for node in new.nodes.values())
        for event in cluster_changes(old, new, self._local):
            kind = event.pop("kind")
            self._publish(kind, event, history=True)
        if self._subscribers:
            self._publish("cluster_state", {"cluster": cluster_view(new)}, history=False)


def _started_by_a_client(task: Task) -> bool:
    return not task.parent_task_id.is_set and not task.action.startswith("internal:")
