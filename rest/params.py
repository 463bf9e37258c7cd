"""Query parameters as ES's `RestRequest` reads them, with consumption tracking (reference §8.1–§8.4).

ES rejects any query parameter a handler did not read. Every accessor of `Params` therefore records the name it
was asked for, present or not, and `Params.check_unrecognized` raises for what is left, with ES's exact message
and "did you mean" suggestions. Values parse as ES parses them: booleans (§8.2), time values (§8.3) and
comma-separated lists.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Literal

from node.common.time_value import TimeUnit, TimeValue, fits_java_integer, parse_time_value
from node.errors import IllegalArgumentError, NumberFormatError

__all__ = [
    "GLOBAL_PARAMS",
    "SUGGESTION_BUDGET",
    "GroupBy",
    "Params",
    "TimeUnit",
    "TimeValue",
    "parse_group_by",
    "parse_time_value",
    "split_by_comma",
    "unrecognized",
]

GroupBy = Literal["nodes", "parents", "none"]

# Read by ES's REST layer itself for every request (`AbstractRestChannel`, `RestController`), so they are never
# unrecognized and always count as suggestion candidates.
GLOBAL_PARAMS: frozenset[str] = frozenset({"pretty", "human", "format", "filter_path", "error_trace", "source"})

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def parse_group_by(value: str | None) -> GroupBy:
    """The `group_by` of list, cancel and rethrottle (reference §8.4); `nodes` when absent."""
    if value is None or value == "nodes":
        return "nodes"
    if value == "parents":
        return "parents"
    if value == "none":
        return "none"
    raise IllegalArgumentError(f"[group_by] must be one of [nodes], [parents] or [none] but was [{value}]")


def split_by_comma(value: str | None) -> list[str]:
    """ES `Strings#splitStringByCommaToArray`: Java's `String#split(",")`, which drops trailing empty strings.

    No trimming: `a, b` yields `" b"`, as in ES.
    """
    if not value:
        return []
    parts = value.split(",")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


# "Did you mean" costs at most this many edit-distance cells (plus one per name pair considered) per error message.
# Every request a person types stays far below it, so ES's text comes out unchanged; a request with thousands of
# unknown parameters gets its remaining names listed without suggestions instead of holding the event loop.
SUGGESTION_BUDGET = 100_000


Units = str | tuple[int, ...]


def _utf16(text: str) -> Units:
    """The UTF-16 code units Lucene compares (`String#toCharArray`); a BMP-only name is its own units."""
    if text.isascii() or max(text) <= "\uffff":
        return text
    return tuple(memoryview(text.encode("utf-16-le", "surrogatepass")).cast("H"))


def _within_half(a: Units, b: Units, budget: list[int]) -> int | None:
    """The Levenshtein distance of `a` and `b` when it keeps Lucene's similarity `1 - d / max(len)` over 0.5.

    None when it cannot (decided from the lengths alone when they differ too much: `d >= |len(a) - len(b)|`) or
    when `budget[0]`, the cells left for this message, runs out. The rows stop early once every cell of a row
    is past the threshold, so a long name costs little even when it gets this far.
    """
    longest = max(len(a), len(b))
    limit = (longest - 1) // 2  # the largest distance with 1 - d / longest > 1/2
    if abs(len(a) - len(b)) > limit:
        return None
    if len(a) < len(b):
        a, b = b, a
    budget[0] -= len(a) * len(b)
    if budget[0] < 0:
        return None
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > limit:
            return None
        previous = current
    return previous[-1] if previous[-1] <= limit else None


def _suggestions(name: str, candidates: list[tuple[str, Units]], budget: list[int]) -> list[str]:
    """The candidates scoring over 0.5 against `name`, best first then by name (ES `BaseRestHandler#unrecognized`);
    none at all once the budget is spent.

    Scores are kept exact (`Fraction`): Lucene computes them in float, but distinct scores of names this short
    never round to the same float, so the order is the same.
    """
    units = _utf16(name)
    scored: list[tuple[Fraction, str]] = []
    for candidate, candidate_units in candidates:
        budget[0] -= 1
        if not units or not candidate_units:  # Lucene: 1 when both are empty, else 0
            continue
        distance = _within_half(units, candidate_units, budget)
        if budget[0] < 0:
            return []  # all or nothing: a name never gets a partial list
        if distance is not None:
            scored.append((1 - Fraction(distance, max(len(units), len(candidate_units))), candidate))
    scored.sort(key=lambda sc: (-sc[0], sc[1]))
    return [candidate for _, candidate in scored]


def unrecognized(
    path: str, invalids: Iterable[str], candidates: Iterable[str], detail: str = "parameter"
) -> IllegalArgumentError:
    """The error of ES `BaseRestHandler#unrecognized`, with "did you mean" suggestions.

    The work is bounded whatever the request holds: a name at least twice as long as a candidate (a 60,000
    character parameter) is ruled out by its length alone, exactly as the full computation would, and the whole
    message spends at most `SUGGESTION_BUDGET` cells.

    Args:
        path: the decoded request path, without the query string (reference §20.41).
        invalids: the rejected names; reported sorted, as ES's `TreeSet`.
        candidates: names to suggest; those scoring more than 0.5 are listed best first, then by name.
        detail: the noun, pluralised when several names are rejected (`parameter`, `metric`).
    """
    names = sorted(set(invalids))
    pool = [(candidate, _utf16(candidate)) for candidate in sorted(set(candidates))]
    budget = [SUGGESTION_BUDGET]
    entries = []
    for name in names:
        matches = _suggestions(name, pool, budget) if budget[0] > 0 else []
        entry = f"[{name}]"
        if matches:
            entry += f" -> did you mean {'any of ' if len(matches) > 1 else ''}[{', '.join(matches)}]?"
        entries.append(entry)
    plural = "s" if len(names) > 1 else ""
    return IllegalArgumentError(f"request [{path}] contains unrecognized {detail}{plural}: {', '.join(entries)}")


class Params:
    """The query parameters of one request, recording every name a handler reads (ES `RestRequest#param`).

    Reading a name consumes it even when the request does not carry it, as in ES, so the names a handler
    understands become suggestions for a mistyped one.
    """

    __slots__ = ("_consumed", "_values", "path")

    def __init__(self, query: Mapping[builtins.str, builtins.str], path: builtins.str) -> None:
        """Reads the whole query once.

        Args:
            query: the decoded query; a multi-dict (aiohttp's `request.query`, passed as is) may repeat a name, and
                the last value wins as in ES `RestUtils#decodeQueryString`.
            path: the decoded path without the query string, quoted in the unrecognized-parameter error.
        """
        self._values: dict[builtins.str, builtins.str] = {}
        for name, value in query.items():
            self._values[name] = value
        self._consumed: set[builtins.str] = set()
        self.path = path

    def has(self, name: builtins.str) -> builtins.bool:
        """Whether the request carries `name`. Unlike ES `RestRequest#hasParam`, this consumes the name too."""
        self._consumed.add(name)
        return name in self._values

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        """ES `RestRequest#param`: the raw value, or `default` when absent."""
        self._consumed.add(name)
        return self._values.get(name, default)

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        """ES `RestRequest#paramAsBoolean`: a bare `?name` is true; only `true` and `false` are values.

        Raises:
            IllegalArgumentError: any other value (reference §8.2).
        """
        value = self.str(name)
        if value is None:
            return default
        if value in ("", "true"):
            return True
        if value == "false":
            return False
        raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        """ES `RestRequest#paramAsInt`: a Java int (`Integer#parseInt`: ASCII digits, an optional sign, in range).

        Raises:
            IllegalArgumentError: `Failed to parse int parameter [size] with value [x]`, caused by ES's
                `number_format_exception`.
        """
        value = self.str(name)
        if value is None:
            return default
        if not fits_java_integer(value, _INT_MIN, _INT_MAX):
            raise IllegalArgumentError(
                f"Failed to parse int parameter [{name}] with value [{value}]",
                cause=NumberFormatError(f'For input string: "{value}"'),
            )
        return builtins.int(value)

    def long(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        """ES `RestRequest#paramAsLong`: a Java long (`Long#parseLong`).

        Raises:
            IllegalArgumentError: `Failed to parse long parameter [if_seq_no] with value [x]`.
        """
        value = self.str(name)
        if value is None:
            return default
        if not fits_java_integer(value, -(2**63), 2**63 - 1):
            raise IllegalArgumentError(
                f"Failed to parse long parameter [{name}] with value [{value}]",
                cause=NumberFormatError(f'For input string: "{value}"'),
            )
        return builtins.int(value)

    def time(self, name: builtins.str, default: TimeValue | None = None) -> TimeValue | None:
        """ES `RestRequest#paramAsTime`; the parameter name is the setting name in error messages."""
        value = self.str(name)
        return default if value is None else parse_time_value(value, name)

    def list(self, name: builtins.str) -> builtins.list[builtins.str]:
        """ES `RestRequest#paramAsStringArray`, with an empty list for an absent parameter."""
        return split_by_comma(self.str(name))

    def consume(self, *names: builtins.str) -> None:
        """Accepts parameters a handler tolerates without reading (ES handlers reading and ignoring them)."""
        self._consumed.update(names)

    def check_unrecognized(self, response_params: Iterable[builtins.str] = ()) -> None:
        """Rejects every query parameter nobody read, as ES `BaseRestHandler#handleRequest` does.

        Args:
            response_params: the handler's own response parameters (ES `BaseRestHandler#responseParams`), read
                only while rendering: accepted unread, and suggested. `_cat` handlers pass `CAT_RESPONSE_PARAMS`.

        Raises:
            IllegalArgumentError: `request [/_tasks] contains unrecognized parameter: [foo]`.
        """
        accepted = self._consumed | GLOBAL_PARAMS | set(response_params)
        invalid = [name for name in self._values if name not in accepted]
        if invalid:
            raise unrecognized(self.path, invalid, accepted)
