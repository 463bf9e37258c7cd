"""Index expressions to concrete index names (a reduced ES `IndexNameExpressionResolver`).

`_all`, `*` or nothing mean every visible index; `*` wildcards match names; a `-` prefix after a wildcard removes
matches; a concrete name must exist unless `ignore_unavailable`. Hidden indices (`.tasks`) match only a wildcard
that starts with `.` or when `expand_wildcards` includes `hidden`/`all`, as in ES.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from node.data.errors import index_not_found
from node.data.index_metadata import IndexMetadata
from node.errors import IllegalArgumentError

__all__ = ["IndicesOptions", "parse_expand_wildcards", "resolve_indices"]

_EXPAND_VALUES = ("open", "closed", "hidden", "none", "all")


@dataclass(frozen=True, slots=True)
class IndicesOptions:
    ignore_unavailable: bool = False
    allow_no_indices: bool = True
    expand_hidden: bool = False


def parse_expand_wildcards(values: Sequence[str]) -> bool:
    """Whether `expand_wildcards` includes hidden indices; raises ES's error for an unknown value."""
    for value in values:
        if value not in _EXPAND_VALUES:
            raise IllegalArgumentError(
                f"No enum constant org.elasticsearch.action.support.IndicesOptions.WildcardStates.{value.upper()}"
            )
    return "all" in values or "hidden" in values


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def resolve_indices(
    expressions: Iterable[str], indices: Mapping[str, IndexMetadata], options: IndicesOptions | None = None
) -> list[str]:
    """The concrete names, in expression order (a wildcard's matches sorted by name).

    Raises:
        IndexNotFoundError: a concrete name that does not exist (unless `ignore_unavailable`), or nothing matched
            while `allow_no_indices` is false.
    """
    options = options if options is not None else IndicesOptions()
    exprs = [e for e in expressions if e]
    if not exprs or exprs == ["_all"]:
        exprs = ["*"]
    out: dict[str, None] = {}
    wildcard_seen = False
    for expr in exprs:
        if expr.startswith("-") and wildcard_seen:
            pattern = _glob(expr[1:])
            for name in [n for n in out if pattern.fullmatch(n)]:
                del out[name]
            continue
        if "*" in expr or expr == "_all":
            wildcard_seen = True
            pattern = _glob("*" if expr == "_all" else expr)
            for name in sorted(indices):
                visible = (
                    not indices[name].hidden or options.expand_hidden or (expr.startswith(".") and name.startswith("."))
                )
                if visible and pattern.fullmatch(name):
                    out.setdefault(name)
            continue
        if expr in indices:
            out.setdefault(expr)
        elif not options.ignore_unavailable:
            raise index_not_found(expr)
    if not out and not options.allow_no_indices:
        raise index_not_found(",".join(exprs))
    return list(out)
