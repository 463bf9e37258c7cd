"""Query parameters as ES reads them (reference §8.1–§8.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict

from node.errors import IllegalArgumentError
from rest.params import Params, TimeValue, parse_group_by, parse_time_value, unrecognized


def params(path: str = "/_tasks", **query: str) -> Params:
    return Params(query, path)


# --- values ------------------------------------------------------------------------------------------------------


def test_repeated_parameter_keeps_the_last_value() -> None:
    assert Params(MultiDict([("nodes", "a"), ("nodes", "b")]), "/_tasks").str("nodes") == "b"


def test_absent_string_gives_the_default() -> None:
    assert params().str("parent_task_id", "x") == "x"


def test_absent_boolean_gives_the_default() -> None:
    assert params().bool("detailed", False) is False


def test_bare_boolean_parameter_is_true() -> None:
    assert params(detailed="").bool("detailed", False) is True


@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False)])
def test_boolean_accepts_true_and_false(text: str, value: bool) -> None:
    assert params(detailed=text).bool("detailed", not value) is value


@pytest.mark.parametrize("text", ["yes", "True", "1", "FALSE"])
def test_boolean_rejects_anything_else(text: str) -> None:
    with pytest.raises(IllegalArgumentError) as failure:
        params(detailed=text).bool("detailed", False)
    assert failure.value.reason == f"Failed to parse value [{text}] as only [true] or [false] are allowed."
    assert failure.value.status == 400


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("n1,n2", ["n1", "n2"]),
        ("", []),
        ("a,,b", ["a", "", "b"]),
        (",a", ["", "a"]),
        ("a,,", ["a"]),
        (",", []),
        ("a, b", ["a", " b"]),
    ],
)
def test_list_splits_like_java_string_split(text: str, items: list[str]) -> None:
    assert params(nodes=text).list("nodes") == items


def test_absent_list_is_empty() -> None:
    assert params().list("nodes") == []


def test_time_parameter_parses_with_its_name_in_errors() -> None:
    with pytest.raises(IllegalArgumentError) as failure:
        params(wait="5").time("wait")
    assert (
        failure.value.reason
        == "failed to parse setting [wait] with value [5] as a time value: unit is missing or unrecognized"
    )


def test_absent_time_gives_the_default() -> None:
    assert params().time("timeout", TimeValue(30, "s")) == TimeValue(30, "s")


# --- time values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10nanos", TimeValue(10, "nanos")),
        ("7micros", TimeValue(7, "micros")),
        ("100ms", TimeValue(100, "ms")),
        ("30s", TimeValue(30, "s")),
        ("5m", TimeValue(5, "m")),
        ("1h", TimeValue(1, "h")),
        ("2d", TimeValue(2, "d")),
        ("30S", TimeValue(30, "s")),
        ("10MS", TimeValue(10, "ms")),
        (" 5s ", TimeValue(5, "s")),
        ("+5s", TimeValue(5, "s")),
        ("-1s", TimeValue(-1, "s")),
    ],
)
def test_time_value_parses_each_unit(text: str, value: TimeValue) -> None:
    assert parse_time_value(text, "timeout") == value


@pytest.mark.parametrize("text", ["-1", "-01", "-0001"])
def test_unitless_minus_one_is_minus_one(text: str) -> None:
    assert parse_time_value(text, "timeout") is TimeValue.MINUS_ONE


@pytest.mark.parametrize("text", ["0", "000"])
def test_unitless_zeros_are_zero(text: str) -> None:
    assert parse_time_value(text, "timeout") is TimeValue.ZERO


def test_capital_m_is_not_minutes() -> None:
    with pytest.raises(IllegalArgumentError) as failure:
        parse_time_value("5M", "timeout")
    assert (
        failure.value.reason
        == "failed to parse setting [timeout] with value [5M] as a time value: unit is missing or unrecognized"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5", "failed to parse setting [timeout] with value [5] as a time value: unit is missing or unrecognized"),
        ("5y", "failed to parse setting [timeout] with value [5y] as a time value: unit is missing or unrecognized"),
        ("", "failed to parse setting [timeout] with value [] as a time value: unit is missing or unrecognized"),
        ("1.5s", "failed to parse [1.5s], fractional time values are not supported"),
        ("1e3s", "failed to parse [1e3s], fractional time values are not supported"),
        ("99999999999999999999s", "failed to parse [99999999999999999999s], fractional time values are not supported"),
        ("abcs", "failed to parse [abcs]"),
        ("s", "failed to parse [s]"),
        (
            "-5s",
            "failed to parse setting [timeout] with value [-5s] as a time value: negative durations are not supported",
        ),
    ],
)
def test_time_value_errors_match_es(text: str, reason: str) -> None:
    with pytest.raises(IllegalArgumentError) as failure:
        parse_time_value(text, "timeout")
    assert failure.value.reason == reason
    assert failure.value.status == 400


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (TimeValue(30, "s"), "30s"),
        (TimeValue(100, "ms"), "100ms"),
        (TimeValue.MINUS_ONE, "-1"),
        (TimeValue.ZERO, "0ms"),
    ],
)
def test_time_value_prints_back_as_written(value: TimeValue, text: str) -> None:
    assert str(value) == text


def test_time_value_converts_between_units() -> None:
    value = TimeValue(90, "s")
    assert (value.nanos, value.millis, value.seconds) == (90_000_000_000, 90_000, 90.0)


def test_time_value_millis_truncate_toward_zero() -> None:
    assert TimeValue(1_999_999, "nanos").millis == 1
    assert TimeValue(-1, "micros").millis == 0


# --- group_by ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [(None, "nodes"), ("nodes", "nodes"), ("parents", "parents"), ("none", "none")]
)
def test_group_by_values(text: str | None, value: str) -> None:
    assert parse_group_by(text) == value


def test_group_by_rejects_other_values() -> None:
    with pytest.raises(IllegalArgumentError) as failure:
        parse_group_by("xyz")
    assert failure.value.reason == "[group_by] must be one of [nodes], [parents] or [none] but was [xyz]"


# --- unrecognized parameters ---------------------------------------------------------------------------------------


def _list_tasks_reads(p: Params) -> None:
    """The parameters `GET /_tasks` reads (reference §8.1)."""
    p.list("nodes")
    p.list("actions")
    p.bool("detailed", False)
    p.str("parent_task_id")
    p.bool("wait_for_completion", False)
    p.time("timeout")
    p.str("group_by")


def _rejection(p: Params, response_params: tuple[str, ...] = ()) -> str:
    with pytest.raises(IllegalArgumentError) as failure:
        p.check_unrecognized(response_params)
    assert failure.value.status == 400
    assert failure.value.es_type == "illegal_argument_exception"
    return failure.value.reason


def test_read_parameters_are_recognized() -> None:
    p = params(nodes="n1", detailed="true", timeout="5s")
    _list_tasks_reads(p)
    p.check_unrecognized()


def test_unread_parameter_is_rejected_with_the_path() -> None:
    p = params(foo="1")
    _list_tasks_reads(p)
    assert _rejection(p) == "request [/_tasks] contains unrecognized parameter: [foo]"


def test_several_unread_parameters_are_sorted_and_pluralised() -> None:
    p = params(b="1", a="1")
    _list_tasks_reads(p)
    assert _rejection(p) == "request [/_tasks] contains unrecognized parameters: [a], [b]"


def test_a_close_read_parameter_is_suggested() -> None:
    p = params(detaild="")
    _list_tasks_reads(p)
    assert _rejection(p) == "request [/_tasks] contains unrecognized parameter: [detaild] -> did you mean [detailed]?"


def test_a_parameter_read_while_absent_is_still_a_suggestion() -> None:
    p = params(path="/_tasks/abc:1", timout="5s")
    p.bool("wait_for_completion", False)
    p.time("timeout")
    assert (
        _rejection(p) == "request [/_tasks/abc:1] contains unrecognized parameter: [timout] -> did you mean [timeout]?"
    )


def test_equal_suggestions_are_listed_by_name() -> None:
    p = params(nodez="x")
    p.list("nodes")
    p.str("node")
    assert (
        _rejection(p)
        == "request [/_tasks] contains unrecognized parameter: [nodez] -> did you mean any of [node, nodes]?"
    )


def test_suggestions_are_ordered_best_first() -> None:
    p = params(detailes="")
    p.bool("details", False)
    p.bool("detailed", False)
    assert (
        _rejection(p)
        == "request [/_tasks] contains unrecognized parameter: [detailes] -> did you mean any of [detailed, details]?"
    )


def test_global_response_parameters_are_suggested() -> None:
    assert (
        _rejection(params(prety=""))
        == "request [/_tasks] contains unrecognized parameter: [prety] -> did you mean [pretty]?"
    )


def test_only_suggestions_scoring_over_one_half_are_kept() -> None:
    p = params(ab="1")
    p.str("abcd")  # similarity exactly 0.5
    assert _rejection(p) == "request [/_tasks] contains unrecognized parameter: [ab]"


def test_each_unread_parameter_gets_its_own_suggestion() -> None:
    p = params(detaild="", foo="1")
    _list_tasks_reads(p)
    assert _rejection(p) == (
        "request [/_tasks] contains unrecognized parameters: [detaild] -> did you mean [detailed]?, [foo]"
    )


@pytest.mark.parametrize("name", ["pretty", "human", "format", "filter_path", "error_trace", "source"])
def test_global_parameters_are_always_accepted(name: str) -> None:
    params(**{name: "true"}).check_unrecognized()


def test_cancel_rejects_timeout() -> None:
    p = params(path="/_tasks/_cancel", timeout="5s")
    p.list("nodes")
    p.list("actions")
    p.str("parent_task_id")
    p.bool("wait_for_completion", False)
    p.str("group_by")
    assert _rejection(p) == "request [/_tasks/_cancel] contains unrecognized parameter: [timeout]"


def test_handler_response_parameters_are_accepted_unread() -> None:
    params(path="/_cat/tasks", v="", h="action").check_unrecognized(("h", "v"))


def test_handler_response_parameters_are_suggested() -> None:
    p = params(path="/_cat/tasks", tme="ms")
    assert _rejection(p, ("h", "v", "time")) == (
        "request [/_cat/tasks] contains unrecognized parameter: [tme] -> did you mean [time]?"
    )


def test_has_consumes_the_name() -> None:
    p = params(local="true")
    assert p.has("local") is True
    p.check_unrecognized()


def test_consume_accepts_without_reading() -> None:
    p = params(master_timeout="30s")
    p.consume("master_timeout", "local")
    p.check_unrecognized()


def test_unrecognized_names_other_things_than_parameters() -> None:
    error = unrecognized("/_nodes/jvm,foo", ["foo", "bar"], ["jvm", "os"], "metric")
    assert error.reason == "request [/_nodes/jvm,foo] contains unrecognized metrics: [bar], [foo]"


# --- bounded suggestion work ---------------------------------------------------------------------------------------


def _lucene_similarity(a: str, b: str) -> float:
    """Lucene `LevenshteinDistance#getDistance` computed in full, the reference the bounded version must match."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return 1 - previous[-1] / max(len(a), len(b))


