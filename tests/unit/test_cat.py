"""The `_cat` table engine (reference §16.2–§16.4), on the `_cat/tasks` columns and the rows of its examples."""

from __future__ import annotations

import json

import pytest

from node.errors import IllegalArgumentError, UnsupportedOperationError
from rest.cat import CAT_RESPONSE_PARAMS, CatTable, Cell, Column, Duration, render_cat
from rest.handlers.cat_tasks import TASKS_COLUMNS
from rest.params import Params

CAT_CLIENT_ACCEPT = "text/plain,application/vnd.elasticsearch+json; compatible-with=9"
TEXT_PLAIN = "text/plain; charset=UTF-8"

# The `_cat/tasks` columns (reference §16.2) exercise every feature of the engine; their exact list is asserted
# in test_cat_tasks.py.
TASK_COLUMNS = TASKS_COLUMNS


def task_row(
    task_id: str, parent: str, action: str, task_type: str, start: int, nanos: int, node: str
) -> dict[str, Cell]:
    return {
        "id": int(task_id.split(":")[1]),
        "action": action,
        "task_id": task_id,
        "parent_task_id": parent,
        "type": task_type,
        "start_time": start,
        "timestamp": "09:15:01",
        "running_time_ns": nanos,
        "running_time": Duration(nanos),
        "node_id": task_id[:4],
        "ip": "127.0.0.1",
        "port": 9300,
        "node": node,
        "version": "9.0.0",
        "x_opaque_id": "-",
    }


def reference_rows() -> list[dict[str, Cell]]:
    """The three rows of the reference §16.4 examples."""
    return [
        task_row(
            "Hr8xk7dCQoqBx3Vf2nW1aA:87",
            "-",
            "cluster:monitor/tasks/lists",
            "transport",
            1714641301123,
            512_300,
            "node-1",
        ),
        task_row(
            "Hr8xk7dCQoqBx3Vf2nW1aA:88",
            "Hr8xk7dCQoqBx3Vf2nW1aA:87",
            "cluster:monitor/tasks/lists[n]",
            "direct",
            1714641301124,
            98_700,
            "node-1",
        ),
        task_row(
            "pQ3sT1uVQeS0x9yZk2Lm4w:40",
            "Hr8xk7dCQoqBx3Vf2nW1aA:87",
            "cluster:monitor/tasks/lists[n]",
            "transport",
            1714641301125,
            77_700,
            "node-2",
        ),
    ]


def cat(accept: str | None = None, table: CatTable | None = None, **query: str) -> tuple[str, str]:
    body, content_type = render_cat(
        table or CatTable(TASK_COLUMNS, reference_rows()), Params(query, "/_cat/tasks"), accept
    )
    return body.decode(), content_type


def text(table: CatTable | None = None, **query: str) -> str:
    body, content_type = cat(None, table, **query)
    assert content_type == TEXT_PLAIN
    return body


# --- text ---------------------------------------------------------------------------------------------------------

REFERENCE_TEXT = (
    "action                         task_id                   parent_task_id            type      start_time    timestamp running_time ip        node\n"
    "cluster:monitor/tasks/lists    Hr8xk7dCQoqBx3Vf2nW1aA:87 -                         transport 1714641301123 09:15:01  512.3micros  127.0.0.1 node-1\n"
    "cluster:monitor/tasks/lists[n] Hr8xk7dCQoqBx3Vf2nW1aA:88 Hr8xk7dCQoqBx3Vf2nW1aA:87 direct    1714641301124 09:15:01  98.7micros   127.0.0.1 node-1\n"
    "cluster:monitor/tasks/lists[n] pQ3sT1uVQeS0x9yZk2Lm4w:40 Hr8xk7dCQoqBx3Vf2nW1aA:87 transport 1714641301125 09:15:01  77.7micros   127.0.0.1 node-2\n"
)  # fmt: skip


def test_verbose_text_matches_the_reference_example() -> None:
    assert text(v="true") == REFERENCE_TEXT


