"""Reindex-family statuses, responses, throttle arithmetic and REST parameters (`node.data.bulk_by_scroll`,
reference §14)."""

from __future__ import annotations

import math

import pytest

from node.actions.reindex import BulkByScrollRequest
from node.common.action_names import DELETE_BY_QUERY, REINDEX, UPDATE_BY_QUERY
from node.data.bulk_by_scroll import (
    BulkByScrollStatus,
    java_float,
    parse_requests_per_second,
    parse_slices,
    render_response,
    rescheduled_delay_nanos,
    search_failures,
    throttle_wait_nanos,
)
from node.errors import ActionRequestValidationError, IllegalArgumentError
from rest.xcontent import to_json

WORKER = BulkByScrollStatus(slice_id=0, total=3, created=1, batches=1, requests_per_second=0.0001,
                            throttled_until_nanos=4_999_000_000)  # fmt: skip


def test_a_worker_status_has_es_fields_in_es_order() -> None:
    assert list(WORKER.to_dict()) == [
        "slice_id", "total", "updated", "created", "deleted", "batches", "version_conflicts", "noops", "retries",
        "throttled_millis", "requests_per_second", "throttled_until_millis",
    ]  # fmt: skip
    assert WORKER.to_dict()["retries"] == {"bulk": 0, "search": 0}
    assert WORKER.to_dict()["throttled_until_millis"] == 4999


def test_human_statuses_put_the_text_before_the_millis() -> None:
    keys = list(BulkByScrollStatus(throttled_nanos=1_500_000_000).to_dict(human=True))
    assert keys[keys.index("throttled") + 1] == "throttled_millis"
    assert keys[keys.index("throttled_until") + 1] == "throttled_until_millis"
    assert BulkByScrollStatus(throttled_nanos=1_500_000_000).to_dict(human=True)["throttled"] == "1.5s"


def test_unlimited_renders_as_minus_one_point_zero_and_floats_as_java_floats() -> None:
    assert to_json(BulkByScrollStatus().to_dict()["requests_per_second"]) == "-1.0"
    assert to_json(WORKER.to_dict()["requests_per_second"]) == "1.0E-4"
    assert to_json(java_float(1 / 3)) == "0.33333334"  # Float.toString, not Double.toString


def test_canceled_is_spelled_with_one_l_and_only_when_cancelled() -> None:
    assert "canceled" not in WORKER.to_dict()
    assert BulkByScrollStatus(canceled="by user request").to_dict()["canceled"] == "by user request"


def test_a_leader_sums_finished_slices_only_and_lists_running_ones_as_null() -> None:
    finished = BulkByScrollStatus(slice_id=1, total=3, created=3, batches=3, requests_per_second=0.5,
                                  throttled_until_nanos=0)  # fmt: skip
    leader = BulkByScrollStatus.merge([None, finished], None).to_dict()
    assert (leader["total"], leader["created"], leader["requests_per_second"]) == (3, 3, 0.5)
    assert leader["slices"][0] is None and leader["slices"][1]["slice_id"] == 1
    assert "slice_id" not in leader
    running = BulkByScrollStatus.merge([None, None], None).to_dict()
    assert running["requests_per_second"] == 0.0 and running["slices"] == [None, None]


def test_a_failed_slice_is_its_error_in_the_slices_array() -> None:
    error = {"type": "index_not_found_exception", "reason": "no such index [x]"}
    assert BulkByScrollStatus.merge([error], None).to_dict()["slices"] == [error]


def test_statuses_read_back_from_their_rendering() -> None:
    assert BulkByScrollStatus.from_dict(WORKER.to_dict()) == WORKER


def test_synchronous_by_query_responses_omit_created_and_updated_but_keep_the_rest() -> None:
    status = BulkByScrollStatus(total=1, deleted=1, batches=1)
    delete = render_response(31_000_000, False, status, [], created=False, updated=False)
    assert list(delete)[:4] == ["took", "timed_out", "total", "deleted"]
    assert delete["took"] == 31 and delete["failures"] == []
    update = render_response(0, False, status, [], created=False)
    assert "updated" in update and "created" not in update


def test_the_stored_response_is_human() -> None:
    body = render_response(0, False, BulkByScrollStatus(), [], human=True)
    assert (body["throttled"], body["throttled_until"]) == ("0s", "0s")


# ---- throttling -----------------------------------------------------------------------------------------------