def test_a_huge_parameter_name_is_rejected_without_suggestions() -> None:
    name = "a" * 60_000
    p = params(path="/idx/_search", **{name: "1"})
    p.str("size")
    assert _rejection(p) == f"request [/idx/_search] contains unrecognized parameter: [{name}]"


@settings(max_examples=300, derandomize=True)
@given(
    name=st.text(alphabet="abcdefg_", max_size=12),
    candidates=st.lists(st.text(alphabet="abcdefg_", min_size=1, max_size=12), min_size=1, max_size=6, unique=True),
)
def test_bounded_suggestions_are_the_full_computation(name: str, candidates: list[str]) -> None:
    if name in candidates:
        return
    expected = sorted(
        (c for c in candidates if _lucene_similarity(name, c) > 0.5), key=lambda c: (-_lucene_similarity(name, c), c)
    )
    reason = unrecognized("/x", [name], candidates).reason
    suggested = reason.partition("did you mean ")[2].removeprefix("any of ").strip("[]?").split(", ")
    assert (suggested if "did you mean" in reason else []) == expected


def test_names_are_compared_as_utf16_code_units_like_lucene() -> None:
    # One astral character is two UTF-16 units: [😀x] is one edit away from [😀], a similarity of 2/3.
    assert unrecognized("/x", ["\U0001f600x"], ["\U0001f600"]).reason == (
        "request [/x] contains unrecognized parameter: [\U0001f600x] -> did you mean [\U0001f600]?"
    )


def test_suggestions_stop_when_the_budget_is_spent_and_every_name_is_still_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # [detaild] against both candidates costs 2 + 7 * 8 + 7 * 5 cells; [nodez] finds the budget spent.
    monkeypatch.setattr("rest.params.SUGGESTION_BUDGET", 93)
    reason = unrecognized("/_tasks", ["detaild", "nodez"], ["detailed", "nodes"]).reason
    assert reason == (
        "request [/_tasks] contains unrecognized parameters: [detaild] -> did you mean [detailed]?, [nodez]"
    )


def test_a_name_the_budget_runs_out_on_gets_no_partial_suggestions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rest.params.SUGGESTION_BUDGET", 92)
    reason = unrecognized("/_tasks", ["detaild"], ["detailed", "nodes"]).reason
    assert reason == "request [/_tasks] contains unrecognized parameter: [detaild]"