# Without `v` the headings do not count towards the widths: `timestamp` and `running_time` shrink to their cells.
REFERENCE_ROWS_TEXT = (
    "cluster:monitor/tasks/lists    Hr8xk7dCQoqBx3Vf2nW1aA:87 -                         transport 1714641301123 09:15:01 512.3micros 127.0.0.1 node-1\n"
    "cluster:monitor/tasks/lists[n] Hr8xk7dCQoqBx3Vf2nW1aA:88 Hr8xk7dCQoqBx3Vf2nW1aA:87 direct    1714641301124 09:15:01 98.7micros  127.0.0.1 node-1\n"
    "cluster:monitor/tasks/lists[n] pQ3sT1uVQeS0x9yZk2Lm4w:40 Hr8xk7dCQoqBx3Vf2nW1aA:87 transport 1714641301125 09:15:01 77.7micros  127.0.0.1 node-2\n"
)  # fmt: skip


def test_text_without_v_has_no_header_line() -> None:
    assert text() == REFERENCE_ROWS_TEXT


def test_bare_v_turns_the_header_on() -> None:
    assert text(v="") == REFERENCE_TEXT


def test_cat_client_accept_header_gives_text() -> None:
    assert cat(CAT_CLIENT_ACCEPT) == (REFERENCE_ROWS_TEXT, TEXT_PLAIN)


def test_empty_table_without_v_is_an_empty_body() -> None:
    assert text(CatTable(TASK_COLUMNS)) == ""


def test_empty_table_with_v_is_the_header_line() -> None:
    assert text(CatTable(TASK_COLUMNS), v="true", h="action,node") == "action node\n"


def test_null_cells_are_blank_and_padded() -> None:
    table = CatTable((Column("a"), Column("b")), [{"a": None, "b": "x"}, {"a": "long", "b": None}])
    assert text(table) == "     x\nlong \n"


def test_right_aligned_column_pads_on_the_left() -> None:
    columns = (Column("name"), Column("heap.percent", ("hp",), True, "used heap ratio", "right"))
    table = CatTable(columns, [{"name": "node-1", "heap.percent": 7}, {"name": "node-2", "heap.percent": 45}])
    assert text(table, v="true") == "name   heap.percent\nnode-1            7\nnode-2           45\n"


def test_padding_wraps_like_java_bytes_past_127() -> None:
    wide = CatTable((Column("a"), Column("b")), [{"a": "x" * 200, "b": "1"}, {"a": "y", "b": "2"}])
    assert text(wide) == "x" * 200 + " 1\n" + "y" + " 2\n"  # a shortfall of 199 is the byte -57
    wider = CatTable((Column("a"), Column("b")), [{"a": "x" * 300, "b": "1"}, {"a": "y", "b": "2"}])
    assert text(wider) == "x" * 300 + " 1\n" + "y" + " " * 43 + " 2\n"  # 299 is the byte 43


def test_malformed_v_is_rejected() -> None:
    with pytest.raises(IllegalArgumentError) as failure:
        text(v="yes")
    assert failure.value.reason == "Failed to parse value [yes] as only [true] or [false] are allowed."


# --- h ------------------------------------------------------------------------------------------------------------


def test_h_selects_columns_in_the_order_given() -> None:
    assert text(h="node,action", v="true").splitlines()[:2] == ["node   action", "node-1 cluster:monitor/tasks/lists"]


def test_h_alias_is_used_as_the_heading() -> None:
    assert text(h="ti,n", v="true").splitlines()[0] == "ti                        n"


def test_h_shared_alias_resolves_to_the_last_column() -> None:
    assert text(h="time", v="true").splitlines() == ["time", "512.3micros", "98.7micros", "77.7micros"]


def test_h_shows_non_default_columns() -> None:
    assert text(h="id,port,node_id").splitlines()[0] == "87 9300 Hr8x"


def test_h_wildcard_expands_over_names_and_aliases_in_table_order() -> None:
    assert text(h="*time*", v="true").splitlines()[0] == "start_time    timestamp running_time_ns running_time"


def test_h_wildcard_matching_an_alias_shows_the_column_name() -> None:
    assert text(h="hh*", v="true").splitlines()[0] == "timestamp"


def test_h_ignores_unknown_names() -> None:
    assert text(h="nope,node,zzz", v="true").splitlines()[0] == "node"


def test_h_drops_duplicates() -> None:
    assert text(h="node,node,node*", v="true").splitlines()[0] == "node   node_id"


