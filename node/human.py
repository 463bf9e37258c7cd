"""Human-readable values as ES prints them with `?human` (reference §3.2)."""

from __future__ import annotations

import datetime as _dt

__all__ = ["format_duration_nanos", "format_iso_millis"]

_UNITS = (
    (86_400_000_000_000, "d"),
    (3_600_000_000_000, "h"),
    (60_000_000_000, "m"),
    (1_000_000_000, "s"),
    (1_000_000, "ms"),
    (1_000, "micros"),
)


def format_duration_nanos(nanos: int) -> str:
    """ES `TimeValue#toString`: the largest fitting unit, one fractional digit truncated, `.0` dropped."""
    if nanos < 0:
        return str(nanos)
    if nanos == 0:
        return "0s"
    for size, suffix in _UNITS:
        if nanos >= size:
            text = repr(nanos / size)
            whole, _, fraction = text.partition(".")
            if "e" in text:  # astronomically large values; keep them readable instead of Java-exact
                return f"{nanos // size}{suffix}"
            digit = fraction[:1]
            return f"{whole}{suffix}" if digit in ("", "0") else f"{whole}.{digit}{suffix}"
    return f"{nanos}nanos"


def format_iso_millis(epoch_millis: int) -> str:
    """`2016-03-21T18:44:44.904Z`: UTC with milliseconds, as ES's date printer."""
    instant = _dt.datetime.fromtimestamp(epoch_millis / 1000, tz=_dt.UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_millis % 1000:03d}Z"