def test_the_first_batch_never_waits() -> None:
    assert throttle_wait_nanos(0, 5, 0, 0.0001) == 0


def test_the_wait_is_the_batch_size_over_the_rate_minus_the_time_already_spent() -> None:
    assert throttle_wait_nanos(0, 200_000_000, 1, 1.0) == 800_000_000
    assert throttle_wait_nanos(0, 2_000_000_000, 1, 1.0) == 0
    assert throttle_wait_nanos(0, 0, 10, math.inf) == 0


def test_a_faster_rate_rescales_the_remaining_wait() -> None:
    assert rescheduled_delay_nanos(1_000_000_000, 1.0, 2.0) == 500_000_000
    assert rescheduled_delay_nanos(1_000_000_000, 1.0, math.inf) == 0
    assert rescheduled_delay_nanos(-5, 1.0, 2.0) == 0


def test_a_rescaled_wait_is_capped_by_math_round_of_a_float_as_in_es() -> None:
    assert rescheduled_delay_nanos(10**15, 1.0, 2.0) == 2**31 - 1


@pytest.mark.parametrize(("text", "expected"), [(None, None), ("-1", math.inf), ("0.5", 0.5), ("1", 1.0)])
def test_requests_per_second_parses_as_es(text: str | None, expected: float | None) -> None:
    assert parse_requests_per_second(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "abc"])
def test_bad_requests_per_second_are_rejected(text: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        parse_requests_per_second(text)
    assert caught.value.reason == "[requests_per_second] must be a float greater than 0. Use -1 to disable throttling."


def test_slices_parse_as_es() -> None:
    assert (parse_slices(None), parse_slices("auto"), parse_slices("5")) == (1, "auto", 5)
    with pytest.raises(IllegalArgumentError) as caught:
        parse_slices("0")
    assert caught.value.reason == '[slices] must be a positive integer or the string "auto", but was [0]'


# ---- requests -------------------------------------------------------------------------------------------------


def test_descriptions_are_es_ones() -> None:
    assert BulkByScrollRequest(REINDEX, ("src",), "dest").description() == "reindex from [src] to [dest]"
    assert BulkByScrollRequest(UPDATE_BY_QUERY, ("a", "b")).description() == "update-by-query [a, b]"
    assert BulkByScrollRequest(DELETE_BY_QUERY, ()).description() == "delete-by-query [all indices]"


def test_a_slice_gets_its_share_of_the_rate_and_of_max_docs() -> None:
    request = BulkByScrollRequest(REINDEX, ("src",), "dest", requests_per_second=1.0, max_docs=5)
    slices = [request.for_slice(i, 2) for i in range(2)]
    assert [(s.slice, s.requests_per_second, s.max_docs) for s in slices] == [((0, 2), 0.5, 3), ((1, 2), 0.5, 2)]


def test_reindex_validation_messages_are_es_ones() -> None:
    with pytest.raises(ActionRequestValidationError) as caught:
        BulkByScrollRequest(REINDEX, (), None).validate()
    assert caught.value.reason == (
        "Validation Failed: 1: use _all if you really want to copy from all existing indexes;2: index must be specified;"
    )
    with pytest.raises(ActionRequestValidationError) as caught:
        BulkByScrollRequest(DELETE_BY_QUERY, ("a",)).validate()
    assert caught.value.reason == "Validation Failed: 1: query is missing;"


def test_search_failures_render_as_es_scrollable_hit_source_search_failures() -> None:
    response = {
        "_shards": {
            "total": 2, "successful": 0, "skipped": 0, "failed": 2,
            "failures": [
                {"shard": -1, "index": None, "reason": {"type": "illegal_state_exception", "reason": "node [x] is not available"}},
                {"shard": 1, "index": "src", "node": "n2", "reason": {"type": "no_shard_available_action_exception", "reason": None}},
            ],
        }
    }  # fmt: skip
    assert search_failures(response) == [
        {"shard": -1, "status": 500, "reason": {"type": "illegal_state_exception", "reason": "node [x] is not available"}},
        {"index": "src", "shard": 1, "node": "n2", "status": 503,
         "reason": {"type": "no_shard_available_action_exception", "reason": None}},
    ]  # fmt: skip
    assert [list(f) for f in search_failures(response)] == [
        ["shard", "status", "reason"], ["index", "shard", "node", "status", "reason"],
    ]  # fmt: skip
    assert search_failures({"_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}) == []
