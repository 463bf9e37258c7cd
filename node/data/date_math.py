"""Date-math index names: `<logs-{now/d}>` is `logs-2024.05.01` (ES `IndexNameExpressionResolver.
DateMathExpressionResolver`, with `DateMathParser` for the `now...` part).

An expression is date math when it starts with `<` and ends with `>`. Between them, static text and `{...}`
blocks: each block holds a date-math expression (`now`, then `+1d`/`-1M`/... offsets and `/d`-style roundings),
optionally followed by `{format}` or `{format|time_zone}`. The default format is `uuuu.MM.dd`, the default zone UTC.
`\\` escapes the next character. Units: `y`, `M`, `w`, `d`, `h`/`H`, `m`, `s`, as in ES.

Formats use Java's pattern letters; the common ones are supported (`uuuu`/`yyyy`/`yy`, `MM`/`M`, `dd`/`d`,
`HH`/`H`, `mm`, `ss`, `'quoted text'`), which is what index names are made of.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from node.data.errors import ParseError

__all__ = ["is_date_math", "resolve_date_math"]

DEFAULT_FORMAT = "uuuu.MM.dd"
_STEP = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def is_date_math(expression: str) -> bool:
    return len(expression) > 1 and expression.startswith("<") and expression.endswith(">")


def _invalid(expression: str, detail: str) -> ParseError:
    return ParseError(f"invalid dynamic name expression [{expression}]. {detail}")


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _round_down(moment: dt.datetime, unit: str) -> dt.datetime:
    if unit == "y":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start = moment - dt.timedelta(days=moment.weekday())
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in ("h", "H"):
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


def _apply_math(expression: str, math: str, now: dt.datetime) -> dt.datetime:
    """ES `JavaDateMathParser#parseMath` for an expression that starts with `now`."""
    if not math.startswith("now"):
        raise _invalid(expression, "date math expression must start with [now]")
    moment = now
    rest = math[3:]
    position = 0
    while position < len(rest):
        step = _STEP.match(rest, position)
        if step is None:
            raise _invalid(expression, f"operator not supported for date math [{rest[position:]}]")
        sign, amount, unit, rounding = step.groups()
        if rounding is not None:
            moment = _round_down(moment, rounding)
        else:
            count = int(amount) * (1 if sign == "+" else -1)
            if unit == "y":
                moment = _add_months(moment, 12 * count)
            elif unit == "M":
                moment = _add_months(moment, count)
            else:
                seconds = {"w": 604_800, "d": 86_400, "h": 3_600, "H": 3_600, "m": 60, "s": 1}[unit]
                moment = moment + dt.timedelta(seconds=seconds * count)
        position = step.end()
    return moment


_PATTERN_LETTERS = {
    "u": lambda m, n: f"{m.year:04d}" if n != 2 else f"{m.year % 100:02d}",
    "y": lambda m, n: f"{m.year:04d}" if n != 2 else f"{m.year % 100:02d}",
    "M": lambda m, n: f"{m.month:0{n}d}",
    "d": lambda m, n: f"{m.day:0{n}d}",
    "H": lambda m, n: f"{m.hour:0{n}d}",
    "m": lambda m, n: f"{m.minute:0{n}d}",
    "s": lambda m, n: f"{m.second:0{n}d}",
}


def _format(expression: str, pattern: str, moment: dt.datetime) -> str:
    """A Java `DateTimeFormatter` pattern applied to `moment`, for the letters index names use."""
    out: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "'":
            end = pattern.find("'", position + 1)
            if end < 0:
                raise _invalid(expression, f"invalid date format [{pattern}]")
            out.append(pattern[position + 1 : end] if end > position + 1 else "'")
            position = end + 1
            continue
        run = position
        while run < len(pattern) and pattern[run] == char:
            run += 1
        count = run - position
        if char in _PATTERN_LETTERS:
            out.append(_PATTERN_LETTERS[char](moment, count))
        elif char.isalpha():
            raise _invalid(expression, f"unsupported date format letter [{char}] in [{pattern}]")
        else:
            out.append(char * count)
        position = run
    return "".join(out)


def _zone(expression: str, name: str) -> dt.tzinfo:
    offset = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", name)
    if offset is not None:
        sign = 1 if offset.group(1) == "+" else -1
        delta = dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return dt.timezone(sign * delta)
    if name in ("UTC", "Z"):
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(expression, f"invalid time zone [{name}]") from None


def _block(expression: str, block: str, now_millis: int) -> str:
    """One `{math{format|zone}}` block's text."""
    math, pattern, zone = block, DEFAULT_FORMAT, "UTC"
    brace = block.find("{")
    if brace >= 0:
        if not block.endswith("}"):
            raise _invalid(expression, "missing closing '}' for date math format")
        math, spec = block[:brace], block[brace + 1 : -1]
        pattern, _, zone_text = spec.partition("|")
        pattern = pattern or DEFAULT_FORMAT
        zone = zone_text or "UTC"
    tz = _zone(expression, zone)
    now = dt.datetime.fromtimestamp(now_millis / 1000, tz)
    try:
        moment = _apply_math(expression, math, now)
    except (OverflowError, ValueError):  # an offset past the years a date can hold
        raise _invalid(expression, f"failed to parse date math [{math}]") from None
    return _format(expression, pattern, moment)


def resolve_date_math(expression: str, now_millis: int) -> str:
    """The index name a date-math expression stands for at `now_millis`; any other expression unchanged.

    Raises:
        ParseError: ES's `invalid dynamic name expression [...]` for a malformed expression.
    """
    if not is_date_math(expression):
        return expression
    inner = expression[1:-1]
    out: list[str] = []
    position = 0
    while position < len(inner):
        char = inner[position]
        if char == "\\":
            if position + 1 >= len(inner):
                raise _invalid(expression, "invalid escape character at the end of the expression")
            out.append(inner[position + 1])
            position += 2
            continue
        if char == "}":
            raise _invalid(
                expression,
                f"invalid character at position [{position}]. `{{` and `}}` are reserved characters and should be "
                "escaped when used as part of the index name using `\\` (e.g. `\\{text\\}`)",
            )
        if char != "{":
            out.append(char)
            position += 1
            continue
        depth, end = 1, position + 1
        while end < len(inner) and depth:
            depth += {"{": 1, "}": -1}.get(inner[end], 0)
            end += 1
        if depth:
            raise _invalid(expression, "date math placeholder is open ended")
        out.append(_block(expression, inner[position + 1 : end - 1], now_millis))
        position = end
    return "".join(out)
