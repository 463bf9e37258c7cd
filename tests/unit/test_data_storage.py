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


def test_indexing_an_id_twice_updates_it_and_create_conflicts(conn: sqlite3.Connection) -> None:
    outcome = shard_store.apply_on_primary(
        KEY, [{"op": "index", "id": "1"}, {"op": "index", "id": "1"}, {"op": "create", "id": "1"}], conn
    )
    assert outcome.results == [
        {"result": "created", "version": 1, "seq_no": 0},
        {"result": "updated", "version": 2, "seq_no": 1},
        {"error": "version_conflict", "current_version": 2},
    ]
    assert shard_store.doc_counts([KEY], conn)[KEY].count == 1


def test_deletes_of_missing_documents_are_not_found_and_take_a_sequence_number(conn: sqlite3.Connection) -> None:
    outcome = shard_store.apply_on_primary(KEY, [{"op": "delete", "id": "x"}], conn)
    assert outcome.results == [{"result": "not_found", "version": 1, "seq_no": 0}]


def test_replicas_applying_the_primary_effects_hold_the_same_documents(conn: sqlite3.Connection) -> None:
    replica = sqlite3.connect(":memory:", isolation_level=None)
    ops = [{"op": "index", "id": "a"}, {"op": "bulk_create", "count": 5}, {"op": "delete", "id": "a"},
           {"op": "index", "id": "b"}, {"op": "bulk_delete", "count": 2}]  # fmt: skip
    outcome = shard_store.apply_on_primary(KEY, ops, conn)
    shard_store.apply_effects(KEY, outcome.effects, replica)
    assert shard_store.doc_counts([KEY], conn)[KEY].count == 4
    assert shard_store.doc_counts([KEY], replica)[KEY] == shard_store.doc_counts([KEY], conn)[KEY]


def test_a_recovered_copy_equals_its_primary(conn: sqlite3.Connection) -> None:
    shard_store.apply_on_primary(KEY, [{"op": "index", "id": "a"}, {"op": "bulk_create", "count": 3}], conn)
    target = sqlite3.connect(":memory:", isolation_level=None)
    shard_store.install(KEY, shard_store.snapshot(KEY, conn), target)
    assert shard_store.snapshot(KEY, target) == shard_store.snapshot(KEY, conn)
    assert shard_store.document_ids(KEY, 0, 10, target)[0] == "a"
    assert len(shard_store.document_ids(KEY, 0, 10, target)) == 4
