"""Aliases, index settings and mappings, close and open, date-math names and create-then-read against three real
node processes, each answer as Elasticsearch 9 gives it.

Sources matched: `RestGetAliasesAction` (the `alias [x] missing` 404 body), `IndicesAliasesResponse` (8.14+:
`errors`), `TransportIndicesAliasesAction` (`aliases_not_found_exception`), `IndexAbstraction.Alias#getWriteIndex`,
`IndexNameExpressionResolver` (`concreteWriteIndex`, `concreteSingleIndex`, `DateMathExpressionResolver`,
`[require_alias]`), `MetadataUpdateSettingsService` (static settings on open indices), `MetadataIndexStateService`
(ES 7.2+ close answer), `IndexClosedException`, `TransportMasterNodeAction` (the receiving node applies what the
master acknowledged).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call_with_body

pytestmark = pytest.mark.e2e


def send(cluster: LocalCluster, method: str, path: str, body: Any = None, name: str = "node-2") -> Response:
    url = cluster.node(name).http_url
    assert url is not None
    return call_with_body(url, method, path, body)


def ok(response: Response) -> Any:
    assert response.status in (200, 201), response.text
    return response.json


def error_of(response: Response) -> tuple[int, str, str]:
    return response.status, response.json["error"]["type"], response.json["error"]["reason"]


@pytest.fixture(scope="module")
def cluster(cluster3: LocalCluster) -> Iterator[LocalCluster]:
    ok(send(cluster3, "PUT", "/logs-1?wait_for_active_shards=all", {"aliases": {"logs": {}}}))
    ok(send(cluster3, "PUT", "/logs-2?wait_for_active_shards=all"))
    yield cluster3


def test_put_get_and_delete_an_alias(cluster: LocalCluster) -> None:
    assert ok(send(cluster, "PUT", "/logs-2/_alias/logs")) == {"acknowledged": True, "errors": False}
    assert ok(send(cluster, "GET", "/_alias/logs")) == {
        "logs-1": {"aliases": {"logs": {}}},
        "logs-2": {"aliases": {"logs": {}}},
    }
    missing = send(cluster, "GET", "/_alias/logs,nope")
    assert (missing.status, missing.json) == (
        404,
        {
            "error": "alias [nope] missing",
            "status": 404,
            "logs-1": {"aliases": {"logs": {}}},
            "logs-2": {"aliases": {"logs": {}}},
        },
    )
    assert ok(send(cluster, "DELETE", "/logs-2/_alias/logs")) == {"acknowledged": True, "errors": False}
    assert ok(send(cluster, "GET", "/logs-2/_alias")) == {"logs-2": {"aliases": {}}}
    gone = send(cluster, "DELETE", "/logs-2/_alias/logs")
    assert error_of(gone) == (404, "aliases_not_found_exception", "aliases [logs] missing")


def test_update_aliases_adds_a_write_index_and_writes_go_there(cluster: LocalCluster) -> None:
    actions = [
        {"add": {"index": "logs-1", "alias": "current", "is_write_index": False}},
        {"add": {"index": "logs-2", "alias": "current", "is_write_index": True}},
    ]
    assert ok(send(cluster, "POST", "/_aliases", {"actions": actions})) == {"acknowledged": True, "errors": False}
    written = ok(send(cluster, "PUT", "/current/_doc/1?refresh=true", {"n": 1}))
    assert written["_index"] == "logs-2"
    bulk = ok(send(cluster, "POST", "/_bulk", b'{"index":{"_index":"current","_id":"2"}}\n{"n":2}\n'))
    assert bulk["items"][0]["index"]["_index"] == "logs-2"
    assert ok(send(cluster, "GET", "/current/_count"))["count"] == 2
    single = send(cluster, "GET", "/current/_doc/1")
    assert error_of(single) == (
        400,
        "illegal_argument_exception",
        "alias [current] has more than one index associated with it [logs-1, logs-2], can't execute a single index op",
    )
    shown = ok(send(cluster, "GET", "/_alias/current"))
    assert shown["logs-2"] == {"aliases": {"current": {"is_write_index": True}}}


def test_a_write_to_an_alias_without_write_index_is_refused(cluster: LocalCluster) -> None:
    ok(send(cluster, "POST", "/_aliases", {"actions": [{"add": {"indices": ["logs-1", "logs-2"], "alias": "both"}}]}))
    refused = send(cluster, "PUT", "/both/_doc/1", {"n": 1})
    assert error_of(refused) == (
        400,
        "illegal_argument_exception",
        "no write index is defined for alias [both]. The write index may be explicitly disabled using "
        "is_write_index=false or the alias points to multiple indices without one being designated as a write index",
    )


def test_require_alias_refuses_a_name_that_is_not_an_alias(cluster: LocalCluster) -> None:
    refused = send(cluster, "PUT", "/not-an-alias/_doc/1?require_alias=true", {"n": 1})
    assert refused.status == 404
    assert refused.json["error"] == {
        "root_cause": [refused.json["error"]["root_cause"][0]],
        "type": "index_not_found_exception",
        "reason": "no such index [not-an-alias] and [require_alias] request flag is [true] and [not-an-alias] is not "
        "an alias",
        "resource.type": "index_or_alias",
        "resource.id": "not-an-alias",
        "index_uuid": "_na_",
        "index": "not-an-alias",
    }
    assert send(cluster, "HEAD", "/not-an-alias").status == 404  # nothing was auto-created


def test_an_alias_cannot_be_named_like_an_index_nor_an_index_like_an_alias(cluster: LocalCluster) -> None:
    named_like_index = send(cluster, "PUT", "/logs-2/_alias/logs-1")
    assert error_of(named_like_index) == (
        400,
        "invalid_alias_name_exception",
        "Invalid alias name [logs-1], an index or data stream exists with the same name as the alias",
    )
    named_like_alias = send(cluster, "PUT", "/logs")
    assert error_of(named_like_alias) == (
        400,
        "invalid_index_name_exception",
        "Invalid index name [logs], already exists as alias",
    )
    deleting_alias = send(cluster, "DELETE", "/logs")
    assert error_of(deleting_alias) == (
        400,
        "illegal_argument_exception",
        "The provided expression [logs] matches an alias, specify the corresponding concrete indices instead.",
    )


def test_dynamic_settings_change_the_routing_and_static_ones_are_refused(cluster: LocalCluster) -> None:
    ok(send(cluster, "PUT", "/settings-1"))
    assert ok(send(cluster, "PUT", "/settings-1/_settings", {"index": {"number_of_replicas": 2}})) == {
        "acknowledged": True
    }
    shown = ok(send(cluster, "GET", "/settings-1/_settings/index.number_of_replicas?flat_settings=true"))
    assert shown == {"settings-1": {"settings": {"index.number_of_replicas": "2"}}}
    health = ok(send(cluster, "GET", "/_cluster/health/settings-1?wait_for_status=green&timeout=20s"))
    assert health["active_shards"] == 3
    uuid = ok(send(cluster, "GET", "/settings-1/_settings"))["settings-1"]["settings"]["index"]["uuid"]
    static = send(cluster, "PUT", "/settings-1/_settings", {"index": {"codec": "best_compression"}})
    assert error_of(static) == (
        400,
        "illegal_argument_exception",
        f"Can't update non dynamic settings [[index.codec]] for open indices [[settings-1/{uuid}]]",
    )
    final = send(cluster, "PUT", "/settings-1/_settings", {"number_of_shards": 2})
    assert error_of(final) == (
        400,
        "illegal_argument_exception",
        "final index setting [index.number_of_shards], not updateable",
    )


def test_mappings_are_stored_merged_and_returned(cluster: LocalCluster) -> None:
    ok(send(cluster, "PUT", "/mapped", {"mappings": {"properties": {"a": {"type": "keyword"}}}}))
    assert ok(send(cluster, "PUT", "/mapped/_mapping", {"properties": {"b": {"type": "long"}}})) == {
        "acknowledged": True
    }
    assert ok(send(cluster, "GET", "/mapped/_mapping")) == {
        "mapped": {"mappings": {"properties": {"a": {"type": "keyword"}, "b": {"type": "long"}}}}
    }


def test_a_closed_index_refuses_reads_and_writes_until_opened(cluster: LocalCluster) -> None:
    ok(send(cluster, "PUT", "/shut?wait_for_active_shards=all"))
    uuid = ok(send(cluster, "GET", "/shut/_settings"))["shut"]["settings"]["index"]["uuid"]
    assert ok(send(cluster, "POST", "/shut/_close")) == {
        "acknowledged": True,
        "shards_acknowledged": True,
        "indices": {"shut": {"closed": True}},
    }
    closed = {"type": "index_closed_exception", "reason": "closed", "index_uuid": uuid, "index": "shut"}
    reads_and_writes = [
        ("GET", "/shut/_search", None),
        ("GET", "/shut/_count", None),
        ("PUT", "/shut/_doc/1", {"n": 1}),
        ("POST", "/_reindex", {"source": {"index": "shut"}, "dest": {"index": "shut-copy"}}),
    ]
    for method, path, body in reads_and_writes:
        response = send(cluster, method, path, body)
        assert (response.status, response.json) == (400, {"error": {"root_cause": [closed], **closed}, "status": 400})
    assert send(cluster, "GET", "/_cat/indices/shut?h=index,status").text == "shut close\n"
    # ES's settings requests expand wildcards to closed indices too: a static setting is changed while closed
    assert "shut" in ok(send(cluster, "GET", "/sh*/_settings"))
    assert ok(send(cluster, "PUT", "/sh*/_settings", {"index.refresh_interval": "2s"}))["acknowledged"] is True
    assert error_of(send(cluster, "PUT", "/nomatch*/_settings", {"index.refresh_interval": "2s"}))[:2] == (
        404, "index_not_found_exception",
    )  # fmt: skip
    assert ok(send(cluster, "POST", "/shut/_open")) == {"acknowledged": True, "shards_acknowledged": True}
    assert ok(send(cluster, "PUT", "/shut/_doc/1", {"n": 1}))["result"] == "created"


def test_date_math_names_in_create_write_and_search(cluster: LocalCluster) -> None:
    encoded = "/" + urllib.parse.quote("<dated-{now/d}>", safe="")
    created = ok(send(cluster, "PUT", encoded))
    assert created["index"].startswith("dated-") and len(created["index"]) == len("dated-2024.05.01")
    written = ok(send(cluster, "POST", f"{encoded}/_doc?refresh=true", {"n": 1}))
    assert written["_index"] == created["index"]
    assert ok(send(cluster, "GET", f"{encoded}/_count"))["count"] == 1


def test_an_index_created_on_a_node_that_is_not_master_is_complete_there_at_once(cluster: LocalCluster) -> None:
    master = send(cluster, "GET", "/_cat/master?h=node").text.strip()
    other = next(name for name in cluster.names if name != master)
    for attempt in range(20):
        name = f"race-{attempt}"
        created = ok(send(cluster, "PUT", f"/{name}", name=other))
        assert created["shards_acknowledged"] is True
        row = send(cluster, "GET", f"/_cat/indices/{name}?h=index,docs.count", name=other).text.split()
        assert row == [name, "0"], f"attempt {attempt}: {row}"
        ok(send(cluster, "DELETE", f"/{name}", name=other))


def test_cluster_health_that_times_out_answers_408(cluster: LocalCluster) -> None:
    response = send(cluster, "GET", "/_cluster/health?timeout=1ms&wait_for_nodes=10")
    assert response.status == 408
    assert response.json["timed_out"] is True


def test_official_client_alias_settings_mapping_and_state_calls(cluster: LocalCluster) -> None:
    from elasticsearch import Elasticsearch

    url = cluster.node("node-3").http_url
    es = Elasticsearch(url, request_timeout=20)
    es.indices.create(index="client-1", mappings={"properties": {"f": {"type": "keyword"}}}, wait_for_active_shards="1")
    assert es.indices.put_alias(index="client-1", name="client")["acknowledged"] is True
    assert es.indices.exists_alias(name="client")
    assert es.indices.get_alias(name="client").body == {"client-1": {"aliases": {"client": {}}}}
    es.indices.update_aliases(actions=[{"add": {"index": "client-1", "alias": "client-w", "is_write_index": True}}])
    assert es.index(index="client-w", id="1", document={"f": "x"}, refresh=True)["_index"] == "client-1"
    assert es.count(index="client")["count"] == 1
    es.indices.put_settings(index="client-1", settings={"index": {"number_of_replicas": 0}})
    assert es.indices.get_settings(index="client-1")["client-1"]["settings"]["index"]["number_of_replicas"] == "0"
    es.indices.put_mapping(index="client-1", properties={"g": {"type": "long"}})
    assert set(es.indices.get_mapping(index="client-1")["client-1"]["mappings"]["properties"]) == {"f", "g"}
    assert es.indices.close(index="client-1")["indices"] == {"client-1": {"closed": True}}
    assert es.indices.open(index="client-1")["acknowledged"] is True
    es.indices.delete_alias(index="client-1", name="client")
    assert not es.indices.exists_alias(name="client")


def test_cat_aliases(cluster: LocalCluster) -> None:
    ok(send(cluster, "PUT", "/cat-aliased"))
    ok(send(cluster, "PUT", "/cat-aliased/_alias/cat-a", {"is_write_index": True, "routing": "1", "filter": {}}))
    ok(send(cluster, "PUT", "/cat-aliased/_alias/cat-b"))
    text = send(cluster, "GET", "/_cat/aliases/cat-*?v&s=alias").text
    assert [line.split() for line in text.splitlines()] == [
        ["alias", "index", "filter", "routing.index", "routing.search", "is_write_index"],
        ["cat-a", "cat-aliased", "*", "1", "1", "true"],
        ["cat-b", "cat-aliased", "-", "-", "-", "-"],
    ]


def test_must_exist_is_a_boolean_of_remove_actions_only(cluster: LocalCluster) -> None:
    ok(send(cluster, "PUT", "/logs-1/_alias/short-lived"))
    present = {"remove": {"index": "logs-1", "alias": "short-lived", "must_exist": "true"}}  # ES reads the word too
    assert ok(send(cluster, "POST", "/_aliases", {"actions": [present]}))["acknowledged"] is True
    maybe = {"remove": {"index": "logs-1", "alias": "never-there", "must_exist": "maybe"}}
    assert error_of(send(cluster, "POST", "/_aliases", {"actions": [maybe]})) == (
        400, "illegal_argument_exception", "Failed to parse value [maybe] as only [true] or [false] are allowed.",
    )  # fmt: skip
    on_add = {"add": {"index": "logs-1", "alias": "a", "must_exist": True}}
    assert error_of(send(cluster, "POST", "/_aliases", {"actions": [on_add]}))[1:] == (
        "x_content_parse_exception", "[1:1] [add] unknown field [must_exist]",
    )  # fmt: skip
