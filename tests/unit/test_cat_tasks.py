"""The `_cat/tasks` table (reference §16): columns, rows, row order, and its rendering by the cat engine."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from node.cluster.state import ClusterState, DiscoveryNode
from node.tasks.task import TaskInfo
from rest.cat import CatTable, render_cat
from rest.handlers.cat_tasks import build_tasks_table, task_groups, tasks_columns
from rest.params import Params

LIST = "cluster:monitor/tasks/lists"
LIST_N = "cluster:monitor/tasks/lists[n]"
ID_1 = "Hr8xk7dCQoqBx3Vf2nW1aA"
ID_2 = "pQ3sT1uVQeS0x9yZk2Lm4w"
START = 1714641301123  # 2024-05-02T09:15:01.123Z

NODE_1 = DiscoveryNode(
    id=ID_1, name="node-1", ephemeral_id="e1", host="127.0.0.1", transport_address="127.0.0.1:9300",
    http_address="127.0.0.1:9200", roles=("master", "data", "ingest"), version="9.1.0",
)  # fmt: skip
NODE_2 = DiscoveryNode(
    id=ID_2, name="node-2", ephemeral_id="e2", host="127.0.0.1", transport_address="127.0.0.1:9301",
    http_address="127.0.0.1:9201", roles=("data", "ingest"), version="9.1.0",
)  # fmt: skip
STATE = ClusterState(cluster_name="c", nodes=MappingProxyType({ID_1: NODE_1, ID_2: NODE_2}))


def info(
    node: str,
    id: int,
    action: str = "indices:data/read/search",
    *,
    parent: str | None = None,
    start: int = START,
    nanos: int = 1000,
    type: str = "transport",
    description: str | None = None,
    headers: dict[str, str] | None = None,
) -> TaskInfo:
    return TaskInfo(
        node=node, id=id, type=type, action=action, status=None, description=description,
        start_time_in_millis=start, running_time_in_nanos=nanos, cancellable=True, cancelled=False,
        parent_task_id=parent, headers=headers or {},
    )  # fmt: skip


# The list request of the reference §16.4 examples, given out of order as results from two nodes may arrive.
REFERENCE_TASKS = [
    info(ID_2, 40, LIST_N, parent=f"{ID_1}:87", start=START + 2, nanos=77_700),
    info(ID_1, 88, LIST_N, parent=f"{ID_1}:87", start=START + 1, nanos=98_700, type="direct"),
    info(ID_1, 87, LIST, start=START, nanos=512_300),
]


def cat(tasks: list[TaskInfo], *, detailed: bool = False, state: ClusterState = STATE, **query: str) -> str:
    table = build_tasks_table(tasks, state, detailed=detailed)
    body, _ = render_cat(table, Params(query, "/_cat/tasks"), None)
    return body.decode()


def column(body: str, index: int = 0) -> list[str]:
    return [line.split()[index] for line in body.splitlines()]


# --- the reference examples ---------------------------------------------------------------------------------------


def test_verbose_text_matches_the_reference_example_byte_for_byte() -> None:
    assert cat(REFERENCE_TASKS, v="true") == (
        "action                         task_id                   parent_task_id            type      start_time    timestamp running_time ip        node\n"
        "cluster:monitor/tasks/lists    Hr8xk7dCQoqBx3Vf2nW1aA:87 -                         transport 1714641301123 09:15:01  512.3micros  127.0.0.1 node-1\n"
        "cluster:monitor/tasks/lists[n] Hr8xk7dCQoqBx3Vf2nW1aA:88 Hr8xk7dCQoqBx3Vf2nW1aA:87 direct    1714641301124 09:15:01  98.7micros   127.0.0.1 node-1\n"
        "cluster:monitor/tasks/lists[n] pQ3sT1uVQeS0x9yZk2Lm4w:40 Hr8xk7dCQoqBx3Vf2nW1aA:87 transport 1714641301125 09:15:01  77.7micros   127.0.0.1 node-2\n"
    )  # fmt: skip


def test_text_without_v_is_the_rows_only() -> None:
    assert cat(REFERENCE_TASKS) == (
        "cluster:monitor/tasks/lists    Hr8xk7dCQoqBx3Vf2nW1aA:87 -                         transport 1714641301123 09:15:01 512.3micros 127.0.0.1 node-1\n"
        "cluster:monitor/tasks/lists[n] Hr8xk7dCQoqBx3Vf2nW1aA:88 Hr8xk7dCQoqBx3Vf2nW1aA:87 direct    1714641301124 09:15:01 98.7micros  127.0.0.1 node-1\n"
        "cluster:monitor/tasks/lists[n] pQ3sT1uVQeS0x9yZk2Lm4w:40 Hr8xk7dCQoqBx3Vf2nW1aA:87 transport 1714641301125 09:15:01 77.7micros  127.0.0.1 node-2\n"
    )  # fmt: skip


def test_format_json_matches_the_reference_example() -> None:
    assert json.loads(cat(REFERENCE_TASKS, format="json")) == [
        {"action": LIST, "task_id": f"{ID_1}:87", "parent_task_id": "-", "type": "transport",
         "start_time": "1714641301123", "timestamp": "09:15:01", "running_time": "512.3micros",
         "ip": "127.0.0.1", "node": "node-1"},
        {"action": LIST_N, "task_id": f"{ID_1}:88", "parent_task_id": f"{ID_1}:87", "type": "direct",
         "start_time": "1714641301124", "timestamp": "09:15:01", "running_time": "98.7micros",
         "ip": "127.0.0.1", "node": "node-1"},
        {"action": LIST_N, "task_id": f"{ID_2}:40", "parent_task_id": f"{ID_1}:87", "type": "transport",
         "start_time": "1714641301125", "timestamp": "09:15:01", "running_time": "77.7micros",
         "ip": "127.0.0.1", "node": "node-2"},
    ]  # fmt: skip


def test_json_keys_follow_the_default_column_order() -> None:
    (row,) = json.loads(cat(REFERENCE_TASKS[2:], format="json"))
    assert list(row) == [
        "action", "task_id", "parent_task_id", "type", "start_time", "timestamp", "running_time", "ip", "node",
    ]  # fmt: skip


# --- columns ------------------------------------------------------------------------------------------------------


def test_columns_are_those_of_es_in_table_order() -> None:
    assert [(c.name, c.aliases, c.default, c.description) for c in tasks_columns(detailed=False)] == [
        ("id", (), False, "id of the task with the node"),
        ("action", ("ac",), True, "task action"),
        ("task_id", ("ti",), True, "unique task id"),
        ("parent_task_id", ("pti",), True, "parent task id"),
        ("type", ("ty",), True, "task type"),
        ("start_time", ("start",), True, "start time in ms"),
        ("timestamp", ("ts", "hms", "hhmmss"), True, "start time in HH:MM:SS"),
        ("running_time_ns", ("time",), False, "running time ns"),
        ("running_time", ("time",), True, "running time"),
        ("node_id", ("ni",), False, "unique node id"),
        ("ip", ("i",), True, "ip address"),
        ("port", ("po",), False, "bound transport port"),
        ("node", ("n",), True, "node name"),
        ("version", ("v",), False, "es version"),
        ("x_opaque_id", ("x",), False, "X-Opaque-ID header"),
    ]


def test_every_column_is_left_aligned_as_in_es() -> None:
    assert {c.text_align for c in tasks_columns(detailed=True)} == {"left"}


def test_detailed_adds_a_default_description_column_last() -> None:
    columns = tasks_columns(detailed=True)
    assert columns[:-1] == tasks_columns(detailed=False)
    description = columns[-1]
    assert (description.name, description.aliases, description.default) == ("description", ("desc",), True)
    assert description.description == "task action"


def test_without_detailed_there_is_no_description_column_even_on_request() -> None:
    assert cat(REFERENCE_TASKS[2:], h="description,desc") == "\n"  # the one row, with no column


def test_detailed_rows_end_with_the_description() -> None:
    tasks = [info(ID_1, 87, LIST, description="reindex from [a] to [b]")]
    assert cat(tasks, detailed=True, h="task_id,description") == f"{ID_1}:87 reindex from [a] to [b]\n"


def test_detailed_empty_description_is_an_empty_last_cell() -> None:
    body = cat([info(ID_1, 87, LIST, description="")], detailed=True, h="node,desc", v="true")
    assert body == "node   desc\nnode-1 \n"


def test_detailed_json_has_the_description() -> None:
    tasks = [info(ID_1, 87, LIST, description="requests[1], indices[a]")]
    assert json.loads(cat(tasks, detailed=True, format="json", h="desc")) == [{"desc": "requests[1], indices[a]"}]


def test_all_columns_of_a_row() -> None:
    task = info(ID_2, 40, LIST_N, parent=f"{ID_1}:87", nanos=1_500_000_000, headers={"X-Opaque-Id": "job-42"})
    (row,) = json.loads(cat([task], format="json", h="*"))
    assert row == {
        "id": "40", "action": LIST_N, "task_id": f"{ID_2}:40", "parent_task_id": f"{ID_1}:87", "type": "transport",
        "start_time": "1714641301123", "timestamp": "09:15:01", "running_time_ns": "1500000000",
        "running_time": "1.5s", "node_id": "pQ3s", "ip": "127.0.0.1", "port": "9301", "node": "node-2",
        "version": "9.1.0", "x_opaque_id": "job-42",
    }  # fmt: skip


def test_node_id_is_the_first_four_characters() -> None:
    assert cat(REFERENCE_TASKS, h="node_id") == "Hr8x\nHr8x\npQ3s\n"


def test_a_node_id_shorter_than_four_characters_is_kept_whole() -> None:
    assert cat([info("ab", 1)], h="ni") == "ab\n"


def test_ip_has_no_port_and_port_is_the_transport_port() -> None:
    assert cat(REFERENCE_TASKS, h="ip,port", s="port") == "127.0.0.1 9300\n127.0.0.1 9300\n127.0.0.1 9301\n"


def test_a_departed_node_shows_dashes_for_every_node_column() -> None:
    body = cat([info("Zz9departedNodeId00000", 3)], h="node_id,ip,port,node,version")
    assert body == "Zz9d - - - -\n"


def test_x_opaque_id_is_the_task_header_or_a_dash() -> None:
    tasks = [info(ID_1, 1, start=START), info(ID_1, 2, start=START + 1, headers={"X-Opaque-Id": "TestID"})]
    assert cat(tasks, h="id,x_opaque_id") == "1 -\n2 TestID\n"


def test_timestamp_is_the_utc_wall_clock_of_the_start() -> None:
    assert cat([info(ID_1, 1, start=86_399_999)], h="start_time,timestamp") == "86399999 23:59:59\n"


def test_numeric_cells_sort_as_numbers() -> None:
    tasks = [info(ID_1, 10, start=START), info(ID_1, 9, start=START + 1)]
    assert column(cat(tasks, h="id", s="id")) == ["9", "10"]


# --- row order ----------------------------------------------------------------------------------------------------


def test_rows_are_grouped_by_parent_depth_first_by_start_time() -> None:
    tasks = [
        info(ID_2, 7, parent=f"{ID_1}:2", start=START + 6),
        info(ID_1, 3, parent=f"{ID_1}:1", start=START + 5),
        info(ID_1, 4, start=START + 1),
        info(ID_1, 2, parent=f"{ID_1}:1", start=START + 2),
        info(ID_2, 6, parent=f"{ID_1}:2", start=START + 3),
        info(ID_1, 1, start=START),
    ]
    assert cat(tasks, h="ti,pti") == (
        f"{ID_1}:1 -\n"
        f"{ID_1}:2 {ID_1}:1\n"
        f"{ID_2}:6 {ID_1}:2\n"
        f"{ID_2}:7 {ID_1}:2\n"
        f"{ID_1}:3 {ID_1}:1\n"
        f"{ID_1}:4 -\n"
    )  # fmt: skip


def test_a_task_whose_parent_is_not_listed_is_a_top_level_group() -> None:
    tasks = [
        info(ID_1, 1, start=START + 1),
        info(ID_2, 9, parent="gone:5", start=START),
        info(ID_2, 10, parent=f"{ID_2}:9", start=START + 2),
    ]
    assert column(cat(tasks, h="ti")) == [f"{ID_2}:9", f"{ID_2}:10", f"{ID_1}:1"]


def test_start_time_ties_order_by_node_then_id() -> None:
    tasks = [info(ID_2, 1), info(ID_1, 12), info(ID_1, 3)]
    assert column(cat(tasks, h="ti")) == [f"{ID_1}:3", f"{ID_1}:12", f"{ID_2}:1"]


def test_task_groups_nest_children_under_listed_parents() -> None:
    (group,) = task_groups(REFERENCE_TASKS)
    assert group.task_info.id == 87
    assert [child.task_info.id for child in group.child_tasks] == [88, 40]
    assert all(child.child_tasks == () for child in group.child_tasks)


def test_s_resorts_the_grouped_rows_stably() -> None:
    # Grouped order is 87, 88, 40; a stable sort by node keeps 87 before 88.
    assert column(cat(REFERENCE_TASKS, h="id", s="node:desc")) == ["40", "87", "88"]


def test_s_by_running_time_compares_durations() -> None:
    assert column(cat(REFERENCE_TASKS, h="id,time", s="running_time")) == ["40", "88", "87"]


def test_empty_result_is_an_empty_body_or_just_the_header() -> None:
    assert cat([]) == ""
    assert cat([], v="true") == "action task_id parent_task_id type start_time timestamp running_time ip node\n"


# --- cat parameters on this table ---------------------------------------------------------------------------------


def test_aliases_select_columns_and_head_them() -> None:
    body = cat(REFERENCE_TASKS[2:], h="ac,ti,pti,ty,start,hms,ni,i,po,n,v,x", v="true")
    assert body.splitlines() == [
        "ac                          ti                        pti ty        start         hms      ni   i         po   n      v     x",
        "cluster:monitor/tasks/lists Hr8xk7dCQoqBx3Vf2nW1aA:87 -   transport 1714641301123 09:15:01 Hr8x 127.0.0.1 9300 node-1 9.1.0 -",
    ]  # fmt: skip


def test_h_time_shows_running_time_headed_time() -> None:
    assert cat(REFERENCE_TASKS, h="time", v="true") == "time\n512.3micros\n98.7micros\n77.7micros\n"


def test_running_time_ns_is_the_integer_nanoseconds() -> None:
    assert cat(REFERENCE_TASKS, h="running_time_ns") == "512300\n98700\n77700\n"


def test_ts_false_hides_the_timestamp_column() -> None:
    assert "timestamp" not in cat(REFERENCE_TASKS, v="true", ts="false").splitlines()[0].split()
    assert cat(REFERENCE_TASKS[2:], h="start,ts,hms", ts="false") == "1714641301123\n"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("ms", "1500\n"), ("s", "1\n"), ("micros", "1500000\n"), ("nanos", "1500000000\n"), ("m", "0\n")],
)
def test_time_renders_running_time_in_that_unit(unit: str, expected: str) -> None:
    assert cat([info(ID_1, 1, nanos=1_500_000_000)], h="running_time", time=unit) == expected


def test_time_does_not_change_running_time_ns() -> None:
    assert cat([info(ID_1, 1, nanos=1_500_000_000)], h="running_time_ns", time="ms") == "1500000000\n"


def test_unknown_h_names_are_ignored() -> None:
    assert cat(REFERENCE_TASKS[2:], h="nope,id,full_id") == "87\n"


def test_yaml_rows() -> None:
    body, content_type = render_cat(
        build_tasks_table(REFERENCE_TASKS[2:], STATE, detailed=False),
        Params({"format": "yaml", "h": "ti,node"}, "/"),
        None,
    )
    assert (body.decode(), content_type) == (f'---\n- ti: "{ID_1}:87"\n  node: "node-1"\n', "application/yaml")


# --- help ---------------------------------------------------------------------------------------------------------

HELP = (
    "id              |               | id of the task with the node\n"
    "action          | ac            | task action                 \n"
    "task_id         | ti            | unique task id              \n"
    "parent_task_id  | pti           | parent task id              \n"
    "type            | ty            | task type                   \n"
    "start_time      | start         | start time in ms            \n"
    "timestamp       | ts,hms,hhmmss | start time in HH:MM:SS      \n"
    "running_time_ns | time          | running time ns             \n"
    "running_time    | time          | running time                \n"
    "node_id         | ni            | unique node id              \n"
    "ip              | i             | ip address                  \n"
    "port            | po            | bound transport port        \n"
    "node            | n             | node name                   \n"
    "version         | v             | es version                  \n"
    "x_opaque_id     | x             | X-Opaque-ID header          \n"
)


def help_text(*, detailed: bool) -> str:
    body, content_type = render_cat(CatTable(tasks_columns(detailed=detailed)), Params({"help": ""}, "/"), None)
    assert content_type == "text/plain; charset=UTF-8"
    return body.decode()


def test_help_lists_every_column() -> None:
    assert help_text(detailed=False) == HELP


def test_help_when_detailed_lists_the_description_column_too() -> None:
    assert help_text(detailed=True) == HELP + "description     | desc          | task action                 \n"
