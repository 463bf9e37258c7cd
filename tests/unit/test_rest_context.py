"""What the REST layer reads before any handler: response parameters, task headers, and text that is not UTF-8."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from node.errors import IllegalArgumentError, PlainRestError
from rest.app import last_resort_response
from rest.context import RestRequest, netty_text, task_headers


@pytest.mark.parametrize("query", ["pretty=maybe", "human=1", "pretty=TRUE"])
def test_channel_parameters_are_parsed_before_any_handler_as_es_builds_its_channel(query: str) -> None:
    value = query.partition("=")[2]
    with pytest.raises(IllegalArgumentError) as caught:
        RestRequest.from_http(make_mocked_request("GET", f"/_tasks?{query}"))
    assert caught.value.reason == f"Failed to parse value [{value}] as only [true] or [false] are allowed."


def test_a_header_that_is_not_utf8_is_read_one_character_per_byte_as_netty_reads_it() -> None:
    raw = b"\xff\xfeab".decode("utf-8", "surrogateescape")  # what aiohttp hands over for those bytes
    assert netty_text(raw) == "\u00ff\u00feab"
    assert task_headers(CIMultiDict({"X-Opaque-Id": raw})) == {"X-Opaque-Id": "\u00ff\u00feab"}


def test_utf8_text_is_left_as_it_is() -> None:
    assert netty_text("caf\u00e9") == "caf\u00e9"


def test_two_values_of_a_single_valued_header_stay_an_error_whatever_their_bytes() -> None:
    raw = b"\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(PlainRestError):
        task_headers(CIMultiDict([("X-Opaque-Id", raw), ("X-Opaque-Id", "b")]))


def test_query_and_path_text_reach_the_parameters_as_netty_reads_them() -> None:
    raw = b"\xff".decode("utf-8", "surrogateescape")
    request = make_mocked_request("GET", "/_tasks", match_info={"task_id": f"n{raw}:1"})
    RestRequest.from_http(request)
    assert request.match_info["task_id"] == "n\u00ff:1"


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


@pytest.mark.parametrize(
    ("error", "reason"), [(RecursionError("too deep"), "RecursionError: too deep"), (_Unprintable(), "internal error")]
)
def test_the_last_resort_answer_is_es_shaped_whatever_failed(error: BaseException, reason: str) -> None:
    response = last_resort_response(error)
    assert response.status == 500
    assert response.content_type == "application/json"
    assert response.body is not None
    assert json.loads(bytes(response.body)) == {
        "error": {"root_cause": [{"type": "exception", "reason": reason}], "type": "exception", "reason": reason},
        "status": 500,
    }


def test_error_bodies_are_not_filtered_as_es_builds_them_without_filter_path() -> None:
    rest = RestRequest.from_http(make_mocked_request("GET", "/_tasks?filter_path=nodes"))
    body = {"error": {"type": "x"}, "status": 400}
    assert rest.respond(body, 400, filtered=False).body == b'{"error":{"type":"x"},"status":400}'
    assert rest.respond(body, 400).body == b"{}"
