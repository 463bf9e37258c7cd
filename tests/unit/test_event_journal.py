"""A node's live events (`node.events.journal`): snapshots, what subscribers hear, what the history keeps, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from node.cluster.state import ClusterState, DiscoveryNode
from node.errors import ElasticsearchError, IllegalStateError, TaskCancelledError
from node.events import journal as journal_module
from node.events.journal import EventJournal, Subscription
from node.tasks.manager import TaskManager
from node.tasks.task_id import TaskId
from node.transport.faults import FaultKind, FaultSpec, LinkFaults

LOCAL = DiscoveryNode(
    id="n1",
    name="node-1",
    ephemeral_id="e1",
    host="127.0.0.1",
    transport_address="127.0.0.1:9300",
    http_address="127.0.0.1:9200",
    roles=("master",),
)


class FakeCluster:
    """What the journal uses of `ClusterService`: the applied state and appliers."""

    def __init__(self) -> None:
        self.appliers: list[Callable[[ClusterState, ClusterState], None]] = []
        self.applied = ClusterState("simcluster", nodes={LOCAL.id: LOCAL}, master_node_id=LOCAL.id, version=3)

    def state(self) -> ClusterState:
        return self.applied

    def add_applier(self, applier: Callable[[ClusterState, ClusterState], None]) -> None:
        self.appliers.append(applier)

    def apply(self, new: ClusterState) -> None:
        old, self.applied = self.applied, new
        for applier in self.appliers:
            applier(old, new)


def journal() -> tuple[EventJournal, TaskManager, LinkFaults, FakeCluster]:
    tasks, faults, cluster = TaskManager(LOCAL.id), LinkFaults(), FakeCluster()
    transport = SimpleNamespace(task_manager=tasks, faults=faults, local_node=LOCAL)
    return EventJournal(cluster, transport, clock=lambda: 1000.0), tasks, faults, cluster  # type: ignore[arg-type]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in events]


async def drain(subscription: Subscription) -> list[dict[str, Any]]:
    return await subscription.next_batch(0.01)


def test_the_snapshot_holds_the_node_its_tasks_faults_cluster_and_history() -> None:
    events, tasks, faults, _ = journal()
    running = tasks.register(type="transport", action="cluster:admin/tasks/test", cancellable=True)
    faults.add(FaultSpec(FaultKind.BLACKHOLE, "127.0.0.1:9301", target_name="node-2"))
    with events.subscribe() as subscription:
        snapshot = subscription.snapshot
    assert snapshot["node"]["name"] == "node-1"
    assert snapshot["time"] == 1_000_000
    assert [t["id"] for t in snapshot["tasks"]] == [running.id]
    assert [(f["kind"], f["target_name"], f["source_name"]) for f in snapshot["faults"]] == [
        ("blackhole", "node-2", "node-1")
    ]
    assert snapshot["cluster"]["master_node_id"] == LOCAL.id
    assert kinds(snapshot["recent"]) == ["task_started", "fault_added"]


async def test_subscribers_hear_a_tree_start_be_cancelled_and_end() -> None:
    events, tasks, _, _ = journal()
    with events.subscribe() as subscription:
        parent = tasks.register(type="transport", action="cluster:admin/tasks/test", cancellable=True)
        child = tasks.register(
            type="direct", action="cluster:admin/tasks/test[n]", parent=parent.task_id, cancellable=True
        )
        tasks.cancel(parent, "by user request")
        tasks.cancel(child, "by user request")
        tasks.unregister(child, TaskCancelledError("task cancelled [by user request]"))
        tasks.unregister(parent)
        batch = await drain(subscription)
    assert kinds(batch) == [
        "task_started",
        "task_started",
        "task_cancelled",
        "task_cancelled",
        "task_finished",
        "task_finished",
    ]
    assert batch[1]["task"]["parent_task_id"] == str(parent.task_id)
    assert batch[2] | {"seq": 0} == {
        "seq": 0,
        "time": 1_000_000,
        "node": LOCAL.id,
        "kind": "task_cancelled",
        "id": parent.id,
        "action": "cluster:admin/tasks/test",
        "reason": "by user request",
    }
    assert [(e["id"], e["outcome"]) for e in batch[4:]] == [(child.id, "cancelled"), (parent.id, "completed")]
    assert [e["seq"] for e in batch] == sorted(e["seq"] for e in batch)


async def test_a_task_that_raises_ends_failed_with_its_error() -> None:
    events, tasks, _, _ = journal()
    with events.subscribe() as subscription:
        with pytest.raises(IllegalStateError), tasks.registered(type="transport", action="indices:data/write/bulk"):
            raise IllegalStateError("boom")
        (_, finished) = await drain(subscription)
    assert finished["outcome"] == "failed"
    assert finished["error"] == {"type": "illegal_state_exception", "reason": "boom"}


def test_without_subscribers_only_what_a_client_started_is_kept() -> None:
    events, tasks, _, _ = journal()
    root = tasks.register(type="transport", action="cluster:admin/tasks/test")
    child = tasks.register(type="direct", action="cluster:admin/tasks/test[n]", parent=root.task_id)
    check = tasks.register(type="transport", action="internal:coordination/fault_detection/leader_check")
    for task in (child, check, root):
        tasks.unregister(task)
    with events.subscribe() as subscription:
        recent = subscription.snapshot["recent"]
    assert [(e["kind"], e.get("id", e.get("task", {}).get("id"))) for e in recent] == [
        ("task_started", root.id),
        ("task_finished", root.id),
    ]


def test_the_history_is_bounded() -> None:
    events, tasks, _, _ = journal()
    for _ in range(journal_module.HISTORY_SIZE):
        tasks.unregister(tasks.register(type="transport", action="cluster:admin/tasks/test"))
    with events.subscribe() as subscription:
        recent = subscription.snapshot["recent"]
    assert len(recent) == journal_module.HISTORY_SIZE
    assert recent[-1]["seq"] == 2 * journal_module.HISTORY_SIZE


async def test_cluster_states_bring_changes_and_the_new_view() -> None:
    events, _, _, cluster = journal()
    other = DiscoveryNode("n2", "node-2", "e2", "127.0.0.1", "127.0.0.1:9301", "127.0.0.1:9201", ("master",))
    with events.subscribe() as subscription:
        cluster.apply(cluster.applied.with_nodes([LOCAL, other]).with_changes(version=4))
        batch = await drain(subscription)
    assert kinds(batch) == ["node_joined", "cluster_state"]
    assert batch[0]["subject"] == "node-2"
    assert [n["name"] for n in batch[1]["cluster"]["nodes"]] == ["node-1", "node-2"]
    assert events.http_addresses() == {"127.0.0.1:9200", "127.0.0.1:9201"}


async def test_fault_rules_are_heard_when_added_removed_and_when_they_expire() -> None:
    events, _, faults, _ = journal()
    with events.subscribe() as subscription:
        rule = faults.add(FaultSpec(FaultKind.DELAY, "127.0.0.1:9301", delay_millis=100))
        faults.remove(rule.id)
        faults.add(FaultSpec(FaultKind.BLACKHOLE, "127.0.0.1:9302", duration_millis=20))
        batch = await drain(subscription)
        assert kinds(batch) == ["fault_added", "fault_removed", "fault_added"]
        expired = await subscription.next_batch(2.0)  # nobody looks at the rules: the journal does, when due
    assert kinds(expired) == ["fault_expired"]
    assert expired[0]["faults"][0]["kind"] == "blackhole"


async def test_a_subscriber_that_falls_behind_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "MAX_PENDING_EVENTS", 3)
    events, tasks, _, _ = journal()
    with events.subscribe() as subscription:
        for _ in range(4):
            tasks.register(type="transport", action="cluster:admin/tasks/test")
        assert subscription.overflowed and subscription.ended
        assert await drain(subscription) == []


async def test_a_burst_goes_out_in_bounded_batches_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "MAX_BATCH_EVENTS", 2)
    events, tasks, _, _ = journal()
    with events.subscribe() as subscription:
        for _ in range(3):
            tasks.register(type="transport", action="cluster:admin/tasks/test")
        first, second = await subscription.next_batch(0.01), await subscription.next_batch(0.01)
        assert (len(first), len(second)) == (2, 1)
        assert [e["task"]["id"] for e in first + second] == [1, 2, 3]


async def test_closing_ends_every_stream_and_refuses_new_ones() -> None:
    events, _, _, _ = journal()
    subscription = events.subscribe()
    waiting = asyncio.ensure_future(subscription.next_batch(30.0))
    events.close()
    assert await asyncio.wait_for(waiting, 1.0) == []
    assert subscription.ended
    with pytest.raises(ElasticsearchError) as refused:
        events.subscribe()
    assert (refused.value.es_type, refused.value.status) == ("es_rejected_execution_exception", 429)


def test_subscribers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "MAX_SUBSCRIBERS", 2)
    events, _, _, _ = journal()
    first, _second = events.subscribe(), events.subscribe()
    with pytest.raises(ElasticsearchError, match=r"too many event subscribers \[2\]"):
        events.subscribe()
    first.close()
    events.subscribe()


def test_a_child_of_a_remote_parent_is_not_history() -> None:
    events, tasks, _, _ = journal()
    tasks.register(type="transport", action="cluster:admin/tasks/test[n]", parent=TaskId("n2", 1))
    with events.subscribe() as subscription:
        assert subscription.snapshot["recent"] == []


async def test_a_subscriber_can_leave_out_the_nodes_own_traffic() -> None:
    events, tasks, _, _ = journal()
    tasks.register(type="transport", action="internal:coordination/fault_detection/leader_check")
    with events.subscribe(exclude_actions=["internal:*"]) as subscription:
        assert subscription.snapshot["tasks"] == []
        check = tasks.register(type="transport", action="internal:admin/tasks/ban")
        tasks.unregister(check)
        test = tasks.register(type="transport", action="cluster:admin/tasks/test")
        batch = await drain(subscription)
    assert [(e["kind"], e["task"]["id"]) for e in batch] == [("task_started", test.id)]
