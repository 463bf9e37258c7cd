"""Requests that cross the wire as JSON: a dataclass's fields, with task ids and time values as their ES text.

ES requests implement `Writeable`; simcluster's request dataclasses get the same round trip from their fields, so
an action never writes its own serialization. Fields whose default is a `TaskId` or a `TimeValue` are written as
their text and parsed back; tuples travel as lists and come back as tuples.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from node.common.time_value import TimeValue, parse_time_value
from node.tasks.task_id import TaskId

__all__ = ["request_from_json", "request_to_json"]

R = TypeVar("R")


def request_to_json(request: Any) -> str:
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(request):
        value = getattr(request, f.name)
        if isinstance(value, TaskId):
            value = str(value) if value.is_set else None
        elif isinstance(value, TimeValue):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        fields[f.name] = value
    return json.dumps(fields, separators=(",", ":"))


def request_from_json(cls: type[R], text: str) -> R:
    values = json.loads(text)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in values:
            continue
        value = values[f.name]
        if isinstance(f.default, TaskId):
            values[f.name] = TaskId.parse(value)
        elif value is not None and (isinstance(f.default, TimeValue) or f.name.endswith("timeout")):
            values[f.name] = parse_time_value(value, f.name)
        elif isinstance(value, list):
            values[f.name] = tuple(value)
    return cls(**values)
