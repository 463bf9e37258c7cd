"""`GET /_tasks` against three real node processes (reference §5, §6, §9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call
from tests.support.nodes import node_id, url

pytestmark = pytest.mark.e2e

LIST = "cluster:monitor/tasks/lists"
LIST_N = "cluster:monitor/tasks/lists[n]"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    home = tmp_path_factory.mktemp("tasks")
    c = LocalCluster(
        Path(home),
        3,
        http_port=0,
        transport_port=0,
        node_overrides={
            "node-1": {"attributes": (("zone", "a"),)},
            "node-2": {"attributes": (("zone", "b"),)},
            "node-3": {"attributes": (("zone", "a"),), "roles": ("data", "ingest")},
        },
    )
    try:
        c.start()
        c.wait_until_formed(timeout=30)
        yield c
    finally:
        c.stop()


def get(cluster: LocalCluster, path: str, name: str = "node-1", **kwargs: object) -> Response:
    return call(url(cluster, name), "GET", path, **kwargs)  # type: ignore[arg-type]


def all_ids(cluster: LocalCluster) -> dict[str, str]:
    return {name: node_id(cluster, name) for name in ("node-1", "node-2", "node-3")}


# ---- the task tree ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("coordinator", ["node-1", "node-2", "node-3"])
def test_list_shows_its_own_task_and_one_child_per_node(cluster: LocalCluster, coordinator: str) -> None:
    ids = all_ids(cluster)
    response = get(cluster, "/_tasks", coordinator, headers={"X-Opaque-Id": "tour-1"})
    assert response.status == 200
    body = response.json
    assert set(body["nodes"]) == set(ids.values())
    coordinator_id = ids[coordinator]
    own = [t for t in body["nodes"][coordinator_id]["tasks"].values() if t["action"] == LIST]
    assert len(own) == 1
    list_task = own[0]
    assert list_task["type"] == "transport"
    assert list_task["cancellable"] is True and list_task["cancelled"] is False
    assert "parent_task_id" not in list_task
    parent = f"{coordinator_id}:{list_task['id']}"
    for name, nid in ids.items():
        children = [t for t in body["nodes"][nid]["tasks"].values() if t["action"] == LIST_N]
        assert len(children) == 1, name
        child = children[0]
        assert child["parent_task_id"] == parent
        assert child["type"] == ("direct" if name == coordinator else "transport")
        assert child["headers"] == {"X-Opaque-Id": "tour-1"}
    assert list_task["headers"] == {"X-Opaque-Id": "tour-1"}
    assert response.headers["X-Opaque-Id"] == "tour-1"
    assert response.headers["X-elastic-product"] == "Elasticsearch"


def test_node_entry_fields(cluster: LocalCluster) -> None:
    body = get(cluster, "/_tasks").json
    entry = body["nodes"][node_id(cluster, "node-3")]
    record = cluster.node("node-3")
    assert list(entry) == ["name", "transport_address", "host", "ip", "roles", "attributes", "tasks"]
    assert entry["name"] == "node-3"
    assert entry["transport_address"] == record.transport_address
    assert entry["ip"] == record.transport_address
    assert entry["host"] == "127.0.0.1"
    assert entry["roles"] == ["data", "ingest"]
    assert entry["attributes"] == {"zone": "a"}


def test_group_by_parents_nests_the_children(cluster: LocalCluster) -> None:
    body = get(cluster, "/_tasks?group_by=parents&actions=cluster:monitor/tasks/*", "node-2").json
    assert len(body["tasks"]) == 1
    ((key, group),) = body["tasks"].items()
    assert group["action"] == LIST and key == f"{group['node']}:{group['id']}"
    assert sorted(c["node"] for c in group["children"]) == sorted(all_ids(cluster).values())
    assert all(c["parent_task_id"] == key for c in group["children"])


def test_group_by_none_is_flat_and_exact_action_matching(cluster: LocalCluster) -> None:
    body = get(
        cluster, "/_tasks?actions=cluster:monitor/tasks/lists&group_by=none", headers={"X-Opaque-Id": "That is me"}
    ).json
    assert [t["action"] for t in body["tasks"]] == [LIST]
    assert body["tasks"][0]["headers"]["X-Opaque-Id"] == "That is me"


def test_trace_id_comes_from_traceparent(cluster: LocalCluster) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    body = get(cluster, "/_tasks?group_by=none", headers={"traceparent": traceparent}).json
    assert {t["headers"].get("trace.id") for t in body["tasks"] if t["action"].startswith(LIST)} == {
        "0af7651916cd43dd8448eb211c80319c"
    }
    assert all("traceparent" not in t["headers"] for t in body["tasks"])


def test_detailed_adds_descriptions(cluster: LocalCluster) -> None:
    body = get(cluster, "/_tasks?detailed&group_by=none&actions=cluster:monitor/tasks/*").json
    assert all(t["description"] == "" for t in body["tasks"])


def test_human_adds_readable_times_before_raw_ones(cluster: LocalCluster) -> None:
    body = get(cluster, "/_tasks?human&group_by=none&actions=cluster:monitor/tasks/lists").json
    task = body["tasks"][0]
    keys = list(task)
    assert keys.index("start_time") + 1 == keys.index("start_time_in_millis")
    assert keys.index("running_time") + 1 == keys.index("running_time_in_nanos")


def test_parent_task_id_filter(cluster: LocalCluster) -> None:
    body = get(cluster, "/_tasks?group_by=none").json
    some_parent = next(t for t in body["tasks"] if t["action"] == LIST)
    parent_id = f"{some_parent['node']}:{some_parent['id']}"
    # that list request is over, so nothing has it as a parent any more
    assert get(cluster, f"/_tasks?parent_task_id={parent_id}").json == {"nodes": {}}


# ---- node selection -----------------------------------------------------------------------------------------


def selected(cluster: LocalCluster, nodes: str, coordinator: str = "node-1") -> set[str]:
    body = get(cluster, f"/_tasks?nodes={nodes}", coordinator).json
    names = {v: k for k, v in all_ids(cluster).items()}
    return {names[nid] for nid in body["nodes"]}


def test_local_and_master_selectors(cluster: LocalCluster) -> None:
    assert selected(cluster, "_local", "node-2") == {"node-2"}
    master = cluster.status().master
    assert selected(cluster, "_master") == {master}


def test_names_ids_and_wildcards(cluster: LocalCluster) -> None:
    assert selected(cluster, "node-2,node-3") == {"node-2", "node-3"}
    assert selected(cluster, node_id(cluster, "node-3")) == {"node-3"}
    assert selected(cluster, "node-*") == {"node-1", "node-2", "node-3"}
    assert selected(cluster, "nope") == set()


def test_roles_and_attributes_in_order(cluster: LocalCluster) -> None:
    assert selected(cluster, "master:false") == set()
    assert selected(cluster, "_all,master:false") == {"node-3"}
    assert selected(cluster, "master:false,_all") == {"node-1", "node-2", "node-3"}
    assert selected(cluster, "zone:a") == {"node-1", "node-3"}
    assert selected(cluster, "data:true,zone:b") == {"node-1", "node-2", "node-3"}


# ---- errors -------------------------------------------------------------------------------------------------


def error_body(type_: str, reason: str, status: int, **extra: object) -> dict[str, object]:
    return {
        "error": {"root_cause": [{"type": type_, "reason": reason}], "type": type_, "reason": reason, **extra},
        "status": status,
    }


def test_unrecognized_parameter_with_suggestion(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks?detaild=true")
    assert response.status == 400
    reason = "request [/_tasks] contains unrecognized parameter: [detaild] -> did you mean [detailed]?"
    assert response.json == error_body("illegal_argument_exception", reason, 400)
    assert response.headers["X-elastic-product"] == "Elasticsearch"


def test_master_timeout_is_not_accepted(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks?master_timeout=1s&foo=bar")
    assert response.status == 400
    assert (
        response.json["error"]["reason"]
        == "request [/_tasks] contains unrecognized parameters: [foo], [master_timeout]"
    )


def test_parent_task_id_minus_one_is_malformed(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks?parent_task_id=-1")
    assert response.status == 400
    assert response.json == error_body("illegal_argument_exception", "malformed task id -1", 400)


def test_malformed_parent_has_number_format_cause(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks?parent_task_id=abc:x")
    assert response.json == error_body(
        "illegal_argument_exception",
        "malformed task id abc:x",
        400,
        caused_by={"type": "number_format_exception", "reason": 'For input string: "x"'},
    )


def test_bad_group_by_boolean_and_timeout(cluster: LocalCluster) -> None:
    assert get(cluster, "/_tasks?group_by=xyz").json == error_body(
        "illegal_argument_exception", "[group_by] must be one of [nodes], [parents] or [none] but was [xyz]", 400
    )
    assert get(cluster, "/_tasks?detailed=yes").json == error_body(
        "illegal_argument_exception", "Failed to parse value [yes] as only [true] or [false] are allowed.", 400
    )
    assert get(cluster, "/_tasks?timeout=5").json == error_body(
        "illegal_argument_exception",
        "failed to parse setting [timeout] with value [5] as a time value: unit is missing or unrecognized",
        400,
    )
    assert get(cluster, "/_tasks?nodes=master:yes").json == error_body(
        "illegal_argument_exception", "Failed to parse value [yes] as only [true] or [false] are allowed.", 400
    )


def test_wrong_method_is_405_with_allow(cluster: LocalCluster) -> None:
    response = call(url(cluster, "node-1"), "DELETE", "/_tasks?pretty")
    assert response.status == 405
    assert response.headers["Allow"] == "GET"
    assert response.json == {
        "error": "Incorrect HTTP method for uri [/_tasks?pretty] and method [DELETE], allowed: [GET]",
        "status": 405,
    }
    assert response.headers["X-elastic-product"] == "Elasticsearch"


def test_unknown_path_is_400_no_handler(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks/a/b/c")
    assert response.status == 400
    assert response.json == {"error": "no handler found for uri [/_tasks/a/b/c] and method [GET]", "status": 400}


def test_duplicate_opaque_id_is_a_plain_400(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks", headers=[("X-Opaque-Id", "a"), ("X-Opaque-Id", "b")])
    assert response.status == 400
    assert response.json == {"error": "multiple values for single-valued header [X-Opaque-Id].", "status": 400}


# ---- rendering and media types ------------------------------------------------------------------------------


def test_pretty_uses_es_style(cluster: LocalCluster) -> None:
    text = get(cluster, "/_tasks?pretty&nodes=nope").text
    assert text == '{\n  "nodes" : { }\n}\n'


def test_filter_path(cluster: LocalCluster) -> None:
    body = get(cluster, "/_tasks?filter_path=nodes.*.tasks.*.action").json
    actions = {t["action"] for n in body["nodes"].values() for t in n["tasks"].values()}
    assert actions == {LIST, LIST_N}
    assert all(list(t) == ["action"] for n in body["nodes"].values() for t in n["tasks"].values())


def test_yaml_format(cluster: LocalCluster) -> None:
    response = get(cluster, "/_tasks?format=yaml&nodes=nope")
    assert response.text == "---\nnodes: {}\n"
    assert response.headers["Content-Type"].startswith("application/yaml")


@pytest.mark.parametrize("version", ["8", "9"])
def test_compatible_with_is_accepted_and_echoed(cluster: LocalCluster, version: str) -> None:
    accept = f"application/vnd.elasticsearch+json; compatible-with={version}"
    response = get(cluster, "/_tasks", headers={"Accept": accept})
    assert response.status == 200
    assert response.headers["Content-Type"] == f"application/vnd.elasticsearch+json;compatible-with={version}"


def test_compatible_with_7_is_rejected(cluster: LocalCluster) -> None:
    accept = "application/vnd.elasticsearch+json; compatible-with=7"
    response = get(cluster, "/_tasks", headers={"Accept": accept})
    assert response.status == 400
    assert response.json["error"]["type"] == "media_type_header_exception"
