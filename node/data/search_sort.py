"""Sorting search hits (mirrors ES `SortBuilder#fromXContent`, `FieldSortBuilder` and the merge of shard results in
`SearchPhaseController`).

A sort is a list of clauses, each a field (`"n"`, `{"n": "desc"}`, `{"n": {"order": "desc", "missing": "_first",
"mode": "max"}}`), `_score` (descending by default) or `_doc` (index order). A field's value in a document is its
smallest value for an ascending sort and its largest for a descending one (ES's default `mode`), strings sort by
code point, and a document without the field sorts last (`missing: _last`, ES's default) or first.

Every hit carries its *sort key*: per clause a pair `[rank, value]` that orders the same on every shard, so the
coordinating node merges the shards' pages with the same comparison (`compare_keys`); ties go to the lower shard,
then to the earlier document of that shard, as ES breaks them. The `sort` values ES shows in a hit are
`display_values`: the value itself, for a missing numeric value `Long.MAX_VALUE` (`Long.MIN_VALUE` when it sorts
first), for a missing string `null`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node.data.errors import ParsingError
from node.data.query_dsl import field_values
from node.errors import IllegalArgumentError

__all__ = ["SortClause", "compare_keys", "display_values", "parse_sort", "sort_key"]

LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)
SCORE = "_score"
DOC = "_doc"


@dataclass(frozen=True, slots=True)
class SortClause:
    field: str
    descending: bool = False
    missing_first: bool = False
    mode: str | None = None  # min, max, sum, avg, median; None: min ascending, max descending

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "descending": self.descending, "missing_first": self.missing_first,
                "mode": self.mode}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SortClause:
        return cls(str(data["field"]), bool(data["descending"]), bool(data["missing_first"]), data.get("mode"))


def _order(value: Any) -> bool:
    """ES `SortOrder#fromString`: `asc` or `desc`, any case."""
    if isinstance(value, str) and value.lower() in ("asc", "desc"):
        return value.lower() == "desc"
    raise IllegalArgumentError(f"Unknown SortOrder [{value}]")


def _clause(spec: Any) -> SortClause:
    if isinstance(spec, str):
        return SortClause(spec, descending=spec == SCORE)
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ParsingError("malformed sort format, within the sort array, an object, or an actual string are allowed")
    field, options = next(iter(spec.items()))
    if isinstance(options, str):
        return SortClause(field, descending=_order(options))
    if not isinstance(options, Mapping):
        raise ParsingError(f"[{field}] failed to parse field [{field}]")
    descending = _order(options["order"]) if "order" in options else field == SCORE
    missing = options.get("missing", "_last")
    if missing not in ("_last", "_first"):
        missing = "_last"  # a replacement value: accepted, sorted as missing (not simulated)
    mode = options.get("mode")
    if mode is not None and mode not in ("min", "max", "sum", "avg", "median"):
        raise IllegalArgumentError(f"Unknown SortMode [{mode}]")
    return SortClause(field, descending, missing == "_first", mode)


def parse_sort(spec: Any) -> tuple[SortClause, ...]:
    """The clauses of a `sort` body field or `sort` parameter list (`"n:desc"` strings as the parameter has them).

    Raises:
        ParsingError, IllegalArgumentError: a malformed clause or an unknown order or mode (ES's texts).
    """
    if spec is None:
        return ()
    items = spec if isinstance(spec, list) else [spec]
    clauses = []
    for item in items:
        if isinstance(item, str) and ":" in item:  # the URL form, `field:desc`
            field, _, order = item.rpartition(":")
            clauses.append(SortClause(field, descending=_order(order)))
        else:
            clauses.append(_clause(item))
    return tuple(clauses)


def _reduce(values: Sequence[Any], clause: SortClause) -> Any:
    numbers = [float(v) if isinstance(v, float) else v for v in values if isinstance(v, int | float)]
    pool: list[Any] = numbers if numbers else [v for v in values if isinstance(v, str)]
    if not pool:
        return None
    mode = clause.mode or ("max" if clause.descending else "min")
    if numbers and mode in ("sum", "avg", "median"):
        if mode == "sum":
            return sum(numbers)
        if mode == "avg":
            return sum(numbers) / len(numbers)
        ordered = sorted(numbers)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return max(pool) if mode == "max" else min(pool)


def sort_key(clauses: Sequence[SortClause], source: Mapping[str, Any], score: float, doc: int) -> list[list[Any]]:
    """The document's key: per clause `[rank, value]`, rank 0 for a value, 1 for a missing one, -1 for a missing
    one that sorts first; booleans sort as 0 and 1, as ES's `boolean` doc values do."""
    key: list[list[Any]] = []
    for clause in clauses:
        if clause.field == SCORE:
            key.append([0, score])
        elif clause.field == DOC:
            key.append([0, doc])
        else:
            values = [int(v) if isinstance(v, bool) else v for v in field_values(source, clause.field)]
            value = _reduce(values, clause)
            key.append([0, value] if value is not None else [-1 if clause.missing_first else 1, None])
    return key


def _compare_values(a: Any, b: Any) -> int:
    if isinstance(a, str) != isinstance(b, str):  # a field of numbers in some documents, strings in others
        return -1 if not isinstance(a, str) else 1
    return (a > b) - (a < b)


def compare_keys(clauses: Sequence[SortClause]) -> Callable[[Sequence[Sequence[Any]], Sequence[Sequence[Any]]], int]:
    """`cmp` of two sort keys under `clauses`: a missing value stays last (or first) in either direction."""

    def compare(left: Sequence[Sequence[Any]], right: Sequence[Sequence[Any]]) -> int:
        for clause, (l_rank, l_value), (r_rank, r_value) in zip(clauses, left, right, strict=True):
            if l_rank != r_rank:
                return -1 if l_rank < r_rank else 1
            if l_rank != 0:
                continue
            order = _compare_values(l_value, r_value)
            if order:
                return -order if clause.descending else order
        return 0

    return compare


def sorted_by(
    clauses: Sequence[SortClause], items: list[Any], key: Callable[[Any], Sequence[Sequence[Any]]]
) -> list[Any]:
    """`items` in sort order (stable: equal keys keep their order)."""
    compare = compare_keys(clauses)
    return sorted(items, key=functools.cmp_to_key(lambda a, b: compare(key(a), key(b))))


def display_values(clauses: Sequence[SortClause], key: Sequence[Sequence[Any]], numeric: Sequence[bool]) -> list[Any]:
    """The `sort` array of a hit. `numeric[i]`: whether clause i sorts a numeric field (for its missing value)."""
    out: list[Any] = []
    for clause, (rank, value), is_number in zip(clauses, key, numeric, strict=True):
        if rank == 0:
            out.append(value)
        elif is_number:
            first = rank < 0
            out.append(LONG_MIN if first != clause.descending else LONG_MAX)
        else:
            out.append(None)
    return out
