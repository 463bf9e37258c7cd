"""The bulk-by-scroll model of reindex, update-by-query and delete-by-query as pure values (mirrors ES
`BulkByScrollTask.Status`, `BulkByScrollResponse`, `WorkerBulkByScrollTaskState`'s throttle arithmetic and the
REST parameter parsing of `AbstractBaseReindexRestHandler`; reference §14).

`requests_per_second` is a Java `float` in ES: it is kept here as the double that prints with Java's `float`
digits (`java_float`), `math.inf` when unlimited, and rendered `-1.0` then. The throttle arithmetic is ES's,
float rounding included:

- the wait before a batch is `last_batch_start + batch_size / rps - now` (never negative);
- a rethrottle that speeds a worker up rescales the current wait by `old / new` (through `Math.round(float)`, so
  a rescaled wait never exceeds `Integer.MAX_VALUE` nanoseconds, as in ES); slowing down takes effect next batch.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import math
import re
import struct
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from node.data.errors import XContentParseError
from node.data.json_body import json_token
from node.data.search_request import ParsingError
from node.errors import ElasticsearchError, IllegalArgumentError, NumberFormatError, status_of
from node.tasks.task import Task, TaskInfo

__all__ = [
    "AUTO_SLICES",
    "AUTO_SLICE_CEILING",
    "UNLIMITED",
    "BodyFields",
    "BulkByScrollStatus",
    "BulkByScrollTasks",
    "LeaderState",
    "SliceResult",
    "WorkerState",
    "f32",
    "java_float",
    "java_long",
    "parse_requests_per_second",
    "parse_slices",
    "perfectly_throttled_batch_nanos",
    "render_response",
    "rescheduled_delay_nanos",
    "throttle_wait_nanos",
]

UNLIMITED = math.inf
AUTO_SLICES = "auto"
AUTO_SLICE_CEILING = 20  # ES BulkByScrollParallelizationHelper.AUTO_SLICE_CEILING
_INT_MAX = 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_RPS_ERROR = "[requests_per_second] must be a float greater than 0. Use -1 to disable throttling."
# What Java's `Float#parseFloat` accepts after `String#trim`: decimal or hexadecimal with an optional type suffix,
# and exactly `NaN` and `Infinity` (case matters, unlike Python's `float`).
_JAVA_FLOAT = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+[fFdD]?)"
)
_JAVA_WHITESPACE = "".join(map(chr, range(0x21)))  # String#trim strips every char <= ' '


def f32(value: float) -> float:
    """`value` rounded to a Java float."""
    if math.isinf(value) or math.isnan(value):
        return value
    return struct.unpack("f", struct.pack("f", value))[0]


def java_float(value: float) -> float:
    """The Java float nearest `value`, as the double whose digits are `Float.toString`'s (`1.0E-4`, not
    `9.999999747378752E-5`), so it renders as ES renders a float field."""
    single = f32(value)
    if math.isinf(single) or math.isnan(single) or single == 0.0:
        return single
    for digits in range(1, 10):
        candidate = float(f"{single:.{digits}g}")
        if f32(candidate) == single:
            return candidate
    return single


def java_long(value: float) -> int:
    """Java's `(long)` cast of a float: NaN is 0 and the infinities saturate, where Python's `int` raises."""
    if math.isnan(value):
        return 0
    if math.isinf(value):
        return _LONG_MAX if value > 0 else _LONG_MIN
    return max(_LONG_MIN, min(_LONG_MAX, int(value)))


def _parse_java_float(text: str) -> float:
    """`Float#parseFloat`, as a double holding the float's value; `ValueError` for what Java refuses."""
    trimmed = text.strip(_JAVA_WHITESPACE)
    if not _JAVA_FLOAT.fullmatch(trimmed):
        raise ValueError(text)
    number = trimmed.rstrip("fFdD") if "x" not in trimmed.lower() else re.sub(r"[fFdD]$", "", trimmed)
    if number.lstrip("+-") == "NaN":
        return math.nan
    if number.lstrip("+-") == "Infinity":
        return -math.inf if number.startswith("-") else math.inf
    value = float.fromhex(number) if "x" in number.lower() else float(number)
    return f32(value)


