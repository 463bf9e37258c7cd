"""Index expressions to concrete index names (a reduced ES `IndexNameExpressionResolver`).

`_all`, `*` or nothing mean every visible index; `*` wildcards match index and alias names (an alias gives its
indices); a `-` prefix after a wildcard removes matches; a concrete name must be an index or an alias unless
`ignore_unavailable`. Date-math names (`<logs-{now/d}>`) are resolved first (`node.data.date_math`). Hidden indices
(`.tasks`) match only a wildcard that starts with `.` or when `expand_wildcards` includes `hidden`/`all`; closed
indices only when it includes `closed`/`all`, as in ES. A request that reads documents forbids closed indices
(`forbid_closed`, ES `IndicesOptions#forbidClosedIndices`): naming one is ES's `index_closed_exception`.

`concrete_write_index` and `concrete_single_index` are ES's `concreteWriteIndex` and `concreteSingleIndex`: the one
index a write or a get goes to, through an alias's write index.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from node.data.aliases import aliases_of, no_write_index, write_index_of
from node.data.date_math import resolve_date_math
from node.data.errors import IndexClosedError, index_not_found
from node.data.index_metadata import IndexMetadata
from node.errors import IllegalArgumentError

__all__ = [
    "IndicesOptions",
    "concrete_single_index",
    "concrete_write_index",
    "now_millis",
    "parse_expand_wildcards",
    "parse_wildcard_states",
    "resolve_indices",
]

_EXPAND_VALUES = ("open", "closed", "hidden", "none", "all")


def now_millis() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class IndicesOptions:
    ignore_unavailable: bool = False
    allow_no_indices: bool = True
    expand_hidden: bool = False
    expand_open: bool = True
    expand_closed: bool = False
    forbid_closed: bool = False


def parse_wildcard_states(values: Sequence[str]) -> tuple[bool, bool, bool]:
    """ES `IndicesOptions.WildcardStates#parseParameter`: whether wildcards expand to open, closed and hidden
    indices; `none` clears what came before it, `all` sets everything.

    Raises:
        IllegalArgumentError: an unknown value (ES's enum message).
    """
    parse_expand_wildcards(values)
    open_, closed, hidden = False, False, False
    for value in values:
        if value == "none":
            open_, closed, hidden = False, False, False
        elif value == "all":
            open_, closed, hidden = True, True, True
        elif value == "open":
            open_ = True
        elif value == "closed":
            closed = True
        else:
            hidden = True
    return open_, closed, hidden


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


def _expandable(index: IndexMetadata, expression: str, options: IndicesOptions) -> bool:
    if index.hidden and not options.expand_hidden and not (expression.startswith(".") and index.name.startswith(".")):
        return False
    return options.expand_closed if index.is_closed else options.expand_open


def resolve_indices(
    expressions: Iterable[str],
    indices: Mapping[str, IndexMetadata],
    options: IndicesOptions | None = None,
    *,
    now: int | None = None,
) -> list[str]:
    """The concrete names, in expression order (a wildcard's matches sorted by name, an alias's indices too).

    Raises:
        IndexNotFoundError: a concrete name that is neither an index nor an alias (unless `ignore_unavailable`), or
            nothing matched while `allow_no_indices` is false.
        IndexClosedError: a closed index named, or behind a named alias, when the options forbid closed indices.
    """
    options = options if options is not None else IndicesOptions()
    moment = now if now is not None else now_millis()
    exprs = [resolve_date_math(e, moment) for e in expressions if e]
    if not exprs or exprs == ["_all"]:
        exprs = ["*"]
    aliases = aliases_of(indices)
    out: dict[str, None] = {}
    wildcard_seen = False
    for expr in exprs:
        if expr.startswith("-") and wildcard_seen:
            pattern = _glob(expr[1:])
            for name in [n for n in out if pattern.fullmatch(n)]:
                del out[name]
            for alias in [a for a in aliases if pattern.fullmatch(a)]:
                for name in aliases[alias]:
                    out.pop(name, None)
            continue
        if "*" in expr or expr == "_all":
            wildcard_seen = True
            pattern = _glob("*" if expr == "_all" else expr)
            matched = {name for name in indices if pattern.fullmatch(name)}
            for alias, members in aliases.items():
                if pattern.fullmatch(alias):
                    matched.update(members)
            for name in sorted(matched):
                if _expandable(indices[name], expr, options):
                    out.setdefault(name)
            continue
        named = [expr] if expr in indices else aliases.get(expr)
        if named is None:
            if not options.ignore_unavailable:
                raise index_not_found(expr)
            continue
        for name in named:
            index = indices[name]
            if index.is_closed and options.forbid_closed:
                if options.ignore_unavailable:
                    continue
                raise IndexClosedError(name, index.uuid)
            out.setdefault(name)
    if not out and not options.allow_no_indices:
        raise index_not_found(",".join(exprs))
    return list(out)


def concrete_write_index(
    expression: str, indices: Mapping[str, IndexMetadata], *, require_alias: bool = False, now: int | None = None
) -> str | None:
    """The index a write to `expression` goes to (ES `IndexNameExpressionResolver#concreteWriteIndex`): the index
    of that name, an alias's write index, or None when there is neither (a write may then create the index, under
    the date-math-resolved name).

    Raises:
        IndexNotFoundError: `require_alias` and the name is not an alias (ES's `[require_alias]` message).
        IllegalArgumentError: an alias without a write index.
        IndexClosedError: the index is closed.
    """
    name = resolve_date_math(expression, now if now is not None else now_millis())
    aliases = aliases_of(indices)
    if require_alias and name not in aliases:
        error = index_not_found(name)
        error.reason = f"no such index [{name}] and [require_alias] request flag is [true] and [{name}] is not an alias"
        raise error
    if name in aliases:
        target = write_index_of(name, indices)
        if target is None:
            raise no_write_index(name)
        name = target
    index = indices.get(name)
    if index is None:
        return None
    if index.is_closed:
        raise IndexClosedError(name, index.uuid)
    return name


def concrete_single_index(expression: str, indices: Mapping[str, IndexMetadata], *, now: int | None = None) -> str:
    """The one index a get reads (ES `IndexNameExpressionResolver#concreteSingleIndex`).

    Raises:
        IndexNotFoundError: no index or alias of that name.
        IllegalArgumentError: an alias with more than one index.
        IndexClosedError: the index is closed.
    """
    name = resolve_date_math(expression, now if now is not None else now_millis())
    members = [name] if name in indices else aliases_of(indices).get(name)
    if not members:
        raise index_not_found(name)
    if len(members) > 1:
        raise IllegalArgumentError(
            f"alias [{name}] has more than one index associated with it [{', '.join(members)}], can't execute a "
            "single index op"
        )
    index = indices[members[0]]
    if index.is_closed:
        raise IndexClosedError(index.name, index.uuid)
    return index.name
