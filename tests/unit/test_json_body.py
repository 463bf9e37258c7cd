"""Request bodies as ES's Jackson parser reads them: syntax errors, UTF-8, and `StreamReadConstraints`."""

from __future__ import annotations

import asyncio
import sys

import pytest

from node.data.bulk_request import parse_bulk, source_error
from node.data.errors import XContentParseError
from node.data.json_body import MAX_NESTING_DEPTH, parse_json, parse_json_object, parsed_off_loop, read_json

_DEPTH_MESSAGE = "Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)"
_SOURCE = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"


def _failure(raw: bytes) -> XContentParseError:
    with pytest.raises(XContentParseError) as caught:
        parse_json(raw)
    assert caught.value.status == 400
    return caught.value


def test_nesting_up_to_jacksons_limit_parses_whatever_pythons_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # the interpreter default: the parser must raise it itself
    try:
        value = parse_json(b'{"a":' * (MAX_NESTING_DEPTH - 1) + b"[]" + b"}" * (MAX_NESTING_DEPTH - 1))
    finally:
        sys.setrecursionlimit(max(limit, sys.getrecursionlimit()))
    depth = 0
    while isinstance(value, dict):
        value, depth = value["a"], depth + 1
    assert value == [] and depth == MAX_NESTING_DEPTH - 1


def test_nesting_past_the_limit_is_jacksons_constraint_error_at_the_opening_bracket() -> None:
    error = _failure(b"[" * 1001 + b"]" * 1001)
    assert error.es_type == "x_content_parse_exception"
    assert error.reason == f"[1:1002] {_DEPTH_MESSAGE}"
    assert error.cause is not None and error.cause.to_dict() == {
        "type": "stream_constraints_exception",
        "reason": _DEPTH_MESSAGE,
    }
    assert [c.es_type for c in error.root_causes()] == ["x_content_parse_exception"]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    body = b'{"q":"' + b"[{" * 5000 + b'"}'
    assert parse_json(body) == {"q": "[{" * 5000}


def test_a_deep_body_is_rejected_whatever_its_depth() -> None:
    error = _failure(b'{"a":' * 100_000)
    assert error.reason == f"[1:5002] {_DEPTH_MESSAGE}"


def test_a_number_longer_than_jacksons_limit_is_rejected() -> None:
    error = _failure(b'{"size":' + b"1" * 5001 + b"}")
    message = (
        "Number value length (5001) exceeds the maximum allowed (1000, from "
        "`StreamReadConstraints.getMaxNumberLength()`)"
    )
    assert error.reason == f"[1:9] {message}"
    assert error.cause is not None and error.cause.es_type == "stream_constraints_exception"


def test_a_number_of_exactly_the_limit_parses() -> None:
    assert parse_json(b"[" + b"9" * 1000 + b"]") == [int("9" * 1000)]


def test_the_digits_of_every_part_of_a_float_count_together() -> None:
    error = _failure(b"[-" + b"1" * 600 + b"." + b"2" * 300 + b"e" + b"3" * 101 + b"]")
    assert error.reason.startswith("[1:2] Number value length (1001) exceeds the maximum allowed (1000")


def test_long_digit_runs_inside_strings_are_text() -> None:
    assert parse_json(b'{"id":"' + b"7" * 5001 + b'"}') == {"id": "7" * 5001}


@pytest.mark.parametrize(("body", "token", "column"), [(b'{"a":NaN}', "NaN", 6), (b"[1,-Infinity]", "-Infinity", 4)])
def test_non_numeric_tokens_are_refused_as_jackson_refuses_them(body: bytes, token: str, column: int) -> None:
    error = _failure(body)
    detail = f"Non-standard token '{token}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
    assert error.reason == f"[1:{column}] {detail}\n at [Source: {_SOURCE}; line: 1, column: {column}]"
    assert error.cause is not None and error.cause.es_type == "json_parse_exception"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"a":"\xff"}', "Invalid UTF-8 start byte 0xff"),
        (b'{"a":"\xc3\x28"}', "Invalid UTF-8 middle byte 0x28"),
        (b'{"a":"\xc3', "Unexpected end-of-input in VALUE_STRING"),
    ],
)
def test_bytes_that_are_not_utf8_are_jacksons_parse_error(body: bytes, detail: str) -> None:
    error = _failure(body)
    assert error.reason == f"[1:7] {detail}\n at [Source: {_SOURCE}; line: 1, column: 7]"


def test_lone_surrogate_escapes_become_question_marks_so_every_writer_can_encode_them() -> None:
    value = parse_json(b'{"a":"\\ud800x","\\udc00":["\\ud83d\\ude00"]}')
    assert value == {"a": "?x", "?": ["\U0001f600"]}


def test_the_syntax_error_of_a_large_body_names_the_innermost_bracket() -> None:
    body = b'{"a":[' + b'{"b":1},' * 200_000 + b'{"c":2} 3]}'
    error = _failure(body)
    assert "was expecting comma to separate Array entries" in error.reason


def test_read_json_returns_where_the_value_ends() -> None:
    assert read_json('  {"a":1}  trailing') == ({"a": 1}, 9)


def test_a_body_that_is_not_an_object_names_its_token() -> None:
    with pytest.raises(XContentParseError) as caught:
        parse_json_object(b"[1]")
    assert caught.value.reason == "[1:1] Unexpected token [START_ARRAY], expected [START_OBJECT]"


def test_a_bulk_action_line_too_deep_fails_the_bulk() -> None:
    with pytest.raises(XContentParseError) as caught:
        parse_bulk(b'{"index":' + b"[" * 1001 + b"\n", "idx")
    assert caught.value.reason == f"[1:1010] {_DEPTH_MESSAGE}"


def test_a_bulk_source_line_that_breaks_a_limit_fails_only_its_item() -> None:
    items = parse_bulk(
        b'{"index":{}}\n{"n":' + b"1" * 5001 + b'}\n{"index":{}}\n{"a":"\xff"}\n{"index":{}}\n{}\n', "idx"
    )
    assert [i.source_problem is not None for i in items] == [True, True, False]
    assert items[0].source_problem is not None and "Number value length (5001)" in items[0].source_problem
    assert items[1].source_problem is not None and "Invalid UTF-8 start byte 0xff" in items[1].source_problem


def test_source_error_reads_bytes_and_text_alike() -> None:
    assert source_error(b'{"a":1}') is None
    assert source_error('{"a":1}') is None
    assert source_error("[1]") == "[1:1] failed to parse: root must be an object, found [START_ARRAY]"


def test_a_body_parsed_off_the_loop_is_handed_out_for_those_bytes_only() -> None:
    body = b'{"query":{"match_all":{}},"pad":"' + b"x" * (2 << 20) + b'"}'
    bad = b'{"size":' + b"1" * 5001 + b"}"

    async def scenario() -> None:
        async with parsed_off_loop(body):
            value = parse_json(body)
            assert value is parse_json(body)  # the same parse, not a second one
            assert value["pad"] == "x" * (2 << 20)
        async with parsed_off_loop(bad):
            with pytest.raises(XContentParseError, match=r"Number value length \(5001\)"):
                parse_json(bad)
        assert parse_json(body) is not parse_json(body)  # outside the block: parsed again

    asyncio.run(scenario())
