"""The limits ES puts on what one search or reindex may ask for, and the numbers its parameters accept."""

from __future__ import annotations

import json
import math

import pytest

from node.data.bulk_by_scroll import (
    BodyFields,
    parse_requests_per_second,
    rescheduled_delay_nanos,
    throttle_wait_nanos,
)
from node.data.errors import XContentParseError
from node.data.search_request import ParsingError, check_keep_alive, check_shard_search
from node.errors import IllegalArgumentError
from rest.params import Params

_WINDOW = (
    "Result window is too large, from + size must be less than or equal to: [10000] but was [10001]. See the scroll "
    "api for a more efficient way to request large data sets. This limit can be set by changing the "
    "[index.max_result_window] index level setting."
)
_BATCH = (
    "Batch size is too large, size must be less than or equal to: [10000] but was [100000]. Scroll batch sizes cost "
    "as much memory as result windows so they are controlled by the [index.max_result_window] index level setting."
)
_SLICES = (
    "The number of slices [1025] is too large. It must be less than [1024]. This limit can be set by changing the "
    "[index.max_slices_per_scroll] index level setting."
)
_KEEP_ALIVE = (
    "Keep alive for request (2d) is too large. It must be less than (1d). This limit can be set by changing the "
    "[search.max_keep_alive] cluster level setting."
)
_DAY_MS = 86_400_000


@pytest.mark.parametrize(
    ("offset", "size", "keep_alive", "slices", "reason"),
    [
        (1, 10_000, 0, 0, _WINDOW),
        (0, 100_000, 60_000, 0, _BATCH),
        (0, 10, 60_000, 1025, _SLICES),
        (0, 100_000, 2 * _DAY_MS, 1025, _KEEP_ALIVE),  # the keep-alive is checked first, as ES creates the context
    ],
)
def test_a_shard_refuses_what_es_refuses(offset: int, size: int, keep_alive: int, slices: int, reason: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        check_shard_search(offset, size, keep_alive, slices)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("offset", "size", "keep_alive", "slices"),
    [(0, 10_000, 0, 0), (0, 10_000, _DAY_MS, 1024), (0, 10, 0, 5000)],  # slices count only in a scroll
)
def test_a_shard_accepts_the_limits_themselves(offset: int, size: int, keep_alive: int, slices: int) -> None:
    check_shard_search(offset, size, keep_alive, slices)


def test_a_scroll_round_checks_its_keep_alive() -> None:
    check_keep_alive(_DAY_MS)
    with pytest.raises(IllegalArgumentError, match=r"^Keep alive for request \(1\.5d\) is too large"):
        check_keep_alive(_DAY_MS * 3 // 2)


@pytest.mark.parametrize("value", ["10", "-3", "+7", "2147483647"])
def test_int_parameters_are_java_ints(value: str) -> None:
    assert Params({"size": value}, "/_search").int("size") == int(value)


@pytest.mark.parametrize("value", ["", "1.0", "1_000", " 5", "2147483648", "\u0661", "9" * 5000])
def test_int_parameters_refuse_what_integer_parse_int_refuses(value: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        Params({"size": value}, "/_search").int("size")
    assert caught.value.reason == f"Failed to parse int parameter [size] with value [{value}]"
    assert caught.value.cause is not None and caught.value.cause.to_dict() == {
        "type": "number_format_exception",
        "reason": f'For input string: "{value}"',
    }


def test_a_time_parameter_of_thousands_of_digits_is_a_fraction_error_not_a_crash() -> None:
    with pytest.raises(IllegalArgumentError, match="fractional time values are not supported"):
        Params({"timeout": "9" * 5000 + "s"}, "/_tasks").time("timeout")


@pytest.mark.parametrize(("text", "value"), [("0.5", 0.5), ("2f", 2.0), ("0x1p3", 8.0), ("-1", math.inf)])
def test_requests_per_second_reads_java_floats(text: str, value: float) -> None:
    assert parse_requests_per_second(text) == value


@pytest.mark.parametrize("text", ["nan", "inf", "Infinity1", "1_0", "1ff", "-Infinity", "0", "1e-50"])
def test_requests_per_second_refuses_what_es_refuses(text: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        parse_requests_per_second(text)
    assert caught.value.reason == "[requests_per_second] must be a float greater than 0. Use -1 to disable throttling."


def test_nan_requests_per_second_passes_es_checks_and_never_throttles() -> None:
    rate = parse_requests_per_second("NaN")
    assert rate is not None and math.isnan(rate)
    assert throttle_wait_nanos(0, 0, 100, rate) == 0  # Java's (long) NaN
    assert rescheduled_delay_nanos(1_000_000, rate, 1.0) == 0  # Java's Math.round(NaN)


def _fields(body: dict[str, object]) -> BodyFields:
    return BodyFields("reindex", body, json.dumps(body, separators=(",", ":")))


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("12", 12), (3.7, 3)])
def test_int_fields_read_numbers_and_numeric_strings(value: object, expected: int) -> None:
    assert _fields({"max_docs": value}).int("max_docs") == expected


@pytest.mark.parametrize("value", ["abc", "1.5", 2**40, 1e300])
def test_int_fields_that_do_not_parse_are_objectparser_failures(value: object) -> None:
    with pytest.raises(XContentParseError) as caught:
        _fields({"max_docs": value}).int("max_docs")
    assert caught.value.reason == "[1:2] [reindex] failed to parse field [max_docs]"
    assert caught.value.cause is not None and caught.value.cause.es_type == "number_format_exception"


@pytest.mark.parametrize(("value", "token"), [({}, "START_OBJECT"), ([1], "START_ARRAY"), (True, "VALUE_BOOLEAN")])
def test_fields_of_the_wrong_type_are_refused_with_their_token(value: object, token: str) -> None:
    with pytest.raises(XContentParseError) as caught:
        _fields({"max_docs": value}).int("max_docs")
    assert caught.value.reason == f"[1:2] [reindex] max_docs doesn't support values of type: {token}"


def test_an_object_field_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(XContentParseError) as caught:
        _fields({"source": "logs"}).object("source")
    assert caught.value.reason == "[1:2] [reindex] source doesn't support values of type: VALUE_STRING"


def test_source_indices_are_a_string_or_a_list_of_strings() -> None:
    assert _fields({"index": "a,b"}).indices() == ("a", "b")
    assert _fields({"index": ["a", "b"]}).indices() == ("a", "b")
    with pytest.raises(IllegalArgumentError) as caught:
        _fields({"index": {"a": 1}}).indices()
    assert caught.value.reason == "Expected [index] to be a list of a string but was [{a=1}]"


def test_a_script_string_is_an_inline_script() -> None:
    assert _fields({"script": "ctx._source.n++"}).script() == {"source": "ctx._source.n++"}


def test_a_slice_needs_an_id_and_a_max() -> None:
    assert _fields({"slice": {"id": 0, "max": 2}}).slice() == (0, 2)
    with pytest.raises(ParsingError, match=r"\[slice\] requires \[id\] and \[max\]"):
        _fields({"slice": {"id": 0}}).slice()