def parse_requests_per_second(text: str | None) -> float | None:
    """ES `AbstractBaseReindexRestHandler#parseRequestsPerSecond`: None when absent, `inf` for -1.

    As in ES, `NaN` passes both of its `<= 0` checks (and those of the request's setter): a reindex at `NaN`
    requests per second never waits between batches (`(long) NaN` is 0) and reports `"requests_per_second":"NaN"`.

    Raises:
        IllegalArgumentError: not a Java float, or not > 0 (except -1).
    """
    if text is None:
        return None
    try:
        value = _parse_java_float(text)
    except ValueError:
        raise IllegalArgumentError(_RPS_ERROR, cause=NumberFormatError(f'For input string: "{text}"')) from None
    if value == -1:
        return UNLIMITED
    if value <= 0:
        raise IllegalArgumentError(_RPS_ERROR)
    return java_float(value)


def parse_slices(text: str | None) -> int | str:
    """ES `AbstractBaseReindexRestHandler#parseSlices`: 1 when absent, `auto`, or a positive int."""
    if text is None:
        return 1
    if text == AUTO_SLICES:
        return AUTO_SLICES
    message = f'[slices] must be a positive integer or the string "auto", but was [{text}]'
    try:
        slices = int(text)
    except ValueError:
        raise IllegalArgumentError(message, cause=NumberFormatError(f'For input string: "{text}"')) from None
    if slices < 1:
        raise IllegalArgumentError(message)
    return slices


class BodyFields:
    """The fields of one object of a reindex-family body, read with the type checks of ES's `ObjectParser`.

    A field of the wrong type is `[reindex] source doesn't support values of type: VALUE_STRING`, a number that
    does not parse `[reindex] failed to parse field [max_docs]` (caused by ES's `number_format_exception`), both
    `x_content_parse_exception` 400s located at the field's name in the body text.
    """

    __slots__ = ("_object", "_parser", "_text")

    def __init__(self, parser: str, fields: Mapping[str, Any], text: str) -> None:
        self._parser = parser
        self._object = fields
        self._text = text

    def _error(self, field: str, message: str, cause: ElasticsearchError | None = None) -> XContentParseError:
        position = self._text.find(f'"{field}"')
        return XContentParseError(1, position + 1 if position >= 0 else 1, f"[{self._parser}] {message}", cause=cause)

    def failed_field(self, field: str, cause: ElasticsearchError) -> XContentParseError:
        """ES `ObjectParser#parseValue`: `[reindex] failed to parse field [source]` when a field's own parser failed,
        located where that parser left the outer one: at the end of an object or array value (`parser.map()`
        consumed it), else at the value."""
        line, column = value_end(self._text, field)
        return XContentParseError(line, column, f"[{self._parser}] failed to parse field [{field}]", cause=cause)

    def _type_error(self, field: str) -> XContentParseError:
        return self._error(field, f"{field} doesn't support values of type: {json_token(self._object[field])}")

    def has(self, field: str) -> bool:
        """Whether the object sets `field` (to anything but null, which ES's parsers read as absent)."""
        return self._object.get(field) is not None

    def raw(self, field: str) -> Any:
        """The value of `field` as the JSON parser read it."""
        return self._object.get(field)

    def object(self, field: str) -> BodyFields:
        """An object field (`ValueType.OBJECT`); an absent one reads as empty."""
        value = self._object.get(field, {})
        if not isinstance(value, dict):
            raise self._type_error(field)
        return BodyFields(field, value, self._text)

    def int(self, field: str) -> builtins.int | None:
        """An int field (`declareInt`): a number, or a string holding one, within Java's int range."""
        if field not in self._object:
            return None
        value = self._object[field]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._type_error(field)
        text = value if isinstance(value, str) else repr(value)
        try:
            number = int(value) if not isinstance(value, str) else int(_java_int_text(value))
        except (ValueError, OverflowError):
            number = None
        if number is None or not -(2**31) <= number <= _INT_MAX:
            cause = NumberFormatError(f'For input string: "{text}"')
            raise self._error(field, f"failed to parse field [{field}]", cause) from None
        return number

    def string(self, field: str) -> str | None:
        """A string field (`declareString`)."""
        value = self._object.get(field)
        if value is not None and not isinstance(value, str):
            raise self._type_error(field)
        return value

    def script(self, field: str = "script") -> Mapping[str, Any] | None:
        """A script (`ValueType.OBJECT_OR_STRING`): a string is the source of an inline script, as `Script#parse`."""
        value = self._object.get(field)
        if value is None or isinstance(value, dict):
            return value
        if isinstance(value, str):
            return {"source": value}
        raise self._type_error(field)

    def indices(self, field: str = "index") -> tuple[str, ...]:
        """ES `ReindexRequest#extractStringArray`: a comma-separated string or a list of strings."""
        value = self._object.get(field)
        if value is None:
            return ()
        if isinstance(value, str):  # Java's split(","): trailing empty names dropped, inner ones kept
            names = value.split(",") if value else []
            while names and names[-1] == "":
                names.pop()
            return tuple(names)
        if isinstance(value, list) and all(isinstance(name, str) for name in value):
            return tuple(value)
        raise IllegalArgumentError(f"Expected [{field}] to be a list of a string but was [{_java_text(value)}]")

    def slice(self, field: str = "slice") -> tuple[builtins.int, builtins.int] | None:
        """A manual slice, `{"id": i, "max": n}` (ES `SliceBuilder`)."""
        if field not in self._object:
            return None
        fields = self.object(field)
        slice_id, slice_max = fields.int("id"), fields.int("max")
        if slice_id is None or slice_max is None:
            raise ParsingError("[slice] requires [id] and [max]")
        return slice_id, slice_max


