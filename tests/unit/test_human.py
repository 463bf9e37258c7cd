"""ES text forms of durations, doubles and instants (reference §3.2)."""

from __future__ import annotations

import pytest

from node.human import (
    format_duration_nanos,
    format_hms,
    format_iso_millis,
    format_java_double,
    format_time_value_in,
)

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "0s"),
        (999, "999nanos"),
        (1000, "1micros"),
        (47402, "47.4micros"),
        (236042, "236micros"),
        (13991383, "13.9ms"),
        (1500000000, "1.5s"),
        (1050000000, "1s"),
        (59999999999, "59.9s"),
        (90 * SECOND, "1.5m"),
        (3600 * SECOND, "1h"),
        (36 * 3600 * SECOND, "1.5d"),
    ],
)
def test_duration_text_matches_the_reference_table(nanos: int, text: str) -> None:
    assert format_duration_nanos(nanos) == text


def test_duration_fraction_is_truncated_not_rounded() -> None:
    assert format_duration_nanos(1_999_999) == "1.9ms"


def test_duration_drops_a_zero_fraction_digit() -> None:
    assert format_duration_nanos(2_040_000) == "2ms"


def test_negative_duration_prints_the_plain_integer() -> None:
    assert format_duration_nanos(-1) == "-1"


def test_duration_of_the_largest_java_long_stays_in_days() -> None:
    assert format_duration_nanos(2**63 - 1) == "106751.9d"


@pytest.mark.parametrize(
    ("value", "text"),
    [(-1.0, "-1.0"), (0.5, "0.5"), (100.0, "100.0"), (0.001, "0.001"), (9999999.0, "9999999.0")],
)
def test_java_double_is_positional_between_one_thousandth_and_ten_million(value: float, text: str) -> None:
    assert format_java_double(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e7, "1.0E7"), (1.5e20, "1.5E20"), (1e-8, "1.0E-8"), (0.0005, "5.0E-4"), (-2.5e-5, "-2.5E-5")],
)
def test_java_double_is_scientific_outside_that_range(value: float, text: str) -> None:
    assert format_java_double(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0.0"), (-0.0, "-0.0"), (float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")],
)
def test_java_double_special_values(value: float, text: str) -> None:
    assert format_java_double(value) == text


@pytest.mark.parametrize(
    ("unit", "text"),
    [
        ("nanos", "1512345678"),
        ("micros", "1512345"),
        ("ms", "1512"),
        ("s", "1"),
        ("m", "0"),
        ("h", "0"),
        ("d", "0"),
    ],
)
def test_time_param_renders_an_integer_in_that_unit(unit: str, text: str) -> None:
    assert format_time_value_in(1_512_345_678, unit) == text


def test_time_param_truncates_toward_zero_like_java() -> None:
    assert format_time_value_in(-1_500, "micros") == "-1"


@pytest.mark.parametrize("unit", [None, "", "S", "minutes"])
def test_time_param_other_than_a_unit_keeps_the_human_text(unit: str | None) -> None:
    assert format_time_value_in(1_512_000_000, unit) == "1.5s"


def test_iso_instant_has_milliseconds_in_utc() -> None:
    assert format_iso_millis(1458585884904) == "2016-03-21T18:44:44.904Z"


def test_iso_instant_on_a_whole_second_keeps_three_fraction_digits() -> None:
    assert format_iso_millis(1714641301000) == "2024-05-02T09:15:01.000Z"


def test_iso_instant_before_the_epoch() -> None:
    assert format_iso_millis(-1) == "1969-12-31T23:59:59.999Z"


def test_hms_is_the_utc_wall_clock_time() -> None:
    assert format_hms(1458585884904) == "18:44:44"
