"""`GET /_cat/tasks` against three real node processes (reference §16, §8.1, §19.4 `cat.tasks/10_basic.yml`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call
from tests.support.nodes import node_id

pytestmark = pytest.mark.e2e

LIST = "cluster:monitor/tasks/lists"
LIST_N = "cluster:monitor/tasks/lists[n]"
NAMES = ("node-1", "node-2", "node-3")
TEXT_PLAIN = "text/plain; charset=UTF-8"
DEFAULT_HEADINGS = [
    "action",
    "task_id",
    "parent_task_id",
    "type",
    "start_time",
    "timestamp",
    "running_time",
    "ip",
    "node",
]

# The `$body` regexes of `cat.tasks/10_basic.yml`. The YAML runner compiles them with Java's `Pattern.COMMENTS`, whose
# Python twin is `re.VERBOSE`: the spaces only separate the columns for the reader.
YAML_TEST_BODY = re.compile(
    r"^( \S+\s+ \S+\:\d+\s+ (?:\-|\S+\:\d+)\s+ \S+\s+ \d+\s+ \d\d\:\d\d\:\d\d\s+ \S+\s+"
    r" \d{1,3}.\d{1,3}.\d{1,3}.\d{1,3}\s+ \S+\n)+$",
    re.VERBOSE,
)
YAML_TEST_DETAILED_BODY = re.compile(
    r"^( \S+\s+ \S+\:\d+\s+ (?:\-|\S+\:\d+)\s+ \S+\s+ \d+\s+ \d\d\:\d\d\:\d\d\s+ \S+\s+"
    r" \d{1,3}.\d{1,3}.\d{1,3}.\d{1,3}\s+ \S+ .*\n)+$",
    re.VERBOSE,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    home = tmp_path_factory.mktemp("cat-tasks")
    c = LocalCluster(Path(home), 3, http_port=0, transport_port=0)
    try:
        c.start()
        c.wait_until_formed(timeout=30)
        yield c
    finally:
        c.stop()


def get(cluster: LocalCluster, path: str, name: str = "node-1", **kwargs: object) -> Response:
    record = cluster.node(name)
    assert record.http_url is not None
    return call(record.http_url, "GET", path, **kwargs)  # type: ignore[arg-type]


def unrecognized(path: str, reason: str) -> str:
    """The exact body of ES's unrecognized-parameter error (reference §8.1)."""
    cause = f'{{"type":"illegal_argument_exception","reason":"request [{path}] contains unrecognized {reason}"}}'
    return f'{{"error":{{"root_cause":[{cause}],{cause[1:-1]}}},"status":400}}'


# ---- the YAML REST test ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("coordinator", NAMES)
def test_default_output_matches_the_yaml_test(cluster: LocalCluster, coordinator: str) -> None:
    response = get(cluster, "/_cat/tasks", coordinator)
    assert (response.status, response.headers["Content-Type"]) == (200, TEXT_PLAIN)
    assert YAML_TEST_BODY.match(response.text), response.text


def test_detailed_output_matches_the_yaml_test(cluster: LocalCluster) -> None:
    response = get(cluster, "/_cat/tasks?detailed=true")
    assert response.status == 200
    assert YAML_TEST_DETAILED_BODY.match(response.text), response.text
    assert not YAML_TEST_BODY.match(response.text), "the description column is missing"


def test_x_opaque_id_column_shows_the_request_header(cluster: LocalCluster) -> None:
    response = get(cluster, "/_cat/tasks?h=action,x_opaque_id", headers={"X-Opaque-Id": "TestID"})
    assert response.status == 200
    assert "TestID" in response.text
    rows = [line.split() for line in response.text.splitlines()]
    assert [LIST, "TestID"] in rows
    assert rows.count([LIST_N, "TestID"]) == 3  # the header travels to every `[n]` task


# ---- the rows and their layout -----------------------------------------------------------------------------------


def test_v_adds_the_default_headings_line(cluster: LocalCluster) -> None:
    lines = get(cluster, "/_cat/tasks?v").text.splitlines()
    assert lines[0].split() == DEFAULT_HEADINGS
    assert not [line for line in lines if line.endswith(" ")], "the last column is never padded"


def test_v_with_detailed_adds_the_description_heading(cluster: LocalCluster) -> None:
    heading = get(cluster, "/_cat/tasks?v&detailed").text.splitlines()[0]
    assert heading.split() == [*DEFAULT_HEADINGS, "description"]