def test_h_is_not_trimmed() -> None:
    assert text(h="node, ip", v="true").splitlines()[0] == "node"


def test_empty_h_shows_no_column() -> None:
    assert text(h="") == "\n\n\n"


def test_ts_false_hides_the_timestamp_column() -> None:
    assert text(ts="false", h="start_time,timestamp,node", v="true").splitlines()[0] == "start_time    node"


def test_ts_false_hides_the_default_timestamp_column() -> None:
    assert "timestamp" not in text(ts="false", v="true").splitlines()[0]


# --- time ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "cells"), [("nanos", ["512300"]), ("micros", ["512"]), ("ms", ["0"])])
def test_time_renders_durations_as_integers_in_that_unit(unit: str, cells: list[str]) -> None:
    assert text(time=unit, h="running_time", s="start_time:desc").splitlines()[-1:] == cells


def test_unknown_time_unit_keeps_human_text() -> None:
    assert text(time="weeks", h="running_time").splitlines()[0] == "512.3micros"


# --- s ------------------------------------------------------------------------------------------------------------


def column_values(body: str) -> list[str]:
    return [line.rstrip() for line in body.splitlines()]


def test_sort_ascending_by_name() -> None:
    assert column_values(text(h="running_time", s="running_time")) == ["77.7micros", "98.7micros", "512.3micros"]


def test_sort_descending_by_alias() -> None:
    assert column_values(text(h="start_time", s="start:desc")) == ["1714641301125", "1714641301124", "1714641301123"]


def test_sort_is_stable_and_uses_keys_in_order() -> None:
    assert column_values(text(h="node,task_id", s="node:desc")) == [
        "node-2 pQ3sT1uVQeS0x9yZk2Lm4w:40",
        "node-1 Hr8xk7dCQoqBx3Vf2nW1aA:87",
        "node-1 Hr8xk7dCQoqBx3Vf2nW1aA:88",
    ]


def test_sort_compares_same_types_natively() -> None:
    table = CatTable((Column("n"),), [{"n": 10}, {"n": 9}, {"n": 100}])
    assert column_values(text(table, s="n")) == ["9", "10", "100"]


def test_sort_compares_mixed_types_as_text() -> None:
    table = CatTable((Column("n"),), [{"n": 10}, {"n": "9"}, {"n": 100}])
    assert column_values(text(table, s="n")) == ["10", "100", "9"]


def test_sort_puts_nulls_first_ascending_and_last_descending() -> None:
    table = CatTable((Column("n"), Column("k")), [{"n": 1, "k": "a"}, {"k": "b"}, {"n": 0, "k": "c"}])
    assert column_values(text(table, s="n", h="k")) == ["b", "c", "a"]
    assert column_values(text(table, s="n:desc", h="k")) == ["a", "c", "b"]


def test_sort_by_shared_alias_uses_the_last_column() -> None:
    assert column_values(text(h="id", s="time")) == ["40", "88", "87"]


def test_unknown_sort_key_is_a_500() -> None:
    with pytest.raises(UnsupportedOperationError) as failure:
        text(s="node,nope:desc")
    assert failure.value.reason == "Unable to sort by unknown sort key `nope`"
    assert (failure.value.status, failure.value.es_type) == (500, "unsupported_operation_exception")


# --- JSON and YAML ------------------------------------------------------------------------------------------------

REFERENCE_JSON = (
    '[{"action":"cluster:monitor/tasks/lists","task_id":"Hr8xk7dCQoqBx3Vf2nW1aA:87","parent_task_id":"-",'
    '"type":"transport","start_time":"1714641301123","timestamp":"09:15:01","running_time":"512.3micros",'
    '"ip":"127.0.0.1","node":"node-1"},'
    '{"action":"cluster:monitor/tasks/lists[n]","task_id":"Hr8xk7dCQoqBx3Vf2nW1aA:88",'
    '"parent_task_id":"Hr8xk7dCQoqBx3Vf2nW1aA:87","type":"direct","start_time":"1714641301124",'
    '"timestamp":"09:15:01","running_time":"98.7micros","ip":"127.0.0.1","node":"node-1"},'
    '{"action":"cluster:monitor/tasks/lists[n]","task_id":"pQ3sT1uVQeS0x9yZk2Lm4w:40",'
    '"parent_task_id":"Hr8xk7dCQoqBx3Vf2nW1aA:87","type":"transport","start_time":"1714641301125",'
    '"timestamp":"09:15:01","running_time":"77.7micros","ip":"127.0.0.1","node":"node-2"}]'
)


