"""The query DSL against stored documents (`node.data.query_dsl`): ES's matching rules for each supported query."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from node.data.errors import ParsingError
from node.data.query_dsl import Document, analyze, compile_query, field_values, parse_date_math

DOCS = {
    "1": {"title": "Quick Brown Fox", "n": 1, "tags": ["red", "green"], "user": {"name": "Ann", "age": 31}},
    "2": {"title": "lazy dog", "n": 2, "flag": True, "when": "2024-05-01T10:00:00Z"},
    "3": {"title": "The quick dog", "n": 3.5, "user": {"name": "Bob"}, "empty": None},
    "4": {"other": "x" * 300, "when": "2024-06-01"},
}


def ids(query: dict[str, Any] | None) -> list[str]:
    compiled = compile_query(query, now=dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.UTC))
    return [doc_id for doc_id, source in DOCS.items() if compiled.matches(Document(doc_id, source))]


def test_the_standard_analyzer_lower_cases_words() -> None:
    assert analyze("Quick, Brown-FOX 42!") == ["quick", "brown", "fox", "42"]


def test_field_values_flatten_arrays_follow_objects_and_read_keyword_sub_fields() -> None:
    assert field_values(DOCS["1"], "tags") == ["red", "green"]
    assert field_values(DOCS["1"], "user.name") == ["Ann"]
    assert field_values({"a.b": 1}, "a.b") == [1]
    assert field_values(DOCS["1"], "title.keyword") == ["Quick Brown Fox"]
    assert field_values(DOCS["4"], "other.keyword") == [], "strings over 256 characters are not in .keyword"
    assert field_values(DOCS["3"], "empty") == []


def test_match_all_and_no_query_match_everything_match_none_nothing() -> None:
    assert ids(None) == ids({"match_all": {}}) == ["1", "2", "3", "4"]
    assert ids({"match_none": {}}) == []


def test_ids_match_document_ids() -> None:
    assert ids({"ids": {"values": ["3", "1", "9"]}}) == ["1", "3"]


def test_term_is_exact_on_keywords_and_numbers_and_a_token_on_text() -> None:
    assert ids({"term": {"title": "quick"}}) == ["1", "3"]
    assert ids({"term": {"title": "Quick"}}) == [], "a term is not analyzed; text tokens are lower case"
    assert ids({"term": {"title": {"value": "Quick", "case_insensitive": True}}}) == ["1", "3"]
    assert ids({"term": {"title.keyword": "lazy dog"}}) == ["2"]
    assert ids({"term": {"n": "2"}}) == ["2"]
    assert ids({"term": {"flag": "true"}}) == ["2"]
    assert ids({"terms": {"user.name.keyword": ["Bob", "Eve"]}}) == ["3"]


def test_range_compares_numbers_dates_and_date_math() -> None:
    assert ids({"range": {"n": {"gt": 1, "lte": 3.5}}}) == ["2", "3"]
    assert ids({"range": {"n": {"from": 1, "to": 2, "include_upper": False}}}) == ["1"]
    assert ids({"range": {"when": {"gte": "2024-05-15"}}}) == ["4"]
    assert ids({"range": {"when": {"gte": "now-30d/d"}}}) == ["4"]
    assert ids({"range": {"when": {"lt": "now-1M"}}}) == ["2"]


def test_exists_needs_a_non_null_value() -> None:
    assert ids({"exists": {"field": "user"}}) == ["1", "3"]
    assert ids({"exists": {"field": "empty"}}) == []


def test_match_analyzes_the_query_with_or_by_default_and_and_on_request() -> None:
    assert ids({"match": {"title": "QUICK dog"}}) == ["1", "2", "3"]
    assert ids({"match": {"title": {"query": "quick dog", "operator": "and"}}}) == ["3"]
    assert ids({"match": {"title": {"query": "quick lazy fox", "minimum_should_match": 2}}}) == ["1"]
    assert ids({"match": {"n": 3.5}}) == ["3"]
    assert ids({"match_phrase": {"title": "quick dog"}}) == ["3"]


def test_bool_combines_its_clauses_with_es_minimum_should_match_defaults() -> None:
    assert ids({"bool": {"must": [{"match": {"title": "dog"}}], "must_not": [{"term": {"n": 2}}]}}) == ["3"]
    assert ids({"bool": {"should": [{"term": {"n": 1}}, {"term": {"n": 2}}]}}) == ["1", "2"]
    assert ids({"bool": {"filter": {"exists": {"field": "user"}}, "should": [{"term": {"n": 1}}]}}) == ["1", "3"]
    should = [{"match": {"title": "quick"}}, {"match": {"title": "dog"}}]
    assert ids({"bool": {"should": should, "minimum_should_match": 2}}) == ["3"]
    assert ids({"bool": {"should": should, "minimum_should_match": "-1"}}) == ["1", "2", "3"]


def test_filter_context_scores_zero_and_query_context_one() -> None:
    assert compile_query({"bool": {"filter": {"term": {"n": 1}}}}).score() == 0.0
    assert compile_query({"match": {"title": "dog"}}).score() == 1.0
    assert compile_query({"constant_score": {"filter": {"term": {"n": 1}}}}).score() == 1.0


def test_query_string_reads_field_value_pairs_and_bare_words() -> None:
    assert ids({"query_string": {"query": "user.name:bob"}}) == ["3"]
    assert ids({"query_string": {"query": "lazy OR fox"}}) == ["1", "2"]
    assert ids({"query_string": {"query": "*"}}) == ["1", "2", "3", "4"]


def test_queries_not_simulated_match_everything() -> None:
    assert ids({"geo_distance": {"distance": "1km", "loc": [0, 0]}}) == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"term": {"a": 1, "b": 2}}, "[term] query doesn't support multiple fields, found [a] and [b]"),
        (
            {"match_all": {}, "term": {"a": 1}},
            "[match_all] malformed query, expected [END_OBJECT] but found [FIELD_NAME]",
        ),
        ({"bool": {"mustt": []}}, "[bool] query does not support [mustt]"),
        ({"range": {"n": {"gtx": 1}}}, "[range] query does not support [gtx]"),
        ({"exists": {}}, "[exists] must be provided with a [field]"),
    ],
)
def test_malformed_queries_are_parsing_exceptions(query: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParsingError) as caught:
        compile_query(query)
    assert caught.value.reason == reason
    assert caught.value.status == 400


def test_date_math_rounds_down_and_up() -> None:
    now = dt.datetime(2024, 6, 15, 12, 30, tzinfo=dt.UTC)
    assert parse_date_math("now/d", now) == dt.datetime(2024, 6, 15, tzinfo=dt.UTC)
    assert parse_date_math("now-1M/M", now, round_up=True) == dt.datetime(
        2024, 5, 31, 23, 59, 59, 999000, tzinfo=dt.UTC
    )
    assert parse_date_math("2024-01-31||+1M", now) == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert parse_date_math("not a date", now) is None


def test_date_math_past_what_a_date_holds_is_a_parsing_exception_when_compiled() -> None:
    with pytest.raises(ParsingError, match=r"failed to parse date field \[now\+10000y\]"):
        compile_query({"range": {"at": {"gte": "now+10000y"}}})
