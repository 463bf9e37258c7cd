"""ES `TimeValue`: durations as ES writes, parses and prints them (reference §8.3).

One type for every duration simcluster reads — REST parameters (`timeout=30s`), node flags (`--fd-interval 500ms`),
request fields on the wire — so a timeout always prints back the way the user wrote it (`timed out after
[30s/30000ms]`) and parses with ES's exact errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from node.errors import IllegalArgumentError

__all__ = ["UNIT_NANOS", "TimeUnit", "TimeValue", "fits_java_integer", "parse_time_value"]

TimeUnit = Literal["nanos", "micros", "ms", "s", "m", "h", "d"]

UNIT_NANOS: dict[str, int] = {
    "nanos": 1,
    "micros": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_JAVA_LONG = re.compile(r"[+-]?[0-9]+")
# What Java's Double.parseDouble accepts once ES has lower-cased the text: decimal or hex, optional f/d suffix.
_JAVA_DOUBLE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)p[+-]?[0-9]+)[fd]?"
)
_JAVA_WHITESPACE = "".join(map(chr, range(0x21)))  # String#trim strips every char <= ' '


@dataclass(frozen=True, slots=True)
class TimeValue:
    """ES `TimeValue`: a duration in the unit it was written in, so it prints back the same (`30s`, `-1`)."""

    duration: int
    unit: TimeUnit

    ZERO: ClassVar[TimeValue]
    MINUS_ONE: ClassVar[TimeValue]

    @property
    def nanos(self) -> int:
        return self.duration * UNIT_NANOS[self.unit]

    @property
    def millis(self) -> int:
        """Whole milliseconds, truncated toward zero like `TimeUnit#toMillis`."""
        quotient = abs(self.nanos) // 1_000_000
        return -quotient if self.nanos < 0 else quotient

    @property
    def seconds(self) -> float:
        """Seconds as a float, the form asyncio timeouts take."""
        return self.nanos / 1_000_000_000

    def __str__(self) -> str:
        """ES `TimeValue#getStringRep`: the duration with its own suffix; a negative one as the bare number."""
        return str(self.duration) if self.duration < 0 else f"{self.duration}{self.unit}"

    @classmethod
    def of_millis(cls, millis: int) -> TimeValue:
        """A duration that crossed the wire as milliseconds; prints in ms (`-1` stays the bare `-1`)."""
        return cls(millis, "ms")

    @classmethod
    def of_seconds(cls, seconds: float) -> TimeValue:
        return cls(round(seconds * 1000), "ms")


TimeValue.ZERO = TimeValue(0, "ms")
TimeValue.MINUS_ONE = TimeValue(-1, "ms")


def fits_java_integer(text: str, lowest: int, highest: int) -> bool:
    """Whether `text` is a Java integer literal in the range; the length is checked first, so a number of any
    size costs nothing (and never meets Python's limit on converting long digit strings)."""
    return len(text) <= 21 and bool(_JAVA_LONG.fullmatch(text)) and lowest <= int(text) <= highest


def _java_trim(text: str) -> str:
    return text.strip(_JAVA_WHITESPACE)


def _parse_duration(original: str, normalized: str, suffix: str, setting_name: str) -> int:
    """Mirrors the private `TimeValue#parse`: a Java long, else tell a fraction from garbage."""
    number = _java_trim(normalized[: len(normalized) - len(suffix)])
    if fits_java_integer(number, _LONG_MIN, _LONG_MAX):
        value = int(number)
        if value < -1:  # -1 is the magic "no timeout"; any other negative is rejected
            raise IllegalArgumentError(
                f"failed to parse setting [{setting_name}] with value [{original}] as a time value: "
                "negative durations are not supported"
            )
        return value
    if _JAVA_DOUBLE.fullmatch(number):  # also an integer too long for a Java long, as in ES
        raise IllegalArgumentError(f"failed to parse [{original}], fractional time values are not supported")
    raise IllegalArgumentError(f"failed to parse [{original}]")


def parse_time_value(text: str, setting_name: str) -> TimeValue:
    """Parses a duration exactly like ES `TimeValue#parseTimeValue(String, String)`.

    Suffixes match case-insensitively, except minutes: `m` must be lower case because ES reads `M` as months.
    Unitless `-1` and `0` are the only values accepted without a suffix.

    Raises:
        IllegalArgumentError: a missing or unknown unit, a fraction, garbage, or a negative other than -1.
    """
    normalized = _java_trim(text.lower())
    if normalized.endswith("nanos"):
        return TimeValue(_parse_duration(text, normalized, "nanos", setting_name), "nanos")
    if normalized.endswith("micros"):
        return TimeValue(_parse_duration(text, normalized, "micros", setting_name), "micros")
    if normalized.endswith("ms"):
        return TimeValue(_parse_duration(text, normalized, "ms", setting_name), "ms")
    if normalized.endswith("s"):
        return TimeValue(_parse_duration(text, normalized, "s", setting_name), "s")
    if text.endswith("m"):  # matched on the original text, unlike every other unit
        return TimeValue(_parse_duration(text, normalized, "m", setting_name), "m")
    if normalized.endswith("h"):
        return TimeValue(_parse_duration(text, normalized, "h", setting_name), "h")
    if normalized.endswith("d"):
        return TimeValue(_parse_duration(text, normalized, "d", setting_name), "d")
    if re.fullmatch(r"-0*1", normalized):
        return TimeValue.MINUS_ONE
    if re.fullmatch(r"0+", normalized):
        return TimeValue.ZERO
    raise IllegalArgumentError(
        f"failed to parse setting [{setting_name}] with value [{text}] as a time value: unit is missing or unrecognized"
    )