def value_end(text: str, field: str) -> tuple[builtins.int, builtins.int]:
    """Line and column (1-based, as Jackson counts them) of the closing brace or bracket of `field`'s object or
    array value in `text`; of the field name for any other value (where `BodyFields` locates its errors), or when
    the value cannot be found."""
    start = text.find(f'"{field}"')
    if start < 0:
        return 1, 1
    fallback = (text.count("\n", 0, start) + 1, start - (text.rfind("\n", 0, start) + 1) + 1)
    colon = text.find(":", start + len(field) + 2)
    if colon < 0:
        return fallback
    value_start = colon + 1
    while value_start < len(text) and text[value_start] in " \t\r\n":
        value_start += 1
    if value_start >= len(text) or text[value_start] not in "{[":
        return fallback
    try:
        _, end = json.JSONDecoder().raw_decode(text, value_start)
    except ValueError:
        return fallback
    last = end - 1
    return text.count("\n", 0, last) + 1, last - (text.rfind("\n", 0, last) + 1) + 1


def _java_int_text(text: str) -> str:
    if not re.fullmatch(r"[+-]?[0-9]{1,11}", text):
        raise ValueError(text)
    return text


def _java_text(value: Any) -> str:
    """Roughly how Java prints a parsed JSON value in a message (`Map#toString`, `List#toString`)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    return str(value)


def perfectly_throttled_batch_nanos(batch_size: int, requests_per_second: float) -> float:
    """ES `WorkerBulkByScrollTaskState#perfectlyThrottledBatchTime`, in float arithmetic."""
    if math.isinf(requests_per_second):
        return 0.0
    seconds = f32(batch_size / f32(requests_per_second))
    return f32(1_000_000_000 * seconds)


def throttle_wait_nanos(last_batch_start_ns: int, now_ns: int, last_batch_size: int, requests_per_second: float) -> int:
    """ES `WorkerBulkByScrollTaskState#throttleWaitTime`: how long to wait before the next batch."""
    target = perfectly_throttled_batch_nanos(last_batch_size, requests_per_second)
    if math.isinf(target):
        return 2**63 - 1
    earliest_next = last_batch_start_ns + java_long(target)
    return max(0, earliest_next - now_ns)


def rescheduled_delay_nanos(remaining_ns: int, old_rps: float, new_rps: float) -> int:
    """ES `DelayedPrepareBulkRequest#newDelay`: `Math.round(float)`, an int, scales the remaining wait."""
    if remaining_ns < 0:
        return 0
    if math.isinf(new_rps):
        return 0
    scaled = f32(f32(f32(float(remaining_ns)) * f32(old_rps)) / f32(new_rps))
    if math.isnan(scaled):
        return 0  # Java's Math.round(NaN)
    if math.isinf(scaled) or scaled >= _INT_MAX:
        return _INT_MAX
    return math.floor(scaled + 0.5)


def _rps_field(value: float) -> float:
    return -1.0 if math.isinf(value) else float(value)


@dataclass(frozen=True, slots=True)
class BulkByScrollStatus:
    """ES `BulkByScrollTask.Status`; a leader's status has `slices` (a status, None while running, or the error
    dict of a failed slice, per slice)."""

    slice_id: int | None = None
    total: int = 0
    updated: int = 0
    created: int = 0
    deleted: int = 0
    batches: int = 0
    version_conflicts: int = 0
    noops: int = 0
    bulk_retries: int = 0
    search_retries: int = 0
    throttled_nanos: int = 0
    requests_per_second: float = UNLIMITED
    canceled: str | None = None
    throttled_until_nanos: int = 0
    slices: tuple[BulkByScrollStatus | Mapping[str, Any] | None, ...] = ()

    def to_dict(self, *, human: bool = False, created: bool = True, updated: bool = True) -> dict[str, Any]:
        """ES `Status#innerXContent` in an object; `created`/`updated` are the `include_*` params the
        synchronous update-by-query and delete-by-query responses turn off."""
        from node.human import format_duration_nanos

        out: dict[str, Any] = {}
        if self.slice_id is not None:
            out["slice_id"] = self.slice_id
        out["total"] = self.total
        if updated:
            out["updated"] = self.updated
        if created:
            out["created"] = self.created
        out["deleted"] = self.deleted
        out["batches"] = self.batches
        out["version_conflicts"] = self.version_conflicts
        out["noops"] = self.noops
        out["retries"] = {"bulk": self.bulk_retries, "search": self.search_retries}
        if human:
            out["throttled"] = format_duration_nanos(self.throttled_nanos)
        out["throttled_millis"] = self.throttled_nanos // 1_000_000
        out["requests_per_second"] = _rps_field(self.requests_per_second)
        if self.canceled is not None:
            out["canceled"] = self.canceled
        if human:
            out["throttled_until"] = format_duration_nanos(self.throttled_until_nanos)
        out["throttled_until_millis"] = self.throttled_until_nanos // 1_000_000
        if self.slices:
            out["slices"] = [
                s.to_dict(human=human, created=created, updated=updated) if isinstance(s, BulkByScrollStatus)
                else dict(s) if s is not None else None
                for s in self.slices
            ]  # fmt: skip
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BulkByScrollStatus:
        """Reads a status rendered by `to_dict` (a worker's TaskInfo status, received by its leader)."""
        rps = float(data.get("requests_per_second", -1.0))
        slices: list[BulkByScrollStatus | Mapping[str, Any] | None] = []
        for entry in data.get("slices") or ():
            if entry is None:
                slices.append(None)
            elif "type" in entry and "reason" in entry:
                slices.append(dict(entry))
            else:
                slices.append(cls.from_dict(entry))
        retries = data.get("retries") or {}
        return cls(
            slice_id=data.get("slice_id"),
            total=int(data.get("total", 0)),
            updated=int(data.get("updated", 0)),
            created=int(data.get("created", 0)),
            deleted=int(data.get("deleted", 0)),
            batches=int(data.get("batches", 0)),
            version_conflicts=int(data.get("version_conflicts", 0)),
            noops=int(data.get("noops", 0)),
            bulk_retries=int(retries.get("bulk", 0)),
            search_retries=int(retries.get("search", 0)),
            throttled_nanos=int(data.get("throttled_millis", 0)) * 1_000_000,
            requests_per_second=UNLIMITED if rps == -1.0 else rps,
            canceled=data.get("canceled"),
            throttled_until_nanos=int(data.get("throttled_until_millis", 0)) * 1_000_000,
            slices=tuple(slices),
        )

    @classmethod
    def merge(
        cls, slices: Sequence[BulkByScrollStatus | Mapping[str, Any] | None], canceled: str | None
    ) -> BulkByScrollStatus:
        """ES `Status(List<StatusOrException>, reasonCancelled)`: a leader's status, summing the slices known."""
        total = updated = created = deleted = batches = conflicts = noops = bulk = search = throttled = 0
        rps = 0.0
        until: int | None = None
        for entry in slices:
            if not isinstance(entry, BulkByScrollStatus):
                continue  # still running, or failed: it does not count
            total += entry.total
            updated += entry.updated
            created += entry.created
            deleted += entry.deleted
            batches += entry.batches
            conflicts += entry.version_conflicts
            noops += entry.noops
            bulk += entry.bulk_retries
            search += entry.search_retries
            throttled += entry.throttled_nanos
            rps = f32(rps + entry.requests_per_second)
            until = entry.throttled_until_nanos if until is None else min(until, entry.throttled_until_nanos)
        return cls(
            None, total, updated, created, deleted, batches, conflicts, noops, bulk, search, throttled,
            java_float(rps) if not math.isinf(rps) else rps, canceled, until or 0, tuple(slices),
        )  # fmt: skip

    def with_slice(self, slice_id: int | None) -> BulkByScrollStatus:
        return replace(self, slice_id=slice_id)


@dataclass(slots=True)
class SliceResult:
    """What one worker ends with: its response fields, or the error that failed it."""

    took_nanos: int = 0
    timed_out: bool = False
    status: BulkByScrollStatus = field(default_factory=BulkByScrollStatus)
    failures: list[dict[str, Any]] = field(default_factory=list)
    error: ElasticsearchError | None = None


def search_failures(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The failed shards of a reindex worker's search or scroll round, as ES's `ScrollableHitSource.SearchFailure`
    renders them in the response's `failures`: `index`, `shard` and `node` when known, `status`, `reason`."""
    out = []
    for failure in (response.get("_shards") or {}).get("failures") or ():
        rendered: dict[str, Any] = {}
        for key in ("index", "shard", "node"):
            if failure.get(key) is not None:
                rendered[key] = failure[key]
        rendered["status"] = status_of(failure["reason"])
        rendered["reason"] = failure["reason"]
        out.append(rendered)
    return out


def render_response(
    took_nanos: int,
    timed_out: bool,
    status: BulkByScrollStatus,
    failures: Sequence[Mapping[str, Any]],
    *,
    human: bool = False,
    created: bool = True,
    updated: bool = True,
) -> dict[str, Any]:
    """ES `BulkByScrollResponse#toXContent`: `took`, `timed_out`, the status fields, `failures`."""
    out: dict[str, Any] = {"took": took_nanos // 1_000_000, "timed_out": timed_out}
    out.update(status.to_dict(human=human, created=created, updated=updated))
    out["failures"] = [dict(f) for f in failures]
    return out


# ---- the live state of running tasks (ES `WorkerBulkByScrollTaskState`, `LeaderBulkByScrollTaskState`) ----------


@dataclass(slots=True)
class _Delayed:
    """ES `DelayedPrepareBulkRequest`: a scheduled batch, its delay and the rate it was scheduled at."""

    deadline_ns: int
    delay_ns: int
    requests_per_second: float


class WorkerState:
    """ES `WorkerBulkByScrollTaskState`: the counters, the rate and the current throttle wait of one worker."""

    def __init__(self, task: Task, slice_id: int | None, requests_per_second: float) -> None:
        self.task = task
        self.slice_id = slice_id
        self.requests_per_second = requests_per_second
        self.total = self.created = self.updated = self.deleted = 0
        self.batches = self.version_conflicts = self.noops = 0
        self.throttled_nanos = 0
        self._delayed: _Delayed | None = None
        self._wake = asyncio.Event()

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.deleted

    def status(self) -> BulkByScrollStatus:
        rps = UNLIMITED if self.task.cancelled else self.requests_per_second  # ES handleCancel rethrottles to -1
        until = max(0, self._delayed.deadline_ns - time.monotonic_ns()) if self._delayed is not None else 0
        return BulkByScrollStatus(
            slice_id=self.slice_id, total=self.total, updated=self.updated, created=self.created,
            deleted=self.deleted, batches=self.batches, version_conflicts=self.version_conflicts, noops=self.noops,
            throttled_nanos=self.throttled_nanos, requests_per_second=rps, canceled=self.task.cancel_reason,
            throttled_until_nanos=until,
        )  # fmt: skip

    async def delay_prepare(self, last_batch_start_ns: int, last_batch_size: int) -> None:
        """Waits the throttle delay before the next batch; a rethrottle reschedules it, a cancel ends it."""
        delay = throttle_wait_nanos(last_batch_start_ns, time.monotonic_ns(), last_batch_size, self.requests_per_second)
        self._delayed = _Delayed(time.monotonic_ns() + delay, delay, self.requests_per_second)
        while True:
            if self.task.cancelled:
                self.rethrottle(UNLIMITED)
            delayed = self._delayed
            remaining = delayed.deadline_ns - time.monotonic_ns()
            if remaining <= 0:
                break
            self._wake.clear()
            waiters = [
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(self.task.cancelled_event.wait()),
            ]
            try:
                await asyncio.wait(waiters, timeout=remaining / 1e9, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        self.throttled_nanos += self._delayed.delay_ns  # ES counts the delay of the wait that ran

    def rethrottle(self, requests_per_second: float) -> None:
        """ES `WorkerBulkByScrollTaskState#rethrottle`: faster takes effect now, slower at the next batch."""
        self.requests_per_second = requests_per_second
        delayed = self._delayed
        if delayed is None or requests_per_second < delayed.requests_per_second:
            return
        remaining = delayed.deadline_ns - time.monotonic_ns()
        if remaining <= 0:
            return  # already ran
        delay = rescheduled_delay_nanos(remaining, delayed.requests_per_second, requests_per_second)
        self._delayed = _Delayed(time.monotonic_ns() + delay, delay, delayed.requests_per_second)
        self._wake.set()


class LeaderState:
    """ES `LeaderBulkByScrollTaskState`: the slices' results as they finish."""

    def __init__(self, task: Task, slices: int) -> None:
        self.task = task
        self.slices = slices
        self.results: list[SliceResult | None] = [None] * slices

    def running(self) -> int:
        return sum(1 for r in self.results if r is None)

    def finished_statuses(self) -> list[BulkByScrollStatus | Mapping[str, Any] | None]:
        out: list[BulkByScrollStatus | Mapping[str, Any] | None] = []
        for result in self.results:
            if result is None:
                out.append(None)
            elif result.error is not None:
                out.append({"type": result.error.es_type, "reason": result.error.reason})
            else:
                out.append(result.status)
        return out

    def status(self, running: Mapping[int, BulkByScrollStatus] | None = None) -> BulkByScrollStatus:
        """The merged status; `running` adds fresh statuses of slices still running (a rethrottle's answer)."""
        statuses = self.finished_statuses()
        for slice_id, status in (running or {}).items():
            if statuses[slice_id] is None:
                statuses[slice_id] = status
        return BulkByScrollStatus.merge(statuses, self.task.cancel_reason)


class BulkByScrollTasks:
    """The worker and leader states of this node's running bulk-by-scroll tasks, by task id.

    ES keeps them in the `BulkByScrollTask` itself; here the reindex actions register them while a task runs, and the
    rethrottle action finds them.
    """

    def __init__(self) -> None:
        self._states: dict[int, WorkerState | LeaderState] = {}

    @contextmanager
    def running(self, task: Task, state: WorkerState | LeaderState) -> Iterator[None]:
        """Holds `state` for `task` (and reports it as the task's status) while the block runs."""
        self._states[task.id] = state
        task.status_provider = lambda: state.status().to_dict()
        try:
            yield
        finally:
            self._states.pop(task.id, None)

    def rethrottle_target(self, task: Task) -> WorkerState | LeaderState:
        """The state a rethrottle acts on (ES `TransportRethrottleAction#rethrottle`).

        Raises:
            IllegalArgumentError: the task has not become a leader or a worker yet.
        """
        state = self._states.get(task.id)
        if state is None:
            raise IllegalArgumentError(
                f"task [{task.id}] has not yet been initialized to the point where it knows how to rethrottle itself"
            )
        return state

    def leader_info(self, task: Task, running: Mapping[int, BulkByScrollStatus] | None) -> TaskInfo:
        """ES `BulkByScrollTask#taskInfoGivenSubtaskInfo`: the leader's TaskInfo with its slices' fresh statuses."""
        state = self._states.get(task.id)
        info = task.info(detailed=True)
        if not isinstance(state, LeaderState):
            return info
        status = state.status(running).to_dict()
        return replace(info, status=status)