def test_format_json_matches_the_reference_example() -> None:
    assert cat(format="json") == (REFERENCE_JSON, "application/json")


def test_json_accept_gives_json() -> None:
    assert cat("application/json") == (REFERENCE_JSON, "application/json")


def test_compatible_json_accept_gives_vendor_json() -> None:
    body, content_type = cat("application/vnd.elasticsearch+json; compatible-with=9")
    assert (body, content_type) == (REFERENCE_JSON, "application/vnd.elasticsearch+json;compatible-with=9")


def test_json_values_are_strings_or_null() -> None:
    table = CatTable((Column("n"), Column("f"), Column("b"), Column("missing")), [{"n": 45, "f": 1e-8, "b": True}])
    assert cat(format="json", table=table)[0] == '[{"n":"45","f":"1.0E-8","b":"true","missing":null}]'


def test_json_keys_are_the_requested_headings() -> None:
    assert json.loads(cat(format="json", h="ti,time")[0])[0] == {
        "ti": "Hr8xk7dCQoqBx3Vf2nW1aA:87",
        "time": "512.3micros",
    }


def test_json_honours_time_and_sort() -> None:
    rows = json.loads(cat(format="json", h="running_time", time="nanos", s="running_time:desc")[0])
    assert rows == [{"running_time": "512300"}, {"running_time": "98700"}, {"running_time": "77700"}]


def test_json_honours_pretty() -> None:
    table = CatTable((Column("a"),), [{"a": 1}])
    assert cat(format="json", pretty="", table=table)[0] == '[\n  {\n    "a" : "1"\n  }\n]\n'


def test_json_honours_filter_path() -> None:
    assert cat(format="json", filter_path="node")[0] == '[{"node":"node-1"},{"node":"node-1"},{"node":"node-2"}]'


def test_empty_table_in_json_is_an_empty_array() -> None:
    assert cat(format="json", table=CatTable(TASK_COLUMNS)) == ("[]", "application/json")


def test_format_yaml_gives_a_yaml_list() -> None:
    body, content_type = cat(format="yaml", h="task_id,node", s="node:desc")
    assert content_type == "application/yaml"
    assert body == (
        "---\n"
        '- task_id: "pQ3sT1uVQeS0x9yZk2Lm4w:40"\n'
        '  node: "node-2"\n'
        '- task_id: "Hr8xk7dCQoqBx3Vf2nW1aA:87"\n'
        '  node: "node-1"\n'
        '- task_id: "Hr8xk7dCQoqBx3Vf2nW1aA:88"\n'
        '  node: "node-1"\n'
    )


def test_unknown_format_is_text_even_with_a_json_accept() -> None:
    assert cat("application/json", format="txt")[1] == TEXT_PLAIN


# --- help ---------------------------------------------------------------------------------------------------------

REFERENCE_HELP = (
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


def test_help_lists_every_column_with_padded_cells() -> None:
    assert cat(help="true") == (REFERENCE_HELP, TEXT_PLAIN)


def test_help_is_text_whatever_the_format() -> None:
    assert cat("application/json", format="json", help="") == (REFERENCE_HELP, TEXT_PLAIN)


def test_help_says_when_a_column_has_no_description() -> None:
    assert cat(help="true", table=CatTable((Column("a", ("b",)),)))[0] == "a | b | not available\n"


# --- parameters ---------------------------------------------------------------------------------------------------


def test_cat_parameters_are_response_parameters() -> None:
    Params({"v": "", "h": "node", "s": "node", "time": "ms", "bytes": "b"}, "/_cat/tasks").check_unrecognized(
        CAT_RESPONSE_PARAMS
    )


def test_render_consumes_the_cat_parameters() -> None:
    query = {name: "" for name in ("v", "h", "s", "ts", "time", "bytes", "size", "pri", "help")}
    query["format"] = "txt"
    params = Params(query, "/_cat/tasks")
    render_cat(CatTable(TASK_COLUMNS), params, None)
    params.check_unrecognized()
