"""The task registry (reference §1.1, §4, §12.1)."""

from __future__ import annotations

import asyncio

import pytest

from node.errors import IllegalArgumentError, TaskCancelledError
from node.tasks.manager import Ban, TaskManager
from node.tasks.task_id import TaskId


def test_ids_start_at_one_and_are_never_reused() -> None:
    tm = TaskManager("n")
    first = tm.register(type="transport", action="a")
    tm.unregister(first)
    second = tm.register(type="transport", action="a")
    assert (first.id, second.id) == (1, 2)


def test_lists_registered_tasks_oldest_first() -> None:
    tm = TaskManager("n")
    a = tm.register(type="transport", action="a")
    b = tm.register(type="direct", action="b", parent=a.task_id)
    assert [t.id for t in tm.tasks()] == [a.id, b.id]
    tm.unregister(a)
    assert tm.tasks() == [b]


def test_snapshot_renders_in_es_field_order() -> None:
    tm = TaskManager("n")
    parent = tm.register(type="transport", action="cluster:monitor/tasks/lists", cancellable=True)
    child = tm.register(
        type="direct",
        action="cluster:monitor/tasks/lists[n]",
        parent=parent.task_id,
        headers={"X-Opaque-Id": "me"},
        cancellable=True,
    )
    rendered = child.info(detailed=False).to_dict()
    assert list(rendered) == [
        "node", "id", "type", "action", "start_time_in_millis", "running_time_in_nanos",
        "cancellable", "cancelled", "parent_task_id", "headers",
    ]  # fmt: skip
    assert rendered["parent_task_id"] == "n:1"
    assert rendered["headers"] == {"X-Opaque-Id": "me"}


def test_detailed_human_snapshot_adds_description_and_human_times_before_raw_ones() -> None:
    tm = TaskManager("n")
    task = tm.register(type="transport", action="a", description="", status_provider=lambda: {"phase": "x"})
    rendered = task.info(detailed=True).to_dict(human=True)
    assert list(rendered) == [
        "node", "id", "type", "action", "status", "description", "start_time", "start_time_in_millis",
        "running_time", "running_time_in_nanos", "cancellable", "headers",
    ]  # fmt: skip
    assert rendered["description"] == ""
    assert "cancelled" not in rendered


@pytest.mark.parametrize("detailed", [False, True])
def test_a_task_renders_straight_from_the_registry_as_its_snapshot_does(
    detailed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("node.tasks.task.time.monotonic_ns", lambda: 10**12)
    tm = TaskManager("n")
    parent = tm.register(type="transport", action="p", cancellable=True)
    tm.cancel(parent, "by user request")
    for task in (
        parent,
        tm.register(type="direct", action="c", description="d", parent=parent.task_id, headers={"X-Opaque-Id": "me"}),
        tm.register(type="transport", action="s", cancellable=True, status_provider=lambda: {"phase": "x"}),
    ):
        assert task.info_dict(detailed=detailed) == task.info(detailed=detailed).to_dict()
        assert list(task.info_dict(detailed=detailed)) == list(task.info(detailed=detailed).to_dict())


def test_header_size_limit() -> None:
    tm = TaskManager("n")
    with pytest.raises(IllegalArgumentError, match="Request exceeded the maximum size of task headers 16kb"):
        tm.register(type="transport", action="a", headers={"X-Opaque-Id": "x" * 8192})


def test_banned_parent_refuses_cancellable_children_but_consumes_the_id() -> None:
    tm = TaskManager("n")
    parent = TaskId("other", 7)
    tm.set_ban(Ban(parent, "by user request", "other"))
    with pytest.raises(TaskCancelledError, match=r"task cancelled before starting \[by user request\]"):
        tm.register(type="transport", action="a", parent=parent, cancellable=True)
    assert tm.register(type="transport", action="b", parent=parent).id == 2  # not cancellable: allowed
    tm.drop_bans_from("other")
    assert tm.register(type="transport", action="c", parent=parent, cancellable=True).id == 3


def test_cancel_marks_once() -> None:
    tm = TaskManager("n")
    task = tm.register(type="transport", action="a", cancellable=True)
    assert tm.cancel(task, "by user request")
    assert not tm.cancel(task, "by user request")
    assert task.info(detailed=False).cancelled


def test_a_cancellation_wakes_its_waiters_and_a_later_one_at_once() -> None:
    async def scenario() -> None:
        tm = TaskManager("n")
        task = tm.register(type="transport", action="a", cancellable=True)
        waiting, abandoned = task.cancellation(), task.cancellation()
        abandoned.cancel()
        assert not waiting.done()
        tm.cancel(task, "by user request")
        assert waiting.done() and task.cancelled_event.is_set()
        assert task.cancellation().done()

    asyncio.run(scenario())


def test_waiting_unless_cancelled_fails_at_the_cancellation_and_leaves_the_work_running() -> None:
    async def scenario() -> None:
        tm = TaskManager("n")
        task = tm.register(type="transport", action="a", cancellable=True)
        work = asyncio.get_running_loop().create_future()
        waiter = asyncio.ensure_future(task.wait_unless_cancelled([work]))
        await asyncio.sleep(0)
        tm.cancel(task, "by user request")
        with pytest.raises(TaskCancelledError, match=r"task cancelled \[by user request\]"):
            await waiter
        assert not work.done()
        other = tm.register(type="transport", action="b", cancellable=True)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        later = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(later.set_result, None)
        await other.wait_unless_cancelled([done, later])
        assert later.done()

    asyncio.run(scenario())


def test_wait_for_removal_returns_when_unregistered() -> None:
    async def scenario() -> None:
        tm = TaskManager("n")
        task = tm.register(type="transport", action="a")
        waiter = asyncio.ensure_future(tm.wait_for_removal(task))
        await asyncio.sleep(0)
        assert not waiter.done()
        tm.unregister(task)
        await asyncio.wait_for(waiter, 1)

    asyncio.run(scenario())


def test_child_requests_are_counted_per_node() -> None:
    tm = TaskManager("n")
    parent = tm.register(type="transport", action="a", cancellable=True)
    with tm.child_request(parent, "b"), tm.child_request(parent, "c"):
        assert tm.nodes_with_children(parent) == ["b", "c"]
    assert tm.nodes_with_children(parent) == []
