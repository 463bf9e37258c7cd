"""Bulk NDJSON bodies and search requests, parsed and described as ES does (`node.data.bulk_request`,
`node.data.search_request`)."""

from __future__ import annotations

import pytest

from node.data.bulk_request import BulkItem, describe_bulk, parse_bulk, validate_bulk
from node.data.errors import XContentParseError
from node.data.search_request import (
    ParsingError,
    SearchRequest,
    decode_scroll_id,
    encode_scroll_id,
    parse_search_body,
    render_hits_total,
    slice_range,
    source_description,
)
from node.errors import ActionRequestValidationError, IllegalArgumentError


def test_a_bulk_body_gives_one_item_per_action_with_path_defaults() -> None:
    body = (
        b'{"index":{"_id":"1"}}\n{"f":1}\n'
        b'{"create":{"_index":"other","_id":"2","routing":"r"}}\n{"f":2}\n'
        b"\n"
        b'{"delete":{"_id":"3"}}\n'
        b'{"update":{"_id":"4"}}\n{"doc":{"f":4},"doc_as_upsert":true}\n'
    )
    items = parse_bulk(body, "logs")
    assert [(i.action, i.index, i.id, i.routing) for i in items] == [
        ("index", "logs", "1", None),
        ("create", "other", "2", "r"),
        ("delete", "logs", "3", None),
        ("update", "logs", "4", None),
    ]
    assert items[3].upsert


def test_op_type_create_on_an_index_action_makes_it_a_create() -> None:
    (item,) = parse_bulk(b'{"index":{"_index":"a","op_type":"create"}}\n{}\n', None)
    assert item.action == "create"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"index":{}}\n{}', "The bulk request must be terminated by a newline [\\n]"),
        (b'"x"\n', "Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_STRING]"),
        (b"{}\n", "Malformed action/metadata line [1], expected FIELD_NAME but found [END_OBJECT]"),
        (
            b'{"upsert":{}}\n',
            "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [upsert]",
        ),
        (
            b'{"index":1}\n',
            "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found [VALUE_NUMBER]",
        ),
        (
            b'{"delete":{"_id":"1"}}\n{"index":{"_type":"t"}}\n',
            "Action/metadata line [2] contains an unknown parameter [_type]",
        ),
        (
            b'{"index":{"_id":["1"]}}\n',
            "Malformed action/metadata line [1], expected a simple value for field [_id] but found [START_ARRAY]",
        ),
        (
            b'{"index":{},"delete":{}}\n',
            "Malformed action/metadata line [1], expected END_OBJECT but found [FIELD_NAME]",
        ),
    ],
)
def test_malformed_bulk_bodies_are_rejected_with_es_reasons(body: bytes, reason: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        parse_bulk(body, "logs")
    assert caught.value.reason == reason
    assert caught.value.es_type == "illegal_argument_exception"


def test_an_action_line_that_is_not_json_is_an_x_content_parse_exception() -> None:
    with pytest.raises(XContentParseError) as caught:
        parse_bulk(b'{"index" {}}\n', None)
    assert caught.value.reason.startswith("[1:10] Unexpected character ('{' (code 123))")


def test_an_update_body_that_is_not_json_fails_the_whole_bulk() -> None:
    with pytest.raises(XContentParseError):
        parse_bulk(b'{"update":{"_index":"a","_id":"1"}}\n{nope}\n', None)


def test_validation_numbers_every_problem() -> None:
    items = parse_bulk(b'{"index":{}}\n{}\n{"update":{"_index":"a"}}\n{"doc":{}}\n{"delete":{"_index":"a"}}\n', None)
    with pytest.raises(ActionRequestValidationError) as caught:
        validate_bulk(items)
    assert caught.value.reason == "Validation Failed: 1: index is missing;2: id is missing;3: id is missing;"


def test_an_empty_bulk_is_no_requests_added() -> None:
    with pytest.raises(ActionRequestValidationError) as caught:
        validate_bulk(parse_bulk(b"\n\n", None))
    assert caught.value.reason == "Validation Failed: 1: no requests added;"


def test_a_source_line_that_is_not_an_object_is_an_item_problem_not_a_request_error() -> None:
    (item,) = parse_bulk(b'{"index":{"_index":"a"}}\n[1]\n', None)
    assert item.source_problem == "[1:1] failed to parse: root must be an object, found [START_ARRAY]"
    validate_bulk([item])


def test_the_bulk_description_lists_its_indices() -> None:
    items = [BulkItem("index", "b", "1"), BulkItem("index", "a", "2"), BulkItem("delete", "a", "3")]
    assert describe_bulk(items) == "requests[3], indices[a, b]"


# ---- search ---------------------------------------------------------------------------------------------------


def test_search_descriptions_are_es_source_strings() -> None:
    request = SearchRequest(indices=("logs",), source={"query": {"match_all": {}}, "size": 5})
    assert request.description() == (
        'indices[logs], search_type[QUERY_THEN_FETCH], source[{"size":5,"query":{"match_all":{"boost":1.0}}}]'
    )
    scroll = SearchRequest(indices=("a", "b"), scroll_text="5m")
    assert scroll.description() == "indices[a,b], search_type[QUERY_THEN_FETCH], scroll[5m], source[{}]"


def test_count_is_described_as_the_search_it_runs() -> None:
    assert source_description({"track_total_hits": 2147483647, "size": 0}) == '{"size":0,"track_total_hits":2147483647}'


def test_an_unknown_search_key_is_a_parsing_exception() -> None:
    with pytest.raises(ParsingError) as caught:
        parse_search_body({"querx": {}}, '{"querx":{}}')
    assert caught.value.to_dict() == {
        "type": "parsing_exception",
        "reason": "Unknown key for a START_OBJECT in [querx].",
        "line": 1,
        "col": 10,
    }


def test_total_hits_render_as_es_does() -> None:
    assert render_hits_total(5, 10_000, as_int=False) == {"value": 5, "relation": "eq"}
    assert render_hits_total(20_000, 10_000, as_int=False) == {"value": 10_000, "relation": "gte"}
    assert render_hits_total(7, 10_000, as_int=True) == 7
    assert render_hits_total(7, None, as_int=False) is None


def test_slices_split_every_shard_into_near_equal_contiguous_parts() -> None:
    parts = [slice_range(10, i, 3) for i in range(3)]
    assert parts == [(0, 4), (4, 7), (7, 10)]


def test_scroll_ids_round_trip_and_garbage_is_rejected() -> None:
    contexts = [("node", "7", "logs", "uuid", 2)]
    assert decode_scroll_id(encode_scroll_id(contexts)) == contexts
    with pytest.raises(IllegalArgumentError) as caught:
        decode_scroll_id("not-a-scroll-id")
    assert caught.value.reason == "Cannot parse scroll id"


def test_search_after_takes_scalars_only_as_es_does() -> None:
    with pytest.raises(ParsingError) as refused:
        parse_search_body({"sort": [{"n": "asc"}], "search_after": [[1]]})
    assert refused.value.reason == (
        "Expected [VALUE_STRING] or [VALUE_NUMBER] or [VALUE_BOOLEAN] or [VALUE_NULL] but found [START_ARRAY] "
        "inside search_after."
    )
