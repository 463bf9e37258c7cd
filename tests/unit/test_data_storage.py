"""Cluster settings, JSON body errors and the shard copies' sqlite storage (`node.data`)."""

from __future__ import annotations

import sqlite3

import pytest

from node.data.cluster_settings import (
    SettingsUpdate,
    SimCosts,
    apply_settings_update,
    effective_settings,
    nested,
    without_transient,
)
from node.data.errors import ParseError, XContentParseError
from node.data.json_body import parse_json_object
from node.errors import ActionRequestValidationError, IllegalArgumentError
from node.indices import shard_store

# ---- cluster settings -------------------------------------------------------------------------------------


def test_transient_wins_over_persistent_which_wins_over_the_default() -> None:
    metadata = apply_settings_update(
        {},
        SettingsUpdate.parse(
            {
                "persistent": {"sim": {"search": {"shard_query_time": "5s"}}, "sim.write.doc_time": "1ms"},
                "transient": {"sim.search.shard_query_time": "30s"},
            }
        ),
    )
    values = effective_settings(metadata)
    assert values["sim.search.shard_query_time"] == "30s"
    assert values["sim.write.doc_time"] == "1ms"
    assert values["sim.reindex.batch_time"] == "10ms"
    assert SimCosts.from_metadata(metadata).shard_query == 30.0
    assert SimCosts.from_metadata(without_transient(metadata)).shard_query == 5.0


