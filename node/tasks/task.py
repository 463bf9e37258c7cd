"""A registered task and its immutable snapshot, `TaskInfo` (reference §1, §3)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from node.errors import TaskCancelledError
from node.human import format_duration_nanos, format_iso_millis
from node.tasks.task_id import TaskId

__all__ = ["Task", "TaskInfo", "TaskInfos", "TaskType"]

T = TypeVar("T")


class TaskType:
    """How a task entered its node (reference §1.2)."""

    TRANSPORT = "transport"
    DIRECT = "direct"
    PERSISTENT = "persistent"


StatusProvider = Callable[[], Mapping[str, Any] | None]


@dataclass(slots=True, eq=False)
class Task:
    """A task while it is registered. Only `TaskManager` creates and mutates these.

    The code running a task may attach a `status_provider` once it has the state to report (ES tasks expose the
    progress their own code updates). A cancellable task is cancelled by setting a flag; the code running it notices at its next check
    (`raise_if_cancelled`, or awaiting `cancellation()` or `cancelled_event`), exactly as ES's `CancellableTask` — so
    a task can be listed with `cancelled: true` while it still runs.

    A node holds thousands of these, most never cancelled and never waited on: what waiting on a cancellation needs
    is created only for the tasks that are waited on.
    """

    node_id: str
    id: int
    type: str
    action: str
    description: str
    parent_task_id: TaskId
    headers: Mapping[str, str]
    cancellable: bool
    status_provider: StatusProvider | None = None
    start_time_millis: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    start_nanos: int = field(default_factory=time.monotonic_ns)
    cancel_reason: str | None = None
    _cancel_waiters: list[asyncio.Future[None]] | None = field(default=None, init=False, repr=False)
    _cancelled_event: asyncio.Event | None = field(default=None, init=False, repr=False)

    @property
    def task_id(self) -> TaskId:
        return TaskId(self.node_id, self.id)

    @property
    def cancelled_event(self) -> asyncio.Event:
        """Set once the task is cancelled."""
        if self._cancelled_event is None:
            self._cancelled_event = asyncio.Event()
            if self.cancel_reason is not None:
                self._cancelled_event.set()
        return self._cancelled_event

    def cancellation(self) -> asyncio.Future[None]:
        """A future that completes when the task is cancelled (at once if it is); cancel it to stop waiting."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.cancel_reason is not None:
            future.set_result(None)
            return future
        if self._cancel_waiters is None:
            self._cancel_waiters = []
        self._cancel_waiters.append(future)
        future.add_done_callback(self._forget_waiter)
        return future

    def mark_cancelled(self, reason: str) -> None:
        """Sets the cancellation flag and wakes whoever waits on it; `TaskManager.cancel` is the one caller."""
        self.cancel_reason = reason
        if self._cancelled_event is not None:
            self._cancelled_event.set()
        waiters, self._cancel_waiters = self._cancel_waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def _forget_waiter(self, future: asyncio.Future[None]) -> None:
        if self._cancel_waiters is not None and future in self._cancel_waiters:
            self._cancel_waiters.remove(future)

    @property
    def cancelled(self) -> bool:
        return self.cancel_reason is not None

    def ensure_not_cancelled(self) -> None:
        """ES `CancellableTask#ensureNotCancelled`."""
        if self.cancel_reason is not None:
            raise TaskCancelledError(f"task cancelled [{self.cancel_reason}]")

    async def run_unless_cancelled(self, awaitable: Awaitable[T]) -> T:
        """Awaits `awaitable`, but fails with `task cancelled [reason]` as soon as this task is cancelled."""
        self.ensure_not_cancelled()
        work = asyncio.ensure_future(awaitable)
        cancelled = self.cancellation()
        waits: set[asyncio.Future[Any]] = {work, cancelled}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if not work.done():
                work.cancel()
        if work.done() and not work.cancelled():
            return work.result()
        self.ensure_not_cancelled()
        return await work  # unreachable in practice: the work was cancelled without the task being cancelled

    async def wait_unless_cancelled(self, futures: Iterable[asyncio.Future[Any]]) -> None:
        """Waits for every future, but raises `task cancelled [reason]` as soon as this task is cancelled.

        Unlike `run_unless_cancelled`, the futures are left running: work sent to other nodes ends through its
        bans, as ES's cancellable fan-outs leave it.
        """
        pending = [f for f in futures if not f.done()]
        if not pending or not self.cancellable:
            if pending:
                await asyncio.wait(pending)
            self.ensure_not_cancelled()
            return
        # One future woken by the last completion or by the cancellation (asyncio.wait would add a coroutine and
        # sets for every waiting parent task).
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        left = len(pending)

        def done(_: asyncio.Future[Any]) -> None:
            nonlocal left
            left -= 1
            if left == 0 and not woken.done():
                woken.set_result(None)

        def cancelled(_: asyncio.Future[None]) -> None:
            if not woken.done():
                woken.set_result(None)

        cancellation = self.cancellation()
        cancellation.add_done_callback(cancelled)
        for future in pending:
            future.add_done_callback(done)
        try:
            await woken
        finally:
            cancellation.remove_done_callback(cancelled)
            cancellation.cancel()
            for future in pending:
                future.remove_done_callback(done)
        self.ensure_not_cancelled()

    def info(self, *, detailed: bool) -> TaskInfo:
        """An immutable snapshot; `running_time_in_nanos` is computed now, as ES does on every call."""
        return TaskInfo(
            node=self.node_id,
            id=self.id,
            type=self.type,
            action=self.action,
            status=self._status() if detailed else None,
            description=self.description if detailed else None,
            start_time_in_millis=self.start_time_millis,
            running_time_in_nanos=time.monotonic_ns() - self.start_nanos,
            cancellable=self.cancellable,
            cancelled=self.cancelled,
            parent_task_id=str(self.parent_task_id) if self.parent_task_id.is_set else None,
            headers=dict(self.headers),
        )

    def info_dict(self, *, detailed: bool) -> dict[str, Any]:
        """`info(detailed=...).to_dict()` without the snapshot object in between: a listing of thousands of tasks
        renders each one once, straight from the registry."""
        parent = self.parent_task_id
        return _task_info_dict(
            self.node_id, self.id, self.type, self.action, self._status() if detailed else None,
            self.description if detailed else None, self.start_time_millis, time.monotonic_ns() - self.start_nanos,
            self.cancellable, self.cancel_reason is not None, f"{parent.node_id}:{parent.id}" if parent.is_set else None,
            self.headers, human=False, include_cancelled=True,
        )  # fmt: skip

    def _status(self) -> dict[str, Any] | None:
        if self.status_provider is None:
            return None
        provided = self.status_provider()
        return dict(provided) if provided is not None else None


