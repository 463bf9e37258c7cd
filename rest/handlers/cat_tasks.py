"""`GET /_cat/tasks` (reference §16; mirrors ES `RestTasksAction`, the cat view of a list-tasks request).

The handler runs the same `cluster:monitor/tasks/lists` fan-out as `GET /_tasks`, so the table always shows the
request's own list task and its `[n]` children unless `nodes` or `actions` filter them out. `node_failures` are
dropped, as ES's table has no place for them. Everything a cat parameter does (`h`, `s`, `v`, `ts`, `time`,
`format`, `help`) is the generic engine's, `rest.cat.cat_response`; this module only says which columns there are and
which rows, in which order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from aiohttp import web

from node.actions.list_tasks import ListTasksAction
from node.cluster.state import ClusterState
from node.human import format_hms
from node.tasks.task import TaskInfo
from rest.app_keys import cluster_state, rest_client, rest_request
from rest.cat import CAT_RESPONSE_PARAMS, CatTable, Cell, Column, Duration, cat_response
from rest.handlers.tasks import parse_list_tasks_request
from rest.render import TaskGroup, task_groups

__all__ = ["TASKS_COLUMNS", "build_tasks_table", "cat_tasks", "tasks_columns"]

# ES `RestTasksAction#getTableWithHeader`, in table order. No column carries `text-align:right` there, so every
# column, numeric ones included, is left-aligned. `running_time_ns` and `running_time` share the alias `time`; the
# engine resolves a shared alias to the last column, so `h=time` shows `running_time`.
TASKS_COLUMNS: tuple[Column, ...] = (
    Column("id", (), False, "id of the task with the node"),
    Column("action", ("ac",), True, "task action"),
    Column("task_id", ("ti",), True, "unique task id"),
    Column("parent_task_id", ("pti",), True, "parent task id"),
    Column("type", ("ty",), True, "task type"),
    Column("start_time", ("start",), True, "start time in ms"),
    Column("timestamp", ("ts", "hms", "hhmmss"), True, "start time in HH:MM:SS"),
    Column("running_time_ns", ("time",), False, "running time ns"),
    Column("running_time", ("time",), True, "running time"),
    Column("node_id", ("ni",), False, "unique node id"),
    Column("ip", ("i",), True, "ip address"),
    Column("port", ("po",), False, "bound transport port"),
    Column("node", ("n",), True, "node name"),
    Column("version", ("v",), False, "es version"),
    Column("x_opaque_id", ("x",), False, "X-Opaque-ID header"),
)
# Only a detailed table has it; ES describes it as "task action", a copy-paste slip kept for fidelity.
_DESCRIPTION_COLUMN = Column("description", ("desc",), True, "task action")

# ES `RestTasksAction#buildRow` prints `Strings.substring(nodeId, 0, 4)` unless `full_id`, which it reads too late
# to be accepted (reference §8.1), so the short form is the only one.
_SHORT_NODE_ID_LENGTH = 4
_MISSING = "-"


def tasks_columns(*, detailed: bool) -> tuple[Column, ...]:
    """The header of the table, ES `RestTasksAction#getTableWithHeader`: `description` only when detailed."""
    return (*TASKS_COLUMNS, _DESCRIPTION_COLUMN) if detailed else TASKS_COLUMNS


def _depth_first(groups: Sequence[TaskGroup]) -> Iterator[TaskInfo]:
    """ES `RestTasksAction#buildGroups`: each parent row, then its children's rows, recursively."""
    for group in groups:
        yield group.task_info
        yield from _depth_first(group.child_tasks)


def _row(info: TaskInfo, state: ClusterState, *, detailed: bool) -> dict[str, Cell]:
    """One row, ES `RestTasksAction#buildRow`.

    The node columns come from the cluster state read after the list completed, so a node that left in between
    shows `-` in each of them (ES dereferences it for `port` and would fail; reference §16.2 asks for `-`).
    """
    node = state.nodes.get(info.node)
    row: dict[str, Cell] = {
        "id": info.id,
        "action": info.action,
        "task_id": info.task_id,
        "parent_task_id": info.parent_task_id if info.parent_task_id is not None else _MISSING,
        "type": info.type,
        "start_time": info.start_time_in_millis,
        "timestamp": format_hms(info.start_time_in_millis),
        "running_time_ns": info.running_time_in_nanos,
        "running_time": Duration(info.running_time_in_nanos),
        "node_id": info.node[:_SHORT_NODE_ID_LENGTH],
        "ip": node.ip if node is not None else _MISSING,
        "port": node.transport_port if node is not None else _MISSING,
        "node": node.name if node is not None else _MISSING,
        "version": node.version if node is not None else _MISSING,
        "x_opaque_id": info.headers.get("X-Opaque-Id", _MISSING),
    }
    if detailed:
        row["description"] = info.description
    return row


def build_tasks_table(result_tasks: list[TaskInfo], state: ClusterState, *, detailed: bool) -> CatTable:
    """The `_cat/tasks` table of a list result, rows in ES's parent-grouped order (reference §16.3).

    Args:
        result_tasks: every TaskInfo of the list result, from all nodes, in any order.
        state: the cluster state to read node names, addresses and versions from.
        detailed: whether the request was detailed, which adds the `description` column.
    """
    rows = [_row(info, state, detailed=detailed) for info in _depth_first(task_groups(result_tasks))]
    return CatTable(columns=tasks_columns(detailed=detailed), rows=rows)


async def cat_tasks(request: web.Request) -> web.Response:
    """`GET /_cat/tasks`: parse → list tasks inside a registered REST task → render the table.

    As in ES `AbstractCatAction#prepareRequest`, `help` is read first and then none of the list-request parameters,
    so they are unrecognized next to it; `detailed` is an ES cat response parameter of this action and still shapes
    the help listing. `full_id` is never read before the unrecognized-parameter check, so it is rejected (§8.1).
    """
    params = rest_request(request).params
    if params.bool("help", False):
        detailed = params.bool("detailed", False)
        params.check_unrecognized(CAT_RESPONSE_PARAMS)
        return cat_response(CatTable(columns=tasks_columns(detailed=detailed)), params, request.headers.get("Accept"))
    list_request = parse_list_tasks_request(params)
    params.check_unrecognized(CAT_RESPONSE_PARAMS)
    result = await rest_client(request).execute(ListTasksAction, list_request)
    table = build_tasks_table(result.all_tasks(), cluster_state(request), detailed=list_request.detailed)
    return cat_response(table, params, request.headers.get("Accept"))
