"""Task id parsing and rendering (reference §2, §20.1–20.3)."""

from __future__ import annotations

import pytest

from node.errors import IllegalArgumentError
from node.tasks.task_id import TaskId


def test_renders_node_and_id() -> None:
    assert str(TaskId.parse("oTUltX4IQMOUUVeiohTt8A:124")) == "oTUltX4IQMOUUVeiohTt8A:124"


@pytest.mark.parametrize("text", [None, "", "unset", "abc:-1", ":-1"])
def test_missing_empty_unset_and_minus_one_are_unset(text: str | None) -> None:
    parsed = TaskId.parse(text)
    assert not parsed.is_set
    assert str(parsed) == "unset"


def test_node_part_may_be_empty() -> None:
    assert TaskId.parse(":5") == TaskId("", 5)


def test_leading_zeros_are_normalised() -> None:
    assert str(TaskId.parse("n:007")) == "n:7"


def test_other_negative_ids_are_accepted() -> None:
    assert TaskId.parse("n:-5") == TaskId("n", -5)


def test_splits_at_the_first_colon() -> None:
    with pytest.raises(IllegalArgumentError) as e:
        TaskId.parse("a:5:6")
    assert e.value.reason == "malformed task id a:5:6"
    assert e.value.cause is not None
    assert e.value.cause.to_dict() == {"type": "number_format_exception", "reason": 'For input string: "5:6"'}


def test_a_value_without_colon_has_no_cause() -> None:
    with pytest.raises(IllegalArgumentError) as e:
        TaskId.parse("abc")
    assert e.value.to_response_body() == {
        "error": {
            "root_cause": [{"type": "illegal_argument_exception", "reason": "malformed task id abc"}],
            "type": "illegal_argument_exception",
            "reason": "malformed task id abc",
        },
        "status": 400,
    }


def test_a_non_numeric_id_has_a_number_format_cause() -> None:
    with pytest.raises(IllegalArgumentError) as e:
        TaskId.parse("abc:x")
    assert e.value.to_response_body() == {
        "error": {
            "root_cause": [{"type": "illegal_argument_exception", "reason": "malformed task id abc:x"}],
            "type": "illegal_argument_exception",
            "reason": "malformed task id abc:x",
            "caused_by": {"type": "number_format_exception", "reason": 'For input string: "x"'},
        },
        "status": 400,
    }


@pytest.mark.parametrize("text", ["a:", "a: 1", "a:1.0", "a:9223372036854775808", "-1", "_cancel"])
def test_strict_java_long_parsing(text: str) -> None:
    with pytest.raises(IllegalArgumentError, match=f"malformed task id {text}"):
        TaskId.parse(text)


def test_largest_long_is_accepted() -> None:
    assert TaskId.parse("a:9223372036854775807").id == 2**63 - 1
