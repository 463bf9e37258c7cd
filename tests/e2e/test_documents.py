"""Documents, optimistic concurrency and `.tasks` against three real node processes: each example of issue 10's
"documents", "optimistic concurrency" and `.tasks` bullets, with Elasticsearch 9's exact answers (status, type,
reason, fields and their order)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call, wait_until

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}
NAMES = ("node-1", "node-2", "node-3")
SYSTEM_INDEX_WARNING = (
    "this request accesses system indices: [.tasks], but in a future major version, direct access to system "
    "indices will be prevented by default"
)


def request(cluster: LocalCluster, method: str, path: str, body: Any = None, name: str = "node-1") -> Response:
    url = cluster.node(name).http_url
    assert url is not None
    if body is None:
        return call(url, method, path)
    if isinstance(body, bytes):
        return call(url, method, path, headers=NDJSON, body=body)
    return call(url, method, path, headers=JSON, body=json.dumps(body).encode())


def ok(response: Response, status: int = 200) -> Any:
    assert response.status == status, response.text
    return response.json


def error(response: Response, status: int) -> dict[str, Any]:
    assert response.status == status, response.text
    body: dict[str, Any] = response.json
    assert body["status"] == status
    return dict(body["error"])


def conflict(index: str, reason: str, response: Response) -> None:
    """ES's 409 `version_conflict_engine_exception`, with the shard's `index_uuid`, `shard` and `index`."""
    err = error(response, 409)
    assert (err["type"], err["reason"], err["index"]) == ("version_conflict_engine_exception", reason, index)
    assert list(err) == ["root_cause", "type", "reason", "index_uuid", "shard", "index"]
    assert err["root_cause"] == [{k: err[k] for k in ("type", "reason", "index_uuid", "shard", "index")}]


def create_index(cluster: LocalCluster, name: str, shards: int = 2) -> None:
    settings = {"settings": {"number_of_shards": shards, "number_of_replicas": 1}}
    ok(request(cluster, "PUT", f"/{name}?wait_for_active_shards=all", settings))


@pytest.fixture(scope="module")
def cluster(cluster3: LocalCluster) -> Iterator[LocalCluster]:
    create_index(cluster3, "fruit")
    bulk = b"".join(
        b'{"index":{"_id":"%s"}}\n%s\n' % (doc_id.encode(), json.dumps(source).encode())
        for doc_id, source in FRUIT.items()
    )
    assert ok(request(cluster3, "POST", "/fruit/_bulk?refresh=true", bulk))["errors"] is False
    yield cluster3


FRUIT = {
    "1": {"name": "Red Apple", "price": 3, "tags": ["red", "sweet"], "origin": {"country": "fr"}},
    "2": {"name": "Green Apple", "price": 2, "tags": ["green"]},
    "3": {"name": "Cherry", "price": 7, "tags": ["red"], "origin": {"country": "it"}},
    "4": {"name": "Banana", "tags": ["yellow", "sweet"]},
}


# ---- documents are kept --------------------------------------------------------------------------------------


def test_a_written_document_is_read_back_with_its_source_from_every_node(cluster: LocalCluster) -> None:
    create_index(cluster, "i")
    written = ok(request(cluster, "PUT", "/i/_doc/1", {"a": 1}), 201)
    assert written == {
        "_index": "i", "_id": "1", "_version": 1, "result": "created",
        "_shards": {"total": 2, "successful": 2, "failed": 0}, "_seq_no": 0, "_primary_term": 1,
    }  # fmt: skip
    for name in NAMES:
        got = ok(request(cluster, "GET", "/i/_doc/1", name=name))
        assert got == {
            "_index": "i", "_id": "1", "_version": 1, "_seq_no": 0, "_primary_term": 1, "found": True,
            "_source": {"a": 1},
        }  # fmt: skip
        assert list(got) == ["_index", "_id", "_version", "_seq_no", "_primary_term", "found", "_source"]
    assert ok(request(cluster, "GET", "/i/_source/1")) == {"a": 1}
    assert request(cluster, "GET", "/i/_doc/2").json == {"_index": "i", "_id": "2", "found": False}


def test_search_hits_carry_their_source(cluster: LocalCluster) -> None:
    body = ok(request(cluster, "POST", "/fruit/_search", {"query": {"ids": {"values": ["3"]}}}))
    assert body["hits"]["total"] == {"value": 1, "relation": "eq"}
    assert body["hits"]["max_score"] == 1.0
    assert body["hits"]["hits"] == [{"_index": "fruit", "_id": "3", "_score": 1.0, "_source": FRUIT["3"]}]


def test_queries_select_the_documents_es_would(cluster: LocalCluster) -> None:
    def found(query: dict[str, Any]) -> set[str]:
        body = ok(request(cluster, "POST", "/fruit/_search", {"query": query, "size": 10}))
        return {hit["_id"] for hit in body["hits"]["hits"]}

    assert found({"match": {"name": "APPLE"}}) == {"1", "2"}
    assert found({"term": {"tags": "red"}}) == {"1", "3"}
    assert found({"term": {"name.keyword": "Cherry"}}) == {"3"}
    assert found({"terms": {"origin.country": ["fr", "it"]}}) == {"1", "3"}
    assert found({"range": {"price": {"gte": 2, "lt": 7}}}) == {"1", "2"}
    assert found({"exists": {"field": "origin"}}) == {"1", "3"}
    assert found({"bool": {"must": {"match": {"tags": "sweet"}}, "must_not": {"exists": {"field": "price"}}}}) == {"4"}
    assert ok(request(cluster, "GET", "/fruit/_count?q=tags:red"))["count"] == 2


def test_sort_shows_sort_values_and_null_scores_with_missing_values_last(cluster: LocalCluster) -> None:
    body = ok(request(cluster, "POST", "/fruit/_search", {"sort": [{"price": "desc"}], "_source": ["name"]}))
    hits = body["hits"]["hits"]
    assert [(h["_id"], h["sort"]) for h in hits] == [("3", [7]), ("1", [3]), ("2", [2]), ("4", [-(2**63)])]
    assert body["hits"]["max_score"] is None and all(h["_score"] is None for h in hits)
    assert hits[0] == {"_index": "fruit", "_id": "3", "_score": None, "_source": {"name": "Cherry"}, "sort": [7]}


def test_search_after_pages_through_a_sorted_index(cluster: LocalCluster) -> None:
    body = {"sort": [{"price": "asc"}], "size": 2, "_source": False}
    first = ok(request(cluster, "POST", "/fruit/_search", body))["hits"]["hits"]
    second = ok(request(cluster, "POST", "/fruit/_search", {**body, "search_after": first[-1]["sort"]}))["hits"]["hits"]
    assert [h["_id"] for h in first + second] == ["2", "1", "3", "4"]
    err = error(request(cluster, "POST", "/fruit/_search", {**body, "search_after": [1, 2]}), 400)
    assert (err["type"], err["reason"]) == ("illegal_argument_exception", "search_after has 2 value(s) but sort has 1.")


def test_source_filtering_and_paging(cluster: LocalCluster) -> None:
    body = ok(request(
        cluster, "GET", "/fruit/_search?sort=price:asc&from=1&size=2&_source_includes=origin.*&seq_no_primary_term=true",
    ))  # fmt: skip
    hits = body["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["1", "3"]
    assert hits[0]["_source"] == {"origin": {"country": "fr"}}
    assert list(hits[0]) == ["_index", "_id", "_seq_no", "_primary_term", "_score", "_source", "sort"]
    without_source = ok(request(cluster, "GET", "/fruit/_doc/2?_source=false"))
    assert list(without_source) == ["_index", "_id", "_version", "_seq_no", "_primary_term", "found"]


def test_scroll_pages_through_the_real_documents(cluster: LocalCluster) -> None:
    page = ok(request(cluster, "POST", "/fruit/_search?scroll=1m", {"size": 3, "sort": ["_doc"]}))
    seen = {h["_id"]: h["_source"] for h in page["hits"]["hits"]}
    while page["hits"]["hits"]:
        page = ok(request(cluster, "POST", "/_search/scroll", {"scroll": "1m", "scroll_id": page["_scroll_id"]}))
        seen.update({h["_id"]: h["_source"] for h in page["hits"]["hits"]})
    assert seen == FRUIT
    ok(request(cluster, "DELETE", "/_search/scroll", {"scroll_id": page["_scroll_id"]}))


def test_reindex_copies_documents_and_by_query_scripts_change_them(cluster: LocalCluster) -> None:
    create_index(cluster, "fruit-copy", shards=3)
    done = ok(
        request(
            cluster, "POST", "/_reindex?refresh=true", {"source": {"index": "fruit"}, "dest": {"index": "fruit-copy"}}
        )
    )
    assert (done["total"], done["created"], done["failures"]) == (4, 4, [])
    for doc_id, source in FRUIT.items():
        assert ok(request(cluster, "GET", f"/fruit-copy/_doc/{doc_id}"))["_source"] == source
    script = {"source": "ctx._source.price += params.more; ctx._source.remove('tags')", "params": {"more": 10}}
    updated = ok(
        request(
            cluster, "POST", "/fruit-copy/_update_by_query", {"query": {"exists": {"field": "price"}}, "script": script}
        )
    )
    assert (updated["total"], updated["updated"], updated["version_conflicts"]) == (3, 3, 0)
    got = ok(request(cluster, "GET", "/fruit-copy/_doc/1"))
    assert (got["_version"], got["_source"]) == (2, {"name": "Red Apple", "price": 13, "origin": {"country": "fr"}})
    deleted = ok(request(cluster, "POST", "/fruit-copy/_delete_by_query", {"query": {"range": {"price": {"gt": 12}}}}))
    assert deleted["deleted"] == 2
    assert ok(request(cluster, "GET", "/fruit-copy/_count"))["count"] == 2


def test_multi_get_answers_each_document_or_its_error_in_place(cluster: LocalCluster) -> None:
    body = ok(request(cluster, "POST", "/_mget", {"docs": [
        {"_index": "fruit", "_id": "3", "_source": ["name"]}, {"_index": "fruit", "_id": "9"},
        {"_index": "missing", "_id": "1"},
    ]}))  # fmt: skip
    first, second, third = body["docs"]
    assert (first["_id"], first["found"], first["_source"]) == ("3", True, {"name": "Cherry"})
    assert second == {"_index": "fruit", "_id": "9", "found": False}
    assert (third["_index"], third["_id"], third["error"]["type"]) == ("missing", "1", "index_not_found_exception")
    assert third["error"]["root_cause"][0]["reason"] == "no such index [missing]"
    by_ids = ok(request(cluster, "GET", "/fruit/_mget", {"ids": ["1", "2"]}))
    assert [d["_source"] for d in by_ids["docs"]] == [FRUIT["1"], FRUIT["2"]]
    err = error(request(cluster, "POST", "/_mget", {"ids": ["1"]}), 400)
    assert err["reason"] == "Validation Failed: 1: index is missing for doc 0;"


def test_multi_get_refuses_malformed_items_with_400s(cluster: LocalCluster) -> None:
    bad_version = error(request(cluster, "POST", "/fruit/_mget", {"docs": [{"_id": "1", "version": "x"}]}), 400)
    assert (bad_version["type"], bad_version["reason"]) == ("number_format_exception", 'For input string: "x"')
    bad_index = error(request(cluster, "POST", "/_mget", {"docs": [{"_index": {"a": 1}, "_id": "1"}]}), 400)
    assert bad_index["reason"] == "failed to parse multi get request. unknown field [_index]"


def test_data_streams_do_not_exist_so_a_name_is_not_found(cluster: LocalCluster) -> None:
    """What `helpers.reindex` asks of its target before writing."""
    assert ok(request(cluster, "GET", "/_data_stream")) == {"data_streams": []}
    err = error(request(cluster, "GET", "/_data_stream/fruit?expand_wildcards=all"), 404)
    assert (err["type"], err["reason"], err["index"]) == ("index_not_found_exception", "no such index [fruit]", "fruit")


# ---- fields ES returns ----------------------------------------------------------------------------------------


def test_writes_with_refresh_true_answer_forced_refresh(cluster: LocalCluster) -> None:
    create_index(cluster, "r")
    body = ok(request(cluster, "PUT", "/r/_doc/1?refresh=true", {"a": 1}), 201)
    assert list(body) == [
        "_index",
        "_id",
        "_version",
        "result",
        "forced_refresh",
        "_shards",
        "_seq_no",
        "_primary_term",
    ]
    assert body["forced_refresh"] is True
    assert "forced_refresh" not in ok(request(cluster, "PUT", "/r/_doc/1?refresh=wait_for", {"a": 2}))
    bulk = ok(request(cluster, "POST", "/_bulk?refresh", b'{"delete":{"_index":"r","_id":"1"}}\n'))
    assert bulk["items"][0]["delete"]["forced_refresh"] is True


def test_get_answers_routing_and_the_location_of_a_routed_create(cluster: LocalCluster) -> None:
    create_index(cluster, "routed")
    created = request(cluster, "PUT", "/routed/_doc/1?routing=user-7", {"a": 1})
    assert created.status == 201 and created.headers["Location"] == "/routed/_doc/1?routing=user-7"
    got = ok(request(cluster, "GET", "/routed/_doc/1?routing=user-7"))
    assert list(got) == ["_index", "_id", "_version", "_seq_no", "_primary_term", "_routing", "found", "_source"]
    assert got["_routing"] == "user-7"
    hit = ok(request(cluster, "GET", "/routed/_search"))["hits"]["hits"][0]
    assert list(hit) == ["_index", "_id", "_score", "_routing", "_source"]


def test_the_location_of_a_created_document_is_url_encoded_as_es_does(cluster: LocalCluster) -> None:
    create_index(cluster, "encoded")
    created = request(cluster, "PUT", "/encoded/_doc/a%0Ab%20c~%C3%A9?routing=x%0Dy", {"a": 1})
    assert created.status == 201
    assert created.headers["Location"] == "/encoded/_doc/a%0Ab+c%7E%C3%A9?routing=x%0Dy"
    assert ok(request(cluster, "GET", "/encoded/_doc/a%0Ab%20c~%C3%A9?routing=x%0Dy"))["_id"] == "a\nb c~é"


def test_deletes_and_updates_answer_seq_no_and_primary_term(cluster: LocalCluster) -> None:
    create_index(cluster, "d", shards=1)
    ok(request(cluster, "PUT", "/d/_doc/1", {"n": 1}), 201)
    deleted = ok(request(cluster, "DELETE", "/d/_doc/1"))
    assert {k: deleted[k] for k in ("_version", "result", "_seq_no", "_primary_term")} == {
        "_version": 2, "result": "deleted", "_seq_no": 1, "_primary_term": 1,
    }  # fmt: skip
    missing = request(cluster, "DELETE", "/d/_doc/1")
    assert missing.status == 404
    assert {k: missing.json[k] for k in ("_version", "result", "_seq_no")} == {
        "_version": 3,
        "result": "not_found",
        "_seq_no": 2,
    }
    again = ok(request(cluster, "PUT", "/d/_doc/1", {"n": 2}), 201)
    assert (again["_version"], again["result"]) == (4, "created"), "versions continue after a delete (gc_deletes)"


# ---- the update API --------------------------------------------------------------------------------------------


def test_update_merges_detects_noops_upserts_and_runs_scripts(cluster: LocalCluster) -> None:
    create_index(cluster, "u", shards=1)
    ok(request(cluster, "PUT", "/u/_doc/1", {"name": "a", "n": 1, "o": {"x": 1}}), 201)
    merged = ok(request(cluster, "POST", "/u/_update/1", {"doc": {"o": {"y": 2}}}))
    assert (merged["result"], merged["_version"]) == ("updated", 2)
    noop = ok(request(cluster, "POST", "/u/_update/1", {"doc": {"n": 1}}))
    assert noop == {
        "_index": "u", "_id": "1", "_version": 2, "result": "noop", "_shards": {"total": 0, "successful": 0, "failed": 0},
        "_seq_no": 1, "_primary_term": 1,
    }  # fmt: skip
    scripted = ok(request(cluster, "POST", "/u/_update/1?_source=true", {
        "script": {"source": "ctx._source.n += params.by", "params": {"by": 4}},
    }))  # fmt: skip
    assert scripted["get"] == {
        "_seq_no": 2, "_primary_term": 1, "found": True, "_source": {"name": "a", "n": 5, "o": {"x": 1, "y": 2}},
    }  # fmt: skip
    upserted = request(cluster, "POST", "/u/_update/2", {"doc": {"n": 9}, "doc_as_upsert": True})
    assert upserted.status == 201 and upserted.json["result"] == "created"
    missing = error(request(cluster, "POST", "/u/_update/3", {"doc": {"n": 1}}), 404)
    assert (missing["type"], missing["reason"]) == ("document_missing_exception", "[3]: document missing")
    deleted = ok(request(cluster, "POST", "/u/_update/2", {"script": "ctx.op = 'delete'"}))
    assert deleted["result"] == "deleted"


def test_update_refuses_versions_and_conflicting_bodies_as_es(cluster: LocalCluster) -> None:
    err = error(request(cluster, "POST", "/u/_update/1?version=2", {"doc": {"n": 1}}), 400)
    assert (err["type"], err["reason"]) == (
        "action_request_validation_exception",
        "Validation Failed: 1: internal versioning can not be used for optimistic concurrency control. Please use "
        "`if_seq_no` and `if_primary_term` instead;",
    )
    err = error(request(cluster, "POST", "/u/_update/1", {"doc": {"n": 1}, "script": "ctx.op = 'noop'"}), 400)
    assert err["reason"] == "Validation Failed: 1: can't provide both script and doc;"
    err = error(request(cluster, "POST", "/u/_update/1", {"docs": {"n": 1}}), 400)
    assert (err["type"], err["reason"]) == ("x_content_parse_exception", "[1:2] [UpdateRequest] unknown field [docs]")


# ---- optimistic concurrency ------------------------------------------------------------------------------------


def test_if_seq_no_and_if_primary_term_conflict_with_es_reason(cluster: LocalCluster) -> None:
    create_index(cluster, "occ", shards=1)
    ok(request(cluster, "PUT", "/occ/_doc/1", {"a": 1}), 201)
    conflict(
        "occ",
        "[1]: version conflict, required seqNo [10000], primary term [1]. current document has seqNo [0] and primary "
        "term [1]",
        request(cluster, "PUT", "/occ/_doc/1?if_seq_no=10000&if_primary_term=1", {"a": 2}),
    )
    conflict(
        "occ",
        "[2]: version conflict, required seqNo [0], primary term [1]. but no document was found",
        request(cluster, "DELETE", "/occ/_doc/2?if_seq_no=0&if_primary_term=1"),
    )
    conflict(
        "occ",
        "[1]: version conflict, required seqNo [5], primary term [1]. current document has seqNo [0] and primary term [1]",
        request(cluster, "POST", "/occ/_update/1?if_seq_no=5&if_primary_term=1", {"doc": {"a": 3}}),
    )
    updated = ok(request(cluster, "PUT", "/occ/_doc/1?if_seq_no=0&if_primary_term=1", {"a": 2}))
    assert (updated["result"], updated["_version"], updated["_seq_no"]) == ("updated", 2, 1)
    err = error(request(cluster, "PUT", "/occ/_doc/1?if_seq_no=1", {"a": 2}), 400)
    assert err["reason"] == "Validation Failed: 1: ifSeqNo is set, but primary term is [0];"
    err = error(request(cluster, "PUT", "/occ/_doc/1?if_seq_no=x&if_primary_term=1", {"a": 2}), 400)
    assert err["reason"] == "Failed to parse long parameter [if_seq_no] with value [x]"


def test_external_versions_set_the_version_and_conflict_when_not_higher(cluster: LocalCluster) -> None:
    create_index(cluster, "ext", shards=1)
    body = ok(request(cluster, "PUT", "/ext/_doc/1?version=5&version_type=external", {"a": 1}), 201)
    assert (body["_version"], body["result"]) == (5, "created")
    conflict(
        "ext",
        "[1]: version conflict, current version [5] is higher or equal to the one provided [5]",
        request(cluster, "PUT", "/ext/_doc/1?version=5&version_type=external", {"a": 2}),
    )
    assert ok(request(cluster, "PUT", "/ext/_doc/1?version=5&version_type=external_gte", {"a": 2}))["_version"] == 5
    conflict(
        "ext",
        "[1]: version conflict, current version [5] is higher than the one provided [4]",
        request(cluster, "DELETE", "/ext/_doc/1?version=4&version_type=external_gte"),
    )
    assert ok(request(cluster, "DELETE", "/ext/_doc/1?version=9&version_type=external"))["_version"] == 9
    err = error(request(cluster, "PUT", "/ext/_doc/1?version=2", {"a": 1}), 400)
    assert err["reason"] == (
        "Validation Failed: 1: internal versioning can not be used for optimistic concurrency control. Please use "
        "`if_seq_no` and `if_primary_term` instead;"
    )
    err = error(request(cluster, "PUT", "/ext/_doc/1?version=2&version_type=newest", {"a": 1}), 400)
    assert (err["type"], err["reason"]) == ("illegal_argument_exception", "No version type match [newest]")


def test_get_with_a_version_that_differs_is_a_conflict(cluster: LocalCluster) -> None:
    create_index(cluster, "gv", shards=1)
    ok(request(cluster, "PUT", "/gv/_doc/1", {"a": 1}), 201)
    ok(request(cluster, "PUT", "/gv/_doc/1", {"a": 2}))
    conflict(
        "gv",
        "[1]: version conflict, current version [2] is different than the one provided [1]",
        request(cluster, "GET", "/gv/_doc/1?version=1"),
    )
    assert ok(request(cluster, "GET", "/gv/_doc/1?version=2"))["_source"] == {"a": 2}


def test_create_and_op_type_create_conflict_on_an_existing_document(cluster: LocalCluster) -> None:
    create_index(cluster, "c", shards=1)
    ok(request(cluster, "PUT", "/c/_create/1", {"a": 1}), 201)
    reason = "[1]: version conflict, document already exists (current version [1])"
    conflict("c", reason, request(cluster, "PUT", "/c/_create/1", {"a": 2}))
    conflict("c", reason, request(cluster, "PUT", "/c/_doc/1?op_type=create", {"a": 2}))
    bulk = ok(request(cluster, "POST", "/_bulk", b'{"create":{"_index":"c","_id":"1"}}\n{"a":3}\n'))
    item = bulk["items"][0]["create"]
    assert (bulk["errors"], item["status"], item["error"]["reason"]) == (True, 409, reason)


def test_a_reindex_that_aborts_on_a_conflict_is_a_409_with_its_failures(cluster: LocalCluster) -> None:
    create_index(cluster, "taken", shards=1)
    ok(request(cluster, "PUT", "/taken/_doc/2", {"mine": True}), 201)
    body = {
        "source": {"index": "fruit", "query": {"ids": {"values": ["2"]}}},
        "dest": {"index": "taken", "op_type": "create"},
    }
    aborted = request(cluster, "POST", "/_reindex", body)
    assert aborted.status == 409, aborted.text
    response = aborted.json
    assert list(response)[:2] == ["took", "timed_out"] and list(response)[-1] == "failures"
    assert (response["created"], response["version_conflicts"]) == (0, 1)
    (failure,) = response["failures"]
    assert list(failure) == ["index", "id", "cause", "status"]
    assert (failure["index"], failure["id"], failure["status"]) == ("taken", "2", 409)
    assert failure["cause"]["type"] == "version_conflict_engine_exception"
    assert failure["cause"]["reason"] == "[2]: version conflict, document already exists (current version [1])"
    proceeded = ok(request(cluster, "POST", "/_reindex", {**body, "conflicts": "proceed"}))
    assert (proceeded["version_conflicts"], proceeded["failures"]) == (1, [])
    assert ok(request(cluster, "GET", "/taken/_doc/2"))["_source"] == {"mine": True}


# ---- `.tasks` is an index you can read ------------------------------------------------------------------------


def test_a_background_reindex_result_is_a_tasks_document_with_the_system_index_warning(
    fresh_cluster3: LocalCluster,
) -> None:
    cluster = fresh_cluster3
    create_index(cluster, "src", shards=1)
    ok(request(cluster, "PUT", "/src/_doc/1?refresh=true", {"a": 1}), 201)
    started = ok(
        request(
            cluster,
            "POST",
            "/_reindex?wait_for_completion=false",
            {"source": {"index": "src"}, "dest": {"index": "dst"}},
            name="node-2",
        )
    )
    task_id = started["task"]
    stored = ok(request(cluster, "GET", f"/_tasks/{task_id}?wait_for_completion=true&timeout=30s", name="node-3"))
    assert "Warning" not in request(cluster, "GET", f"/_tasks/{task_id}").headers
    for name in NAMES:  # right after the wait, every node can search `.tasks`
        searched = request(cluster, "GET", "/.tasks/_search", name=name)
        assert searched.status == 200, searched.text
        assert searched.headers["Warning"].endswith(f'"{SYSTEM_INDEX_WARNING}"')
        assert searched.headers["Warning"].startswith("299 Elasticsearch-9.")
        (hit,) = searched.json["hits"]["hits"]
        assert (hit["_index"], hit["_id"]) == (".tasks", task_id)
        assert list(hit["_source"]) == ["completed", "task", "response"]
        assert hit["_source"]["completed"] is True
        assert "cancelled" not in hit["_source"]["task"], ".tasks documents never store `cancelled`"
        assert hit["_source"]["response"] == stored["response"]
    refreshed = request(cluster, "POST", "/.tasks/_refresh")
    assert refreshed.status == 200 and SYSTEM_INDEX_WARNING in refreshed.headers["Warning"]
    got = request(cluster, "GET", f"/.tasks/_doc/{task_id}")
    assert got.status == 200 and SYSTEM_INDEX_WARNING in got.headers["Warning"]
    assert (got.json["_index"], got.json["_id"], got.json["found"]) == (".tasks", task_id, True)
    assert got.json["_source"]["task"]["action"] == "indices:data/write/reindex"
    assert got.json["_source"]["task"]["description"] == "reindex from [src] to [dst]"


def test_a_stored_result_survives_its_nodes_death_as_a_replicated_document(fresh_cluster3: LocalCluster) -> None:
    cluster = fresh_cluster3
    started = ok(request(cluster, "POST", "/_sim/tasks?wait_for_completion=false&duration=0", name="node-1"))
    task_id = started["task"]
    body = ok(request(cluster, "GET", f"/_tasks/{task_id}?wait_for_completion=true&timeout=30s"))
    ok(request(cluster, "GET", "/_cluster/health/.tasks?wait_for_status=green&timeout=30s"))
    shards = ok(request(cluster, "GET", "/_cat/shards/.tasks?format=json&h=prirep,node,state"))
    assert sorted(s["prirep"] for s in shards) == ["p", "r"] and {s["state"] for s in shards} == {"STARTED"}
    primary = next(s["node"] for s in shards if s["prirep"] == "p")
    assert cluster.kill_node(primary)
    survivor = next(n for n in NAMES if n != primary)
    wait_until(
        lambda: request(cluster, "GET", f"/_tasks/{task_id}", name=survivor).status == 200,
        timeout=20.0,
        what="a survivor to answer the stored result",
    )
    assert request(cluster, "GET", f"/_tasks/{task_id}", name=survivor).json == body
    health = ok(request(cluster, "GET", "/_cluster/health/.tasks?wait_for_status=green&timeout=30s", name=survivor))
    assert health["status"] == "green", "the lost copy of .tasks is allocated again"
