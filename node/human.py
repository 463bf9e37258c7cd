"""Numbers and instants as ES prints them as text: Java doubles, `TimeValue` durations, dates (reference §3.2).

ES renders these through Java: `Double.toString` for every double (JSON, YAML and cat cells alike),
`TimeValue#toString` for durations such as `running_time`, and its UTC date printers for `start_time` and the cat
`timestamp` column. Each function here reproduces one of those printers exactly, so a response can be compared
with ES byte for byte.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal

from node.common.time_value import UNIT_NANOS

__all__ = [
    "format_byte_size",
    "format_duration_nanos",
    "format_hms",
    "format_iso_millis",
    "format_java_double",
    "format_time_value_in",
]

# Nanoseconds per unit, largest first: the units TimeValue#toString chooses between (ES TimeValue.C1..C6).
_DURATION_UNITS: tuple[tuple[int, str], ...] = (
    (86_400_000_000_000, "d"),
    (3_600_000_000_000, "h"),
    (60_000_000_000, "m"),
    (1_000_000_000, "s"),
    (1_000_000, "ms"),
    (1_000, "micros"),
)

# The units the cat `time` parameter accepts (ES RestTable#renderValue) are the units of a time value.
_TIME_PARAM_UNITS = UNIT_NANOS

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

# The units ByteSizeValue#toString chooses between, largest first.
_BYTE_UNITS: tuple[tuple[str, int], ...] = (
    ("pb", 1 << 50), ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10),
)  # fmt: skip


def format_java_double(value: float) -> str:
    """The text of Java's `Double.toString`, which Jackson and ES use for every double they print.

    Java prints the same shortest round-tripping digits as Python's `repr` (JDK 19+), but switches to
    scientific notation outside [1e-3, 1e7) and always keeps one fractional digit: `1.0E7`, `1.0E-8`, `5.0E-4`
    where Python writes `10000000.0`, `1e-08`, `0.0005`. Reindex statuses hit this with tiny
    `requests_per_second` values.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)  # positional in this range, with at least one fractional digit, as Java's
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    scientific_exponent = len(digits) + exponent - 1
    fraction = digits[1:].rstrip("0") or "0"
    return f"{'-' if sign else ''}{digits[0]}.{fraction}E{scientific_exponent}"


def _one_fraction_digit(value: float) -> str:
    """Mirrors ES `TimeValue#formatDecimal(value, 1)`: truncate, never round, and drop a zero digit."""
    text = format_java_double(value)
    fraction_start = text.index(".") + 1
    exponent_at = text.find("E")
    fraction_end = exponent_at if exponent_at != -1 else min(fraction_start + 1, len(text))
    exponent = text[exponent_at:] if exponent_at != -1 else ""
    fraction = text[fraction_start:fraction_end]
    if not fraction.isdigit() or int(fraction) == 0:
        return text[: fraction_start - 1] + exponent
    first = text[fraction_start]
    return text[:fraction_start] + ("" if first == "0" else first) + exponent


def format_duration_nanos(nanos: int) -> str:
    """A duration as ES `TimeValue#toString` prints it: `47.4micros`, `13.9ms`, `1s`, `1.5m`.

    The largest unit not bigger than the value is chosen, the value is divided as a Java double and at most one
    fractional digit is kept, truncated. A negative duration prints as the bare integer, zero as `0s`.
    """
    if nanos < 0:
        return str(nanos)
    if nanos == 0:
        return "0s"
    for size, suffix in _DURATION_UNITS:
        if nanos >= size:
            # Java converts the long to a double before dividing (TimeValue#daysFrac and friends).
            return _one_fraction_digit(float(nanos) / size) + suffix
    return _one_fraction_digit(float(nanos)) + "nanos"


def format_byte_size(size: int) -> str:
    """A size as ES `ByteSizeValue#toString` prints it: `99mb`, `1.9gb`, `230b` (`Strings#format1Decimals`: one
    fractional digit, truncated, a zero digit dropped)."""
    for suffix, factor in _BYTE_UNITS:
        if size >= factor:
            whole, _, fraction = format_java_double(size / factor).partition(".")
            return f"{whole}{'.' + fraction[0] if fraction and fraction[0] != '0' else ''}{suffix}"
    return f"{size}b"


def _truncating_div(value: int, divisor: int) -> int:
    """Java's long division, which truncates toward zero where Python's `//` floors."""
    quotient = abs(value) // divisor
    return -quotient if value < 0 else quotient


def format_time_value_in(nanos: int, unit: str | None) -> str:
    """A duration cell of a cat table under `?time=<unit>` (ES RestTable#renderValue).

    A known unit gives the integer count in that unit, truncated (`TimeUnit#toMillis` and friends); any other
    value, or none, leaves the human text of `format_duration_nanos`.
    """
    size = _TIME_PARAM_UNITS.get(unit) if unit is not None else None
    if size is None:
        return format_duration_nanos(nanos)
    return str(_truncating_div(nanos, size))


def _utc(epoch_millis: int) -> _dt.datetime:
    # Integer arithmetic, so no float rounding can move an instant across a second boundary.
    return _EPOCH + _dt.timedelta(milliseconds=epoch_millis)


def format_iso_millis(epoch_millis: int) -> str:
    """An instant as ES's `strict_date_optional_time` printer writes it in UTC: `2016-03-21T18:44:44.904Z`.

    The printer always writes three fraction digits, so a whole second ends in `.000Z`.
    """
    instant = _utc(epoch_millis)
    return f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond // 1000:03d}Z"


def format_hms(epoch_millis: int) -> str:
    """An instant's UTC wall-clock time, `18:44:44`: the cat `timestamp` column (ES `HH:mm:ss` formatter)."""
    return f"{_utc(epoch_millis):%H:%M:%S}"
