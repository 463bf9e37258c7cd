"""Task ids: `<nodeId>:<id>`, parsed and rendered exactly as ES `TaskId` (reference §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from node.errors import IllegalArgumentError, NumberFormatError

__all__ = ["TaskId"]

_JAVA_LONG = re.compile(r"[+-]?[0-9]+")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class TaskId:
    """A task id; `TaskId.UNSET` (node "", id -1) means "no task"."""

    node_id: str
    id: int
    UNSET: ClassVar[TaskId]

    @property
    def is_set(self) -> bool:
        return self.id != -1

    def __str__(self) -> str:
        return f"{self.node_id}:{self.id}" if self.is_set else "unset"

    @classmethod
    def parse(cls, text: str | None) -> TaskId:
        """Parses a path or query value; mirrors ES `new TaskId(String)`.

        Missing, empty and `unset` give the unset id; the id part is a strict Java long; `-1` is unset too.
        """
        if text is None or text == "" or text == "unset":
            return cls.UNSET
        node, sep, number = text.partition(":")
        if not sep:
            raise IllegalArgumentError(f"malformed task id {text}")
        if not _JAVA_LONG.fullmatch(number) or not _LONG_MIN <= int(number) <= _LONG_MAX:
            raise IllegalArgumentError(
                f"malformed task id {text}", cause=NumberFormatError(f'For input string: "{number}"')
            )
        value = int(number)
        return cls.UNSET if value == -1 else cls(node, value)


TaskId.UNSET = TaskId("", -1)
