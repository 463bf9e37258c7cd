"""Index names, index settings, document routing and cluster health (`node.data`)."""

from __future__ import annotations

import pytest

from node.data.allocation import reroute, started
from node.data.doc_routing import routing_hash, routing_num_shards, shard_id
from node.data.errors import InvalidIndexNameError, ParseError
from node.data.health import HealthWait, cluster_health, health_indices
from node.data.index_metadata import (
    IndexMetadata,
    normalize_settings,
    parse_create_index_body,
    parse_index_settings,
    upgrade_legacy,
    validate_index_name,
    with_index_metadata,
)
from node.errors import IllegalArgumentError


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Logs", "Invalid index name [Logs], must be lowercase"),
        ("a b", 'Invalid index name [a b], must not contain the following characters [\\, /, *, ?, ", <, >, |,  , ,]'),
        ("a#b", "Invalid index name [a#b], must not contain '#'"),
        ("a:b", "Invalid index name [a:b], must not contain ':'"),
        ("_x", "Invalid index name [_x], must not start with '_', '-', or '+'"),
        ("-x", "Invalid index name [-x], must not start with '_', '-', or '+'"),
        ("..", "Invalid index name [..], must not be '.' or '..'"),
        ("x" * 256, f"Invalid index name [{'x' * 256}], index name is too long, (256 > 255)"),
    ],
)
def test_invalid_index_names_are_rejected_with_es_reasons(name: str, reason: str) -> None:
    with pytest.raises(InvalidIndexNameError) as caught:
        validate_index_name(name)
    assert caught.value.to_dict() == {
        "type": "invalid_index_name_exception",
        "reason": reason,
        "index_uuid": "_na_",
        "index": name,
    }


def test_valid_index_names_pass() -> None:
    for name in ("logs", ".tasks", "logs-2024.05.01", "a+b"):
        validate_index_name(name)


def test_settings_are_flattened_and_prefixed() -> None:
    assert normalize_settings({"number_of_shards": 3, "index": {"hidden": True}}) == {
        "index.number_of_shards": "3",
        "index.hidden": "true",
    }


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            {"index.number_of_shards": "0"},
            "Failed to parse value [0] for setting [index.number_of_shards] must be >= 1",
        ),
        (
            {"index.number_of_shards": "1025"},
            "Failed to parse value [1025] for setting [index.number_of_shards] must be <= 1024",
        ),
        (
            {"index.number_of_replicas": "-1"},
            "Failed to parse value [-1] for setting [index.number_of_replicas] must be >= 0",
        ),
        ({"index.number_of_shards": "x"}, "Failed to parse value [x] for setting [index.number_of_shards]"),
        (
            {"index.foo": "1"},
            (
                "unknown setting [index.foo] please check that any required plugins are installed, or check the breaking "
                "changes documentation for removed settings"
            ),
        ),
        ({"index.uuid": "u"}, "private index setting [index.uuid] can not be set explicitly"),
        (
            {"index.auto_expand_replicas": "2-1"},
            "[index.auto_expand_replicas] minReplicas must be =< maxReplicas but wasn't 2 > 1",
        ),
    ],
)
def test_bad_index_settings_are_rejected_with_es_reasons(settings: dict[str, str], reason: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        parse_index_settings(settings)
    assert caught.value.reason == reason


def test_index_defaults_are_one_shard_and_one_replica() -> None:
    parsed = parse_index_settings({})
    assert (parsed.number_of_shards, parsed.number_of_replicas, parsed.hidden) == (1, 1, False)


def test_a_create_body_with_an_unknown_key_is_a_parse_exception() -> None:
    with pytest.raises(ParseError) as caught:
        parse_create_index_body({"number_of_shards": 3})
    assert caught.value.to_dict() == {
        "type": "parse_exception",
        "reason": "unknown key [number_of_shards] for create index",
    }


def test_the_legacy_tasks_entry_is_upgraded_once() -> None:
    metadata = {"indices": {".tasks": {"index.number_of_shards": "1", "index.hidden": "true"}}}
    upgraded = upgrade_legacy(metadata, lambda: "uuid-1", 42, "9.1.0")
    index = IndexMetadata.from_json(".tasks", upgraded["indices"][".tasks"])
    assert (index.uuid, index.creation_date, index.hidden) == ("uuid-1", 42, True)
    assert upgrade_legacy(upgraded, lambda: "uuid-2", 43, "9.1.0") is upgraded


# ---- document routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # ES Murmur3HashFunctionTests#testKnownValues
        ("hell", 0x5A0CB7C3),
        ("hello", 0xD7C31989),
        ("hello w", 0x22AB2984),
        ("hello wo", 0xDF0CA123),
        ("hello wor", 0xE7744D61),
        ("The quick brown fox jumps over the lazy dog", 0xE07DB09C),
        ("The quick brown fox jumps over the lazy cog", 0x4E63D2AD),
    ],
)
def test_routing_hash_is_es_murmur3_over_utf16(text: str, expected: int) -> None:
    assert routing_hash(text) & 0xFFFFFFFF == expected


def test_routing_shards_are_the_largest_power_of_two_split_up_to_1024() -> None:
    assert [routing_num_shards(n) for n in (1, 2, 3, 5, 1024)] == [1024, 1024, 768, 640, 2048]


def test_documents_spread_over_every_shard_and_routing_overrides_the_id() -> None:
    shards = {shard_id(str(i), 3) for i in range(100)}
    assert shards == {0, 1, 2}
    assert shard_id("a", 5, routing="user-1") == shard_id("b", 5, routing="user-1")


# ---- health -----------------------------------------------------------------------------------------------


def _index(shards: int, replicas: int) -> dict[str, object]:
    user = {"index.number_of_shards": str(shards), "index.number_of_replicas": str(replicas)}
    return with_index_metadata({}, IndexMetadata.create("logs", user, uuid="u", creation_date=1, version_created="9"))


def test_no_index_is_green_with_100_percent_active() -> None:
    health = cluster_health({})
    assert (health.status, health.active_shards_percent) == ("green", 100.0)


def test_a_new_index_is_yellow_while_its_primaries_initialize_then_green() -> None:
    metadata = reroute(_index(1, 0), ["n1"])
    assert cluster_health(metadata).status == "yellow"
    metadata = started(metadata, "logs", "u", 0, "n1")
    assert cluster_health(metadata).status == "green"


def test_unassigned_replicas_make_it_yellow_and_a_lost_primary_red() -> None:
    metadata = reroute(_index(1, 1), ["n1"])
    metadata = reroute(started(metadata, "logs", "u", 0, "n1"), ["n1"])
    health = cluster_health(metadata)
    assert (health.status, health.active_shards, health.unassigned_shards) == ("yellow", 1, 1)
    lost = cluster_health(metadata, live_nodes=set())
    assert (lost.status, lost.unassigned_primary_shards) == ("red", 1)


def test_health_of_a_missing_index_is_red_and_waits_compare_statuses() -> None:
    metadata = reroute(_index(1, 0), ["n1"])
    metadata = started(metadata, "logs", "u", 0, "n1")
    assert health_indices(metadata, ["log*", "nope"]) == ["logs", "nope"]
    assert not HealthWait(status="yellow").satisfied(metadata, ["nope"])
    assert HealthWait(status="yellow").satisfied(metadata, ["logs"])
    assert HealthWait(active_shards="all").satisfied(metadata, None)