def test_json_lists_the_request_itself_then_one_child_per_node(cluster: LocalCluster) -> None:
    response = get(cluster, "/_cat/tasks?format=json", "node-2")
    assert (response.status, response.headers["Content-Type"]) == (200, "application/json")
    rows = response.json
    assert all(list(row) == DEFAULT_HEADINGS for row in rows)
    assert all(isinstance(value, str) for row in rows for value in row.values())
    (index,) = [i for i, row in enumerate(rows) if row["action"] == LIST]
    own = rows[index]
    assert own["task_id"].startswith(f"{node_id(cluster, 'node-2')}:")
    assert (own["parent_task_id"], own["type"], own["node"]) == ("-", "transport", "node-2")
    children = rows[index + 1 : index + 4]  # §16.3: a parent's rows are followed by its children's
    assert [row["action"] for row in children] == [LIST_N] * 3
    assert all(row["parent_task_id"] == own["task_id"] for row in children)
    assert sorted(row["node"] for row in children) == list(NAMES)
    assert [int(row["start_time"]) for row in children] == sorted(int(row["start_time"]) for row in children)
    assert [row["type"] for row in children if row["node"] == "node-2"] == ["direct"]


def test_node_columns_come_from_the_cluster_state(cluster: LocalCluster) -> None:
    rows = get(cluster, "/_cat/tasks?format=json&h=node_id,ip,port,node,version&actions=*lists[n]").json
    by_node = {row["node"]: row for row in rows}
    assert set(by_node) == set(NAMES)
    for name in NAMES:
        record = cluster.node(name)
        assert record.transport_address is not None
        ip, _, port = record.transport_address.rpartition(":")
        assert by_node[name]["node_id"] == node_id(cluster, name)[:4]
        assert (by_node[name]["ip"], by_node[name]["port"]) == (ip, port)
        assert by_node[name]["version"] != "-"


def test_nodes_local_lists_only_the_coordinating_node(cluster: LocalCluster) -> None:
    rows = get(cluster, "/_cat/tasks?nodes=_local&format=json", "node-3").json
    assert {row["node"] for row in rows} == {"node-3"}
    assert [row["action"] for row in rows].count(LIST_N) == 1


def test_actions_filters_with_exact_matching(cluster: LocalCluster) -> None:
    response = get(cluster, f"/_cat/tasks?actions={LIST}&h=action,node")
    assert (response.status, response.text) == (200, f"{LIST} node-1\n")


def test_parent_task_id_wait_for_completion_and_timeout_are_list_parameters(cluster: LocalCluster) -> None:
    response = get(
        cluster,
        f"/_cat/tasks?parent_task_id={node_id(cluster, 'node-1')}:999999&wait_for_completion=false&timeout=5s&v",
    )
    assert (response.status, response.text) == (200, " ".join(DEFAULT_HEADINGS) + "\n")


def test_h_time_and_time_unit(cluster: LocalCluster) -> None:
    response = get(cluster, f"/_cat/tasks?actions={LIST}&h=time,running_time_ns&time=nanos&v")
    heading, row = response.text.splitlines()
    assert heading.split() == ["time", "running_time_ns"]
    time_nanos, running_time_ns = map(int, row.split())
    assert time_nanos == running_time_ns > 0


def test_ts_false_hides_the_timestamp(cluster: LocalCluster) -> None:
    heading = get(cluster, "/_cat/tasks?v&ts=false").text.splitlines()[0]
    assert heading.split() == [h for h in DEFAULT_HEADINGS if h != "timestamp"]


# ---- parameters and errors ---------------------------------------------------------------------------------------


def test_full_id_is_unrecognized(cluster: LocalCluster) -> None:
    response = get(cluster, "/_cat/tasks?full_id=true")
    assert response.status == 400
    assert response.text == unrecognized("/_cat/tasks", "parameter: [full_id]")


def test_help_rejects_the_list_parameters(cluster: LocalCluster) -> None:
    response = get(cluster, "/_cat/tasks?help&nodes=x")
    assert response.status == 400
    assert response.text == unrecognized("/_cat/tasks", "parameter: [nodes]")


def test_help_with_detailed_lists_the_description_column(cluster: LocalCluster) -> None:
    plain, detailed = get(cluster, "/_cat/tasks?help"), get(cluster, "/_cat/tasks?help&detailed")
    assert (plain.status, plain.headers["Content-Type"]) == (200, TEXT_PLAIN)
    assert plain.text.splitlines()[1] == "action          | ac            | task action                 "
    assert detailed.text == plain.text + "description     | desc          | task action                 \n"


def test_unknown_sort_key_is_a_500(cluster: LocalCluster) -> None:
    response = get(cluster, "/_cat/tasks?s=nope")
    assert response.status == 500
    reason = '{"type":"unsupported_operation_exception","reason":"Unable to sort by unknown sort key `nope`"}'
    assert response.text == f'{{"error":{{"root_cause":[{reason}],{reason[1:-1]}}},"status":500}}'


def test_cat_index_lists_the_endpoint(cluster: LocalCluster) -> None:
    assert "/_cat/tasks\n" in get(cluster, "/_cat").text
