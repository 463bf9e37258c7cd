"""One shard's search over stored documents: sorting, slicing and hit rendering (`node.data.shard_query`,
`node.data.search_sort`, `node.data.source_filter`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from node.data.errors import ParsingError
from node.data.search_sort import LONG_MAX, LONG_MIN, parse_sort
from node.data.shard_query import (
    ShardHit,
    ShardQuery,
    StoredDocument,
    render_get_result,
    render_hit,
    run_query,
    slice_members,
)
from node.data.source_filter import SourceFilter, parse_source_filter, source_filter_from_params
from node.errors import IllegalArgumentError


def doc(doc_id: str, source: dict[str, Any], seq_no: int = 0, routing: str | None = None) -> StoredDocument:
    return StoredDocument(doc_id, 1, seq_no, 1, routing, json.dumps(source))


DOCS = [
    doc("a", {"n": 3, "s": "pear", "multi": [5, 1]}, 0),
    doc("b", {"n": 1, "s": "apple", "multi": [2, 9]}, 1),
    doc("c", {"s": "cherry"}, 2),
    doc("d", {"n": 2, "s": "Banana", "multi": 4}, 3),
]


def run(query: ShardQuery) -> tuple[int, list[ShardHit]]:
    return run_query(query, DOCS)


def order(query: ShardQuery) -> list[str]:
    return [h.doc.id for h in run(query)[1]]


def test_without_a_sort_hits_come_in_index_order_with_a_score() -> None:
    total, hits = run(ShardQuery(window=2))
    assert total == 4
    assert [(h.doc.id, h.score, h.sort_values) for h in hits] == [("a", 1.0, None), ("b", 1.0, None)]


def test_a_field_sort_puts_missing_values_last_in_both_directions() -> None:
    assert order(ShardQuery(sort=parse_sort("n"), window=None)) == ["b", "d", "a", "c"]
    assert order(ShardQuery(sort=parse_sort({"n": "desc"}), window=None)) == ["a", "d", "b", "c"]
    assert order(ShardQuery(sort=parse_sort({"n": {"order": "asc", "missing": "_first"}}), window=None)) == [
        "c", "b", "d", "a",
    ]  # fmt: skip


def test_sort_values_show_missing_numbers_as_long_extremes() -> None:
    _, hits = run(ShardQuery(sort=parse_sort([{"n": "asc"}]), window=None))
    assert [h.sort_values for h in hits] == [[1], [2], [3], [LONG_MAX]]
    _, hits = run(ShardQuery(sort=parse_sort([{"n": "desc"}]), window=None))
    assert hits[-1].sort_values == [LONG_MIN]


def test_strings_sort_by_code_point_and_arrays_by_min_or_max() -> None:
    assert order(ShardQuery(sort=parse_sort("s"), window=None)) == ["d", "b", "c", "a"]
    assert order(ShardQuery(sort=parse_sort({"multi": "asc"}), window=None))[:3] == ["a", "b", "d"]
    assert order(ShardQuery(sort=parse_sort({"multi": "desc"}), window=None))[:3] == ["b", "a", "d"]


def test_sorting_on_fields_leaves_scores_null_unless_tracked() -> None:
    _, hits = run(ShardQuery(sort=parse_sort("n"), window=1))
    assert hits[0].score is None
    _, hits = run(ShardQuery(sort=parse_sort("n"), window=1, track_scores=True))
    assert hits[0].score == 1.0
    _, hits = run(ShardQuery(sort=parse_sort(["_score", "n"]), window=1))
    assert hits[0].score == 1.0


def test_doc_order_is_the_sequence_of_last_modification() -> None:
    _, hits = run(ShardQuery(sort=parse_sort("_doc"), window=None))
    assert [h.sort_values for h in hits] == [[0], [1], [2], [3]]


def test_the_url_form_and_bad_orders() -> None:
    assert parse_sort(["n:desc"])[0].descending
    with pytest.raises(IllegalArgumentError) as caught:
        parse_sort({"n": "up"})
    assert caught.value.reason == "Unknown SortOrder [up]"


def test_slices_partition_the_ids_into_near_equal_contiguous_shares() -> None:
    ids = [f"{i:03d}" for i in range(10)]
    parts = [sorted(slice_members(ids, (i, 3))) for i in range(3)]
    assert parts == [ids[0:4], ids[4:7], ids[7:10]]
    many = [doc(i, {}, n) for n, i in enumerate(ids)]
    assert [
        h.doc.id for h in run_query(ShardQuery(window=None, slice=(1, 3)), many, slice_members(ids, (1, 3)))[1]
    ] == ids[4:7]


def test_a_query_and_a_window_count_every_match() -> None:
    total, hits = run(ShardQuery(query={"exists": {"field": "n"}}, window=1))
    assert (total, [h.doc.id for h in hits]) == (3, ["a"])


def test_hits_render_in_es_order_with_routing_and_filtered_source() -> None:
    hit = ShardHit(doc("x", {"a": {"b": 1, "c": 2}, "d": 3}, 7, routing="r"), None, [[0, 3]], [3])
    rendered = render_hit("idx", hit, parse_source_filter(["a.*"]), version=True, seq_no_primary_term=True)
    assert list(rendered) == [
        "_index",
        "_id",
        "_version",
        "_seq_no",
        "_primary_term",
        "_score",
        "_routing",
        "_source",
        "sort",
    ]
    assert rendered["_source"] == {"a": {"b": 1, "c": 2}}
    assert "_source" not in render_hit("idx", hit, SourceFilter(fetch=False))


def test_get_results_render_in_es_order() -> None:
    found = render_get_result("idx", "x", doc("x", {"a": 1}, 4, routing="r"), SourceFilter())
    assert list(found) == ["_index", "_id", "_version", "_seq_no", "_primary_term", "_routing", "found", "_source"]
    assert render_get_result("idx", "y", None, SourceFilter()) == {"_index": "idx", "_id": "y", "found": False}


@pytest.mark.parametrize(
    ("spec", "source", "expected"),
    [
        (["a"], {"a": {"b": 1}, "c": 2}, {"a": {"b": 1}}),
        ("a.b", {"a": {"b": 1, "x": 2}, "c": 2}, {"a": {"b": 1}}),
        ({"excludes": ["a.x"]}, {"a": {"b": 1, "x": 2}, "c": 2}, {"a": {"b": 1}, "c": 2}),
        ({"includes": ["*.b"], "excludes": []}, {"a": {"b": 1, "x": 2}, "c": 2}, {"a": {"b": 1}}),
        (["list.k"], {"list": [{"k": 1, "j": 2}, {"j": 3}]}, {"list": [{"k": 1}]}),
        (True, {"a": 1}, {"a": 1}),
    ],
)
def test_source_filtering_follows_es_patterns(spec: Any, source: dict[str, Any], expected: dict[str, Any]) -> None:
    assert parse_source_filter(spec).apply(source) == expected


def test_source_parameters_of_the_url() -> None:
    assert source_filter_from_params("false", None, None) == SourceFilter(fetch=False)
    assert source_filter_from_params("a,b", None, None) == SourceFilter(includes=("a", "b"))
    assert source_filter_from_params(None, "a", "a.x") == SourceFilter(includes=("a",), excludes=("a.x",))
    with pytest.raises(ParsingError):
        parse_source_filter({"include": 1})


def test_search_after_continues_after_the_last_sort_values() -> None:
    first = run(ShardQuery(sort=parse_sort([{"n": "asc"}]), window=2))[1]
    assert [h.doc.id for h in first] == ["b", "d"]
    rest = run(ShardQuery(sort=parse_sort([{"n": "asc"}]), window=10, search_after=tuple(first[-1].sort_values or ())))
    assert [h.doc.id for h in rest[1]] == ["a", "c"], "the missing value (Long.MAX_VALUE) sorts last"
    after_missing = run(ShardQuery(sort=parse_sort([{"n": "asc"}]), window=10, search_after=(LONG_MAX,)))
    assert after_missing[1] == []
    assert run(ShardQuery(window=10, search_after=(1.0,)))[1] == [], "by score, every hit ties: none comes after"
