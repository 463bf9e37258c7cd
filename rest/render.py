"""Pure renderers from domain values to ES-shaped dicts, in ES field order (reference §7, §9.3)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from node.coordination.state import ClusterState, DiscoveryNode
from node.errors import ElasticsearchError, status_name
from node.tasks.task import TaskInfo

__all__ = [
    "node_failures",
    "render_list_tasks",
    "task_failure",
    "tasks_node_entry",
]

GROUP_BY_NODES = "nodes"
GROUP_BY_PARENTS = "parents"
GROUP_BY_NONE = "none"


def tasks_node_entry(node: DiscoveryNode | None, tasks: Sequence[TaskInfo], *, human: bool) -> dict[str, Any]:
    """A node under `nodes` of a ListTasksResponse; a node that left the cluster keeps only its `tasks`."""
    entry: dict[str, Any] = {}
    if node is not None:
        entry["name"] = node.name
        entry["transport_address"] = node.transport_address
        entry["host"] = node.host
        entry["ip"] = node.transport_address  # ES quirk: `ip` here includes the port
        entry["roles"] = sorted(node.roles)
        if node.attributes:
            entry["attributes"] = dict(node.attributes)
    entry["tasks"] = {t.task_id: t.to_dict(human=human) for t in tasks}
    return entry


def node_failures(failures: Iterable[ElasticsearchError]) -> list[dict[str, Any]]:
    return [f.to_dict() for f in failures]


def task_failure(task_id: int, node_id: str, error: ElasticsearchError) -> dict[str, Any]:
    """An element of `task_failures` (reference §7.3)."""
    return {"task_id": task_id, "node_id": node_id, "status": status_name(error.status), "reason": error.to_dict()}


def _sort_key(info: TaskInfo) -> tuple[int, str, int]:
    return (info.start_time_in_millis, info.node, info.id)


def _group_by_parents(tasks: Sequence[TaskInfo], *, human: bool) -> dict[str, Any]:
    """Mirrors ES `ListTasksResponse#getTaskGroups`: children attach to a parent present in the result."""
    by_id = {t.task_id: t for t in tasks}
    children: dict[str, list[TaskInfo]] = {}
    top: list[TaskInfo] = []
    for t in tasks:
        if t.parent_task_id is not None and t.parent_task_id in by_id:
            children.setdefault(t.parent_task_id, []).append(t)
        else:
            top.append(t)

    def group(info: TaskInfo) -> dict[str, Any]:
        out = info.to_dict(human=human)
        kids = sorted(children.get(info.task_id, ()), key=_sort_key)
        if kids:
            out["children"] = [group(k) for k in kids]
        return out

    return {t.task_id: group(t) for t in sorted(top, key=_sort_key)}


def render_list_tasks(
    state: ClusterState,
    tasks_by_node: dict[str, list[TaskInfo]],
    *,
    group_by: str,
    human: bool,
    failures: Sequence[ElasticsearchError] = (),
    task_failures: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The ListTasksResponse body in one of its three shapes; failures come first when present."""
    body: dict[str, Any] = {}
    if task_failures:
        body["task_failures"] = list(task_failures)
    if failures:
        body["node_failures"] = node_failures(failures)
    if group_by == GROUP_BY_NODES:
        nodes: dict[str, Any] = {}
        for node_id, infos in tasks_by_node.items():
            if infos:
                nodes[node_id] = tasks_node_entry(state.nodes.get(node_id), infos, human=human)
        body["nodes"] = nodes
        return body
    all_tasks = [t for infos in tasks_by_node.values() for t in infos]
    if group_by == GROUP_BY_PARENTS:
        body["tasks"] = _group_by_parents(all_tasks, human=human)
    else:
        body["tasks"] = [t.to_dict(human=human) for t in all_tasks]
    return body
