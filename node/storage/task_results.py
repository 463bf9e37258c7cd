"""Stored task results: the documents of the `.tasks` index (reference §13; DESIGN §7; mirrors ES `TaskResult`).

ES stores the result of a task that asked for it (`wait_for_completion=false`) as a document of the hidden `.tasks`
index, with `_id` `"<node id>:<task id>"`, one primary and `auto_expand_replicas: 0-1`. This module holds what
those documents are (`TaskResult`), the index's settings, and the cluster-state change that creates it
(`with_tasks_index`); `node.actions.task_results.TaskResultsService` writes and reads them through the data plane.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.cluster.state import ClusterState
from node.errors import ElasticsearchError
from node.tasks.task import TaskInfo

__all__ = ["TASKS_INDEX", "TASKS_INDEX_SETTINGS", "TaskResult", "task_info_from_dict", "with_tasks_index"]

TASKS_INDEX = ".tasks"
# ES `TaskResultsService#taskResultIndexSettings`: one shard, one replica where possible, hidden, recovered first.
TASKS_INDEX_SETTINGS: Mapping[str, str] = {
    "index.number_of_shards": "1",
    "index.auto_expand_replicas": "0-1",
    "index.priority": "2147483647",
    "index.hidden": "true",
}

# ---- documents (pure) -----------------------------------------------------------------------------------------


def task_info_from_dict(data: Mapping[str, Any]) -> TaskInfo:
    """Parses a TaskInfo rendered by `TaskInfo.to_dict(human=False)`; a missing `cancelled` reads as false.

    That default is ES's: `.tasks` documents never store `cancelled`, so a stored cancellable task is reported as
    `"cancelled": false` even when it was cancelled (reference §20.12).
    """
    return TaskInfo.from_dict(data)


@dataclass(frozen=True, slots=True)
class TaskResult:
    """ES `TaskResult`: what `GET /_tasks/{id}` answers and what `.tasks` stores (reference §10.2).

    `task` is always a detailed snapshot. A completed result carries at most one of `response` (the action's
    response body) and `error` (the error rendered without `root_cause`).
    """

    completed: bool
    task: TaskInfo
    response: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None

    @classmethod
    def of_response(cls, task: TaskInfo, response: Mapping[str, Any]) -> TaskResult:
        return cls(completed=True, task=task, response=response)

    @classmethod
    def of_error(cls, task: TaskInfo, error: ElasticsearchError) -> TaskResult:
        return cls(completed=True, task=task, error=error.to_dict())

    def to_dict(self, *, human: bool = False) -> dict[str, Any]:
        """The get-task body: `completed`, `task` (with `cancelled` for cancellable tasks), then `response` or `error`."""
        return self._render(self.task.to_dict(human=human))

    def to_document(self) -> dict[str, Any]:
        """The `.tasks` document: as `to_dict`, but `task` never has `cancelled` (reference §13)."""
        return self._render(self.task.to_dict(human=False, include_cancelled=False))

    def _render(self, task: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"completed": self.completed, "task": task}
        if self.response is not None:
            out["response"] = dict(self.response)
        elif self.error is not None:
            out["error"] = dict(self.error)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskResult:
        """Reads a document or a get-task body back."""
        return cls(
            completed=bool(data["completed"]),
            task=task_info_from_dict(data["task"]),
            response=data.get("response"),
            error=data.get("error"),
        )


def with_tasks_index(state: ClusterState) -> ClusterState:
    """The state with `.tasks` in `metadata["indices"]`; the very same state when it is already there.

    Every other metadata key, and every other index, is kept as it is.
    """
    indices = state.metadata.get("indices") or {}
    if TASKS_INDEX in indices:
        return state
    metadata = dict(state.metadata)
    metadata["indices"] = {**indices, TASKS_INDEX: dict(TASKS_INDEX_SETTINGS)}
    return state.with_changes(metadata=metadata)