def test_null_resets_a_setting() -> None:
    metadata = apply_settings_update({}, SettingsUpdate.parse({"persistent": {"sim.write.doc_time": "1ms"}}))
    metadata = apply_settings_update(metadata, SettingsUpdate.parse({"persistent": {"sim.write.doc_time": None}}))
    assert metadata["settings"] == {}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"persistent": {"foo.bar": "1"}}, "persistent setting [foo.bar], not recognized"),
        ({"transient": {"sim.nope": "1"}}, "transient setting [sim.nope], not recognized"),
        (
            {"persistent": {"sim.search.shard_query_time": "30"}},
            (
                "failed to parse setting [sim.search.shard_query_time] with value [30] as a time value: unit is missing "
                "or unrecognized"
            ),
        ),
        (
            {"persistent": {"sim.reindex.batch_size": "0"}},
            "Failed to parse value [0] for setting [sim.reindex.batch_size] must be >= 1",
        ),
    ],
)
def test_bad_cluster_settings_are_rejected(body: dict[str, object], reason: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        SettingsUpdate.parse(body)
    assert caught.value.reason == reason


def test_an_update_without_settings_fails_validation() -> None:
    with pytest.raises(ActionRequestValidationError) as caught:
        SettingsUpdate.parse({})
    assert caught.value.reason == "Validation Failed: 1: no settings to update;"


def test_settings_render_nested() -> None:
    assert nested({"sim.search.shard_query_time": "1s", "sim.write.doc_time": "2ms"}) == {
        "sim": {"search": {"shard_query_time": "1s"}, "write": {"doc_time": "2ms"}}
    }


# ---- JSON bodies ------------------------------------------------------------------------------------------


def test_a_required_empty_body_is_a_parse_exception() -> None:
    with pytest.raises(ParseError) as caught:
        parse_json_object(b"  ", required=True)
    assert caught.value.reason == "request body is required"


def test_malformed_json_is_an_x_content_parse_exception_with_jackson_text() -> None:
    with pytest.raises(XContentParseError) as caught:
        parse_json_object(b'{"a" 1}')
    body = caught.value.to_response_body()["error"]
    assert body["type"] == "x_content_parse_exception"
    assert body["reason"].startswith("[1:6] Unexpected character ('1' (code 49)): was expecting a colon to separate")
    assert body["root_cause"][0]["type"] == "x_content_parse_exception"
    assert body["caused_by"]["type"] == "json_parse_exception"


# ---- shard storage ----------------------------------------------------------------------------------------

KEY = ("uuid", 0)


@pytest.fixture
def conn() -> sqlite3.Connection:
    return sqlite3.connect(":memory:", isolation_level=None)


INDEX = "logs"
TERM = 1


def _apply(conn: sqlite3.Connection, *ops: dict[str, object], now: int | None = None) -> shard_store.PrimaryOutcome:
    return shard_store.apply_on_primary(KEY, INDEX, ops, TERM, conn, now)


def _results(outcome: shard_store.PrimaryOutcome) -> list[tuple[object, ...]]:
    """(result, version, seq_no) per applied operation, (error type, reason) per failed one."""
    out: list[tuple[object, ...]] = []
    for result in outcome.results:
        if "error" in result:
            error = result["error"]
            assert isinstance(error, dict)
            out.append((error["type"], error["reason"]))
        else:
            out.append((result["result"], result["version"], result["seq_no"]))
    return out


def test_indexing_an_id_twice_updates_it_and_create_conflicts(conn: sqlite3.Connection) -> None:
    outcome = _apply(
        conn,
        {"op": "index", "id": "1", "source": {"a": 1}},
        {"op": "index", "id": "1", "source": {"a": 2}},
        {"op": "create", "id": "1", "source": {"a": 3}},
    )
    assert _results(outcome) == [
        ("created", 1, 0),
        ("updated", 2, 1),
        ("version_conflict_engine_exception", "[1]: version conflict, document already exists (current version [2])"),
    ]
    assert shard_store.doc_counts([KEY], conn)[KEY].count == 1
    doc = shard_store.get_document(KEY, "1", conn)
    assert doc is not None and (doc.source(), doc.version, doc.seq_no, doc.primary_term) == ({"a": 2}, 2, 1, TERM)


def test_deletes_of_missing_documents_are_not_found_and_take_a_sequence_number(conn: sqlite3.Connection) -> None:
    outcome = _apply(conn, {"op": "delete", "id": "x"})
    assert _results(outcome) == [("not_found", 1, 0)]


def test_a_document_indexed_again_after_a_delete_continues_its_versions(conn: sqlite3.Connection) -> None:
    """ES keeps a delete's tombstone for `index.gc_deletes` (60 s): the version goes on, the result is `created`."""
    _apply(conn, {"op": "index", "id": "1", "source": {}}, {"op": "delete", "id": "1"}, now=1_000)
    assert _results(_apply(conn, {"op": "index", "id": "1", "source": {}}, now=2_000)) == [("created", 3, 2)]
    _apply(conn, {"op": "delete", "id": "1"}, now=3_000)
    assert _results(_apply(conn, {"op": "index", "id": "1", "source": {}}, now=70_000)) == [("created", 1, 4)]


def test_compare_and_set_writes_conflict_with_es_reasons(conn: sqlite3.Connection) -> None:
    _apply(conn, {"op": "index", "id": "1", "source": {"a": 1}})
    outcome = _apply(
        conn,
        {"op": "index", "id": "1", "source": {}, "if_seq_no": 10000, "if_primary_term": 1},
        {"op": "delete", "id": "2", "if_seq_no": 0, "if_primary_term": 1},
        {"op": "index", "id": "1", "source": {"a": 2}, "if_seq_no": 0, "if_primary_term": 1},
    )
    assert _results(outcome) == [
        (
            "version_conflict_engine_exception",
            "[1]: version conflict, required seqNo [10000], primary term [1]. current document has seqNo [0] and "
            "primary term [1]",
        ),
        (
            "version_conflict_engine_exception",
            "[2]: version conflict, required seqNo [0], primary term [1]. but no document was found",
        ),
        ("updated", 2, 1),
    ]


def test_external_versions_win_only_when_higher(conn: sqlite3.Connection) -> None:
    outcome = _apply(
        conn,
        {"op": "index", "id": "1", "source": {}, "version": 5, "version_type": "external"},
        {"op": "index", "id": "1", "source": {}, "version": 5, "version_type": "external"},
        {"op": "index", "id": "1", "source": {}, "version": 5, "version_type": "external_gte"},
        {"op": "index", "id": "1", "source": {}, "version": 4, "version_type": "external_gte"},
    )
    assert _results(outcome) == [
        ("created", 5, 0),
        (
            "version_conflict_engine_exception",
            "[1]: version conflict, current version [5] is higher or equal to the one provided [5]",
        ),
        ("updated", 5, 1),
        (
            "version_conflict_engine_exception",
            "[1]: version conflict, current version [5] is higher than the one provided [4]",
        ),
    ]


def test_updates_merge_docs_detect_noops_run_scripts_and_upsert(conn: sqlite3.Connection) -> None:
    _apply(conn, {"op": "index", "id": "1", "source": {"a": 1, "o": {"x": 1}}})
    outcome = _apply(
        conn,
        {"op": "update", "id": "1", "update": {"doc": {"o": {"y": 2}}}, "return_source": True},
        {"op": "update", "id": "1", "update": {"doc": {"a": 1}}},
        {"op": "update", "id": "1", "update": {"script": {"source": "ctx._source.a += params.n", "params": {"n": 4}}}},
        {"op": "update", "id": "2", "update": {"doc": {"b": 1}}},
        {"op": "update", "id": "2", "update": {"doc": {"b": 1}, "doc_as_upsert": True}},
        {"op": "update", "id": "1", "update": {"script": "ctx.op = 'delete'"}},
    )
    assert _results(outcome) == [
        ("updated", 2, 1),
        ("noop", 2, 1),
        ("updated", 3, 2),
        ("document_missing_exception", "[2]: document missing"),
        ("created", 1, 3),
        ("deleted", 4, 4),
    ]
    assert outcome.results[0]["source"] == {"a": 1, "o": {"x": 1, "y": 2}}
    assert shard_store.get_document(KEY, "1", conn) is None
    doc = shard_store.get_document(KEY, "2", conn)
    assert doc is not None and doc.source() == {"b": 1}


def test_replicas_applying_the_primary_effects_hold_the_same_documents(conn: sqlite3.Connection) -> None:
    replica = sqlite3.connect(":memory:", isolation_level=None)
    outcome = _apply(
        conn,
        {"op": "index", "id": "a", "source": {"n": 1}, "routing": "r"},
        {"op": "delete", "id": "a"},
        {"op": "index", "id": "b", "source": {"n": 2}},
        {"op": "update", "id": "b", "update": {"doc": {"n": 3}}},
    )
    shard_store.apply_effects(KEY, outcome.effects, replica)
    shard_store.apply_effects(KEY, outcome.effects[:1], replica)  # a late retry of an older effect changes nothing
    assert shard_store.doc_counts([KEY], replica)[KEY] == shard_store.doc_counts([KEY], conn)[KEY]
    assert shard_store.get_document(KEY, "b", replica) == shard_store.get_document(KEY, "b", conn)
    assert shard_store.get_document(KEY, "a", replica) is None


def test_a_recovered_copy_equals_its_primary_page_by_page(conn: sqlite3.Connection) -> None:
    _apply(conn, *({"op": "index", "id": f"d{i}", "source": {"i": i}} for i in range(5)), {"op": "delete", "id": "d2"})
    target = sqlite3.connect(":memory:", isolation_level=None)
    after, first = None, True
    while True:
        page = shard_store.recovery_page(KEY, after, 2, conn)
        shard_store.install_page(KEY, page, first, target)
        first = False
        if page.done:
            break
        after = page.last_id
    docs = shard_store.finish_install(KEY, page.max_seq_no, target)
    assert docs == shard_store.doc_counts([KEY], conn)[KEY] == shard_store.ShardDocs(4, 5)
    for i in range(5):
        assert shard_store.get_document(KEY, f"d{i}", target) == shard_store.get_document(KEY, f"d{i}", conn)
