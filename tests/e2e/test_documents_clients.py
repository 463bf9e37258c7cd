"""The official `elasticsearch` client's document calls, `helpers.bulk`, `helpers.scan`, `helpers.reindex` and
`client.reindex` round-trip real documents on a 3-node cluster, and still read every one of them after a data node
was killed and its shard copies were allocated again."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from elasticsearch import ConflictError, Elasticsearch, ElasticsearchWarning, NotFoundError, helpers

from cluster.launcher import LocalCluster

pytestmark = pytest.mark.e2e

DOCS = 1200


def book(i: int) -> dict[str, Any]:
    return {"title": f"Book {i}", "year": 1900 + i % 120, "genre": ("poetry", "novel", "essay")[i % 3], "n": i}


def client(cluster: LocalCluster, *names: str) -> Elasticsearch:
    urls = [cluster.node(n).http_url for n in names] if names else cluster.endpoints()
    return Elasticsearch(urls, request_timeout=60, max_retries=3, retry_on_timeout=True)


def test_the_official_client_round_trips_documents_and_survives_a_dead_data_node(
    fresh_cluster3: LocalCluster,
) -> None:
    cluster = fresh_cluster3
    es = client(cluster)
    try:
        es.indices.create(
            index="books", settings={"number_of_shards": 3, "number_of_replicas": 1}, wait_for_active_shards="all"
        )
        _document_calls(es)
        ok, errors = helpers.bulk(es, ({"_index": "books", "_id": str(i), "_source": book(i)} for i in range(DOCS)))
        assert (ok, errors) == (DOCS, [])
        es.indices.refresh(index="books")
        scanned = {hit["_id"]: hit["_source"] for hit in helpers.scan(es, index="books", size=250)}
        assert len(scanned) == DOCS and all(scanned[str(i)] == book(i) for i in range(DOCS))

        assert helpers.reindex(es, "books", "books-copy") == (DOCS, 0)
        reindexed = es.reindex(
            source={"index": "books", "query": {"term": {"genre": "poetry"}}}, dest={"index": "poems"}, refresh=True
        )
        assert (reindexed["created"], reindexed["failures"]) == (DOCS // 3, [])
        assert es.count(index="books-copy")["count"] == DOCS
        assert es.count(index="poems", query={"range": {"year": {"gte": 1900}}})["count"] == DOCS // 3
        page = es.search(
            index="books", query={"match": {"genre": "essay"}}, sort=[{"n": "desc"}], size=3, source_includes=["n"]
        )
        assert [h["_source"] for h in page["hits"]["hits"]] == [{"n": DOCS - 1}, {"n": DOCS - 4}, {"n": DOCS - 7}]

        _stored_task_result_is_readable_in_tasks(es)
        _alias_calls(es)
    finally:
        es.close()

    assert cluster.kill_node("node-3")
    survivors = client(cluster, "node-1", "node-2")
    try:
        health = survivors.cluster.health(wait_for_nodes="2", wait_for_status="green", timeout="60s")
        assert (health["number_of_nodes"], health["status"], health["unassigned_shards"]) == (2, "green", 0)
        for index in ("books", "books-copy"):
            assert survivors.count(index=index)["count"] == DOCS
            scanned = {hit["_id"]: hit["_source"] for hit in helpers.scan(survivors, index=index, size=500)}
            assert scanned == {str(i): book(i) for i in range(DOCS)}
        got = survivors.mget(index="books", ids=["0", "599", str(DOCS - 1)])
        assert [d["_source"]["n"] for d in got["docs"]] == [0, 599, DOCS - 1]
        updated = survivors.update(index="books", id="7", doc={"title": "Seven"})
        assert updated["result"] == "updated" and updated["_version"] == 2
        # Aliases still read every index behind them and write to their write index.
        assert survivors.count(index="library")["count"] == 2 * DOCS
        written = survivors.index(index="shelf", id="new", document={"title": "New", "n": DOCS}, refresh=True)
        assert written["_index"] == "books-copy"
        assert survivors.get(index="shelf", id="new")["_source"] == {"title": "New", "n": DOCS}
        assert survivors.indices.delete_alias(index="books", name="library")["acknowledged"] is True
        assert survivors.count(index="library")["count"] == DOCS + 1
    finally:
        survivors.close()


def _document_calls(es: Elasticsearch) -> None:
    created = es.index(index="books", id="a", document={"title": "A", "n": -1}, refresh=True)
    assert (created["result"], created["forced_refresh"], created["_version"]) == ("created", True, 1)
    assert es.get(index="books", id="a")["_source"] == {"title": "A", "n": -1}
    assert es.exists(index="books", id="a") and not es.exists(index="books", id="nope")
    assert es.get_source(index="books", id="a") == {"title": "A", "n": -1}
    with pytest.raises(ConflictError) as conflict:
        es.index(index="books", id="a", document={"title": "B"}, if_seq_no=10_000, if_primary_term=1)
    assert conflict.value.meta.status == 409
    assert conflict.value.body["error"]["reason"].startswith("[a]: version conflict, required seqNo [10000]")
    current = es.get(index="books", id="a")
    es.index(
        index="books", id="a", document={"title": "B", "n": -1},
        if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"],
    )  # fmt: skip
    with pytest.raises(ConflictError):
        es.create(index="books", id="a", document={"title": "C"})
    noop = es.update(index="books", id="a", doc={"title": "B"})
    assert noop["result"] == "noop"
    scripted = es.update(
        index="books", id="a", script={"source": "ctx._source.n += params.by", "params": {"by": 5}}, source=True
    )
    assert scripted["get"]["_source"] == {"title": "B", "n": 4}
    upserted = es.update(index="books", id="b", doc={"title": "Up"}, doc_as_upsert=True)
    assert upserted["result"] == "created"
    external = es.index(index="books", id="c", document={"title": "X"}, version=7, version_type="external")
    assert external["_version"] == 7
    got = es.mget(index="books", ids=["a", "b", "zz"])
    assert [d["found"] for d in got["docs"]] == [True, True, False]
    assert es.search(index="books", query={"ids": {"values": ["a", "b"]}})["hits"]["total"]["value"] == 2
    for doc_id in ("a", "b", "c"):
        assert es.delete(index="books", id=doc_id)["result"] == "deleted"
    with pytest.raises(NotFoundError):
        es.get(index="books", id="a")
    es.indices.refresh(index="books")


def _alias_calls(es: Elasticsearch) -> None:
    """An alias over two indices reads both; a write goes to its write index; a one-index alias gets by id."""
    assert es.indices.put_alias(index="books", name="library")["acknowledged"] is True
    updated = es.indices.update_aliases(
        actions=[
            {"add": {"index": "books-copy", "alias": "library"}},
            {"add": {"index": "books-copy", "alias": "shelf", "is_write_index": True}},
        ]
    )
    assert updated["acknowledged"] is True
    assert es.indices.get_alias(name="library").body == {
        "books": {"aliases": {"library": {}}},
        "books-copy": {"aliases": {"library": {}}},
    }
    assert es.indices.exists_alias(name="shelf")
    assert es.count(index="library")["count"] == 2 * DOCS
    assert es.get(index="shelf", id="3")["_source"] == book(3)


def _stored_task_result_is_readable_in_tasks(es: Elasticsearch) -> None:
    started = es.reindex(source={"index": "poems"}, dest={"index": "poems-2"}, wait_for_completion=False)
    done = es.tasks.get(task_id=started["task"], wait_for_completion=True, timeout="60s")
    assert done["completed"] is True and done["response"]["created"] == DOCS // 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hits = es.search(index=".tasks", query={"ids": {"values": [started["task"]]}})["hits"]["hits"]
    assert [h["_source"]["response"]["created"] for h in hits] == [DOCS // 3]
    assert any(
        issubclass(w.category, ElasticsearchWarning) and "system indices: [.tasks]" in str(w.message) for w in caught
    )