def _task_info_dict(
    node: str,
    id: int,
    type: str,
    action: str,
    status: Mapping[str, Any] | None,
    description: str | None,
    start_time_in_millis: int,
    running_time_in_nanos: int,
    cancellable: bool,
    cancelled: bool,
    parent_task_id: str | None,
    headers: Mapping[str, str],
    *,
    human: bool,
    include_cancelled: bool,
) -> dict[str, Any]:
    """The ES JSON of a TaskInfo, in ES field order (reference §3.1): the one place that decides it."""
    out: dict[str, Any] = {"node": node, "id": id, "type": type, "action": action}
    if status is not None:
        out["status"] = status
    if description is not None:
        out["description"] = description
    if human:
        out["start_time"] = format_iso_millis(start_time_in_millis)
    out["start_time_in_millis"] = start_time_in_millis
    if human:
        out["running_time"] = format_duration_nanos(running_time_in_nanos)
    out["running_time_in_nanos"] = running_time_in_nanos
    out["cancellable"] = cancellable
    if cancellable and include_cancelled:
        out["cancelled"] = cancelled
    if parent_task_id is not None:
        out["parent_task_id"] = parent_task_id
    out["headers"] = dict(headers)
    return out


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What the tasks APIs report about one task.

    `description` is None in non-detailed snapshots (the field is then omitted), and `status` is None when the
    snapshot is not detailed or the task has no status.
    """

    node: str
    id: int
    type: str
    action: str
    status: Mapping[str, Any] | None
    description: str | None
    start_time_in_millis: int
    running_time_in_nanos: int
    cancellable: bool
    cancelled: bool
    parent_task_id: str | None
    headers: Mapping[str, str]

    @property
    def task_id(self) -> str:
        return f"{self.node}:{self.id}"

    def to_dict(self, *, human: bool = False, include_cancelled: bool = True) -> dict[str, Any]:
        """The ES JSON of a TaskInfo, in ES field order (reference §3.1).

        `include_cancelled=False` is the `.tasks` document form, which never stores `cancelled`.
        """
        return _task_info_dict(
            self.node, self.id, self.type, self.action, self.status, self.description, self.start_time_in_millis,
            self.running_time_in_nanos, self.cancellable, self.cancelled, self.parent_task_id, self.headers,
            human=human, include_cancelled=include_cancelled,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskInfo:
        """Parses what `to_dict(human=False)` renders; a missing `cancelled` reads as false.

        That default is ES's: `.tasks` documents never store `cancelled`, so a stored cancellable task is reported
        as `"cancelled": false` even when it was cancelled (reference §20.12).
        """
        return cls(
            node=data["node"],
            id=int(data["id"]),
            type=data["type"],
            action=data["action"],
            status=data.get("status"),
            description=data.get("description"),
            start_time_in_millis=int(data["start_time_in_millis"]),
            running_time_in_nanos=int(data["running_time_in_nanos"]),
            cancellable=bool(data["cancellable"]),
            cancelled=bool(data.get("cancelled", False)),
            parent_task_id=data.get("parent_task_id"),
            headers=dict(data.get("headers") or {}),
        )

    def status_json(self) -> str:
        return json.dumps(self.status, separators=(",", ":")) if self.status is not None else ""


class TaskInfos(Sequence[TaskInfo]):
    """The tasks one node answered, kept as ES renders them (`TaskInfo.to_dict()`), which is how they cross the
    wire; a `TaskInfo` is built only for the task someone reads as one.

    Rendering a listing in ES's default form needs nothing but these objects, so a listing of thousands of tasks
    goes from the wire to the response body without a value object per task.
    """

    __slots__ = ("_dicts", "_infos")

    def __init__(self, dicts: list[dict[str, Any]]) -> None:
        self._dicts = dicts
        self._infos: list[TaskInfo] | None = None

    def dicts(self) -> list[dict[str, Any]]:
        """Every task's `to_dict()` form, in order; shared, never to be changed."""
        return self._dicts

    def _materialized(self) -> list[TaskInfo]:
        if self._infos is None:
            self._infos = [TaskInfo.from_dict(d) for d in self._dicts]
        return self._infos

    @overload
    def __getitem__(self, index: int) -> TaskInfo: ...

    @overload
    def __getitem__(self, index: slice) -> list[TaskInfo]: ...

    def __getitem__(self, index: int | slice) -> TaskInfo | list[TaskInfo]:
        return self._materialized()[index]

    def __iter__(self) -> Iterator[TaskInfo]:
        return iter(self._materialized())

    def __len__(self) -> int:
        return len(self._dicts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TaskInfos({self._dicts!r})"
