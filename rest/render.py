"""Pure renderers from domain values to ES-shaped dicts, in ES field order (reference §7, §9.3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node.actions.bulk import ItemOutcome
from node.actions.support.tasks_action import TasksResponse
from node.cluster.state import ClusterState, DiscoveryNode
from node.errors import ElasticsearchError, status_name
from node.tasks.task import TaskInfo, TaskInfos

__all__ = [
    "TaskGroup",
    "node_failures",
    "nodes_header",
    "render_bulk_response",
    "render_item",
    "render_list_tasks",
    "render_tasks_response",
    "task_failure",
    "task_groups",
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
    entry["tasks"] = {f"{d['node']}:{d['id']}": d for d in _task_dicts(tasks, human=human)}
    return entry


def _task_dicts(tasks: Sequence[TaskInfo], *, human: bool) -> Iterable[dict[str, Any]]:
    """Each task's ES form; tasks that came over the wire already are in the non-human one."""
    if not human and isinstance(tasks, TaskInfos):
        return tasks.dicts()
    return (t.to_dict(human=human) for t in tasks)


def node_failures(failures: Iterable[ElasticsearchError]) -> list[dict[str, Any]]:
    return [f.to_dict() for f in failures]


def nodes_header(successful: int, failures: Sequence[ElasticsearchError]) -> dict[str, Any]:
    """The `_nodes` header of a nodes-level response (ES `RestActions#buildNodesHeader`)."""
    header: dict[str, Any] = {"total": successful + len(failures), "successful": successful, "failed": len(failures)}
    if failures:
        header["failures"] = [f.to_dict() for f in failures]
    return header


def task_failure(task_id: int, node_id: str, error: ElasticsearchError) -> dict[str, Any]:
    """An element of `task_failures` (reference §7.3)."""
    return {"task_id": task_id, "node_id": node_id, "status": status_name(error.status), "reason": error.to_dict()}


@dataclass(frozen=True, slots=True)
class TaskGroup:
    """ES `TaskGroup`: a task and the groups of its children found in the same list result."""

    task_info: TaskInfo
    child_tasks: tuple[TaskGroup, ...]


def _start_order(info: TaskInfo) -> tuple[int, str, int]:
    # ES sorts by start time alone, and ties keep HashMap order; node and id make the order deterministic (§20.36).
    return (info.start_time_in_millis, info.node, info.id)


def task_groups(tasks: Sequence[TaskInfo]) -> list[TaskGroup]:
    """Mirrors ES `ListTasksResponse#getTaskGroups`, each level sorted by start time as `buildGroups` sorts it.

    A task whose parent is in `tasks` becomes that parent's child; every other task, including one whose parent was
    filtered out or lives on a node that failed, is a top-level group.
    """
    present = {info.task_id for info in tasks}
    children: dict[str, list[TaskInfo]] = {}
    top: list[TaskInfo] = []
    for info in tasks:
        if info.parent_task_id is not None and info.parent_task_id in present:
            children.setdefault(info.parent_task_id, []).append(info)
        else:
            top.append(info)

    def group(info: TaskInfo) -> TaskGroup:
        kids = sorted(children.get(info.task_id, ()), key=_start_order)
        return TaskGroup(info, tuple(group(kid) for kid in kids))

    return [group(info) for info in sorted(top, key=_start_order)]


def _group_dict(group: TaskGroup, *, human: bool) -> dict[str, Any]:
    out = group.task_info.to_dict(human=human)
    if group.child_tasks:
        out["children"] = [_group_dict(child, human=human) for child in group.child_tasks]
    return out


def render_tasks_response(
    state: ClusterState, response: TasksResponse, *, group_by: str, human: bool
) -> dict[str, Any]:
    """A tasks action's response (list, cancel, rethrottle) as ES renders its `ListTasksResponse`."""
    return render_list_tasks(
        state,
        response.tasks_by_node,
        group_by=group_by,
        human=human,
        failures=response.node_failures,
        task_failures=[task_failure(f.task_id, f.node_id, f.error) for f in response.task_failures],
    )


def render_list_tasks(
    state: ClusterState,
    tasks_by_node: Mapping[str, Sequence[TaskInfo]],
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
    if group_by == GROUP_BY_PARENTS:
        all_tasks = [t for infos in tasks_by_node.values() for t in infos]
        body["tasks"] = {g.task_info.task_id: _group_dict(g, human=human) for g in task_groups(all_tasks)}
    else:
        body["tasks"] = [d for infos in tasks_by_node.values() for d in _task_dicts(infos, human=human)]
    return body


def render_item(outcome: ItemOutcome) -> dict[str, Any]:
    """One element of a bulk response's `items` (ES `BulkItemResponse#toXContent`)."""
    if outcome.error is not None:
        body: dict[str, Any] = {"_index": outcome.index, "_id": outcome.id, "status": outcome.status}
        body["error"] = outcome.error.to_dict()
        return {outcome.action: body}
    assert outcome.result is not None
    return {outcome.action: {**outcome.result, "status": outcome.status}}


def render_bulk_response(outcomes: Sequence[ItemOutcome], took_millis: int) -> dict[str, Any]:
    """ES `BulkResponse#toXContent`: `errors`, `took`, `items`."""
    return {
        "errors": any(o.error is not None for o in outcomes),
        "took": took_millis,
        "items": [render_item(o) for o in outcomes],
    }
