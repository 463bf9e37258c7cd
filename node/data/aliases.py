"""Index aliases: their metadata, the alias actions that change them, and what a name that is an alias points to.

Mirrors ES `AliasMetadata` (kept per index, in `IndexMetadata.aliases`), `Alias#fromXContent` (the alias objects of a
create-index body and of `PUT /{index}/_alias/{name}`), `IndicesAliasesRequest.AliasActions` (`POST /_aliases`),
`MetadataIndexAliasesService` (applying them) and `IndexAbstraction.Alias#getWriteIndex`.

An alias's metadata is kept in its `toXContent` shape, with only the fields set, in ES's order: `filter`,
`index_routing`, `search_routing`, `is_write_index`, `is_hidden`. `routing` sets both routings. Filters are kept
and returned; they do not filter here (queries are simulated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node.data.errors import InvalidAliasNameError, InvalidIndexNameError
from node.data.index_metadata import IndexMetadata, validate_index_name
from node.errors import IllegalArgumentError, IllegalStateError

__all__ = [
    "AliasAction",
    "aliases_of",
    "apply_alias_actions",
    "no_write_index",
    "parse_alias",
    "write_index_of",
]

_ALIAS_FIELDS = ("filter", "routing", "index_routing", "search_routing", "is_write_index", "is_hidden")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_alias(name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """An alias's metadata from its request object (ES `Alias#fromXContent`).

    Raises:
        IllegalArgumentError: an unknown field (`Unknown field [x] in alias [a]`) or a value of the wrong kind.
    """
    filter_: Any = None
    index_routing: str | None = None
    search_routing: str | None = None
    is_write_index: bool | None = None
    is_hidden: bool | None = None
    for key, value in body.items():
        if key not in _ALIAS_FIELDS:
            raise IllegalArgumentError(f"Unknown field [{key}] in alias [{name}]")
        if value is None:
            continue
        if key == "filter":
            if not isinstance(value, Mapping):
                raise IllegalArgumentError(f"Unknown token [{'VALUE_STRING'}] in alias [{name}]")
            filter_ = dict(value)
        elif key == "routing":
            index_routing = search_routing = _text(value)
        elif key == "index_routing":
            index_routing = _text(value)
        elif key == "search_routing":
            search_routing = _text(value)
        else:
            if not isinstance(value, bool):
                raise IllegalArgumentError(
                    f"Failed to parse value [{_text(value)}] as only [true] or [false] are allowed."
                )
            if key == "is_write_index":
                is_write_index = value
            else:
                is_hidden = value
    out: dict[str, Any] = {}
    if filter_ is not None:
        out["filter"] = filter_
    if index_routing is not None:
        out["index_routing"] = index_routing
    if search_routing is not None:
        out["search_routing"] = search_routing
    if is_write_index is not None:
        out["is_write_index"] = is_write_index
    if is_hidden is not None:
        out["is_hidden"] = is_hidden
    return out


def validate_alias_name(alias: str, index: IndexMetadata, indices: Mapping[str, IndexMetadata]) -> None:
    """ES `AliasValidator#validateAlias`: the rules of index names (as an alias name), no index of that name.

    Raises:
        InvalidAliasNameError: the first rule the name breaks.
    """
    try:
        validate_index_name(alias) if alias else None
    except InvalidIndexNameError as e:
        detail = e.reason.split("], ", 1)[1] if "], " in e.reason else e.reason
        raise InvalidAliasNameError(alias, detail, index.name, index.uuid) from None
    if not alias.strip():
        raise IllegalArgumentError("alias name is required")
    if alias in indices:
        raise InvalidAliasNameError(
            alias, "an index or data stream exists with the same name as the alias", index.name, index.uuid
        )


def aliases_of(indices: Mapping[str, IndexMetadata]) -> dict[str, list[str]]:
    """Every alias with the indices it points to, each list sorted by index name."""
    out: dict[str, list[str]] = {}
    for name in sorted(indices):
        for alias in indices[name].aliases:
            out.setdefault(alias, []).append(name)
    return out


def no_write_index(alias: str) -> IllegalArgumentError:
    return IllegalArgumentError(
        f"no write index is defined for alias [{alias}]. The write index may be explicitly disabled using "
        "is_write_index=false or the alias points to multiple indices without one being designated as a write index"
    )


def write_index_of(alias: str, indices: Mapping[str, IndexMetadata]) -> str | None:
    """ES `IndexAbstraction.Alias#getWriteIndex`: the index marked `is_write_index`, else the only index of an
    alias whose flag is unset; None when there is none."""
    members = aliases_of(indices).get(alias, [])
    marked = [name for name in members if indices[name].aliases[alias].get("is_write_index") is True]
    if marked:
        return marked[0]
    if len(members) == 1 and indices[members[0]].aliases[alias].get("is_write_index") is None:
        return members[0]
    return None


def _check_write_indices(indices: Mapping[str, IndexMetadata]) -> None:
    """ES `Metadata.Builder#validateAlias`: at most one write index per alias."""
    for alias, members in aliases_of(indices).items():
        marked = [name for name in members if indices[name].aliases[alias].get("is_write_index") is True]
        if len(marked) > 1:
            raise IllegalStateError(f"alias [{alias}] has more than one write index [{','.join(marked)}]")


@dataclass(frozen=True, slots=True)
class AliasAction:
    """One resolved alias action: `add` (with the alias's metadata), `remove` or `remove_index`."""

    kind: str
    index: str
    alias: str = ""
    metadata: Mapping[str, Any] | None = None


def apply_alias_actions(
    indices: Mapping[str, IndexMetadata], actions: Sequence[AliasAction]
) -> tuple[dict[str, IndexMetadata], list[str]]:
    """The indices after the actions, in order (ES `MetadataIndexAliasesService#applyAliasActions`), and the names
    of the indices `remove_index` deleted.

    An `add` of an alias that an index already has replaces it; a new write index takes the flag from the others
    only if they set it too, which `_check_write_indices` refuses, as ES does.

    Raises:
        InvalidAliasNameError: an alias named like an index.
        IllegalStateError: an alias left with more than one write index.
    """
    out = dict(indices)
    deleted: list[str] = []
    for action in actions:
        index = out.get(action.index)
        if index is None:
            continue
        if action.kind == "remove_index":
            del out[action.index]
            deleted.append(action.index)
            continue
        aliases = dict(index.aliases)
        if action.kind == "add":
            validate_alias_name(action.alias, index, out)
            aliases[action.alias] = dict(action.metadata or {})
        else:
            aliases.pop(action.alias, None)
        out[action.index] = _with_aliases(index, aliases)
    _check_write_indices(out)
    return out, deleted


def _with_aliases(index: IndexMetadata, aliases: Mapping[str, Mapping[str, Any]]) -> IndexMetadata:
    return IndexMetadata(
        index.name,
        index.settings,
        index.primary_terms,
        index.in_sync,
        index.state,
        dict(sorted(aliases.items())),
        index.mappings,
    )
