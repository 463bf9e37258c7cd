"""Aliases, date-math names and closed indices in index resolution (ES `IndexNameExpressionResolver`,
`DateMathExpressionResolver`, `IndexAbstraction.Alias#getWriteIndex`, `MetadataIndexAliasesService`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.actions.aliases import alias_pattern_matches
from node.data.aliases import AliasAction, apply_alias_actions, parse_alias, write_index_of
from node.data.date_math import resolve_date_math
from node.data.errors import IndexClosedError, InvalidAliasNameError, ParseError
from node.data.index_metadata import IndexMetadata
from node.data.index_resolver import (
    IndicesOptions,
    concrete_single_index,
    concrete_write_index,
    parse_wildcard_states,
    resolve_indices,
)
from node.errors import IllegalArgumentError, IllegalStateError, IndexNotFoundError

NOW = 1714600000000  # 2024-05-01T21:46:40Z


def index(name: str, **aliases: dict[str, object]) -> IndexMetadata:
    meta = IndexMetadata.create(name, {}, uuid=f"uuid-{name}", creation_date=0, version_created="9.1.0")
    return replace(meta, aliases=aliases)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("<logs-{now/d}>", "logs-2024.05.01"),
        ("<logs-{now/M{uuuu.MM}}>", "logs-2024.05"),
        ("<logs-{now/d-1d}>", "logs-2024.04.30"),
        ("<logs-{now+1d/d{yyyy-MM-dd|+12:00}}>", "logs-2024-05-03"),
        ("<logs-{now/y{yyyy}}>", "logs-2024"),
        ("<a\\{b\\}>", "a{b}"),
        ("plain", "plain"),
    ],
)
def test_date_math_names_resolve_as_elasticsearch(expression: str, expected: str) -> None:
    assert resolve_date_math(expression, NOW) == expected


def test_a_stray_brace_in_a_date_math_name_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^invalid dynamic name expression \[<a}>\]. invalid character at position"):
        resolve_date_math("<a}>", NOW)


def test_a_date_math_offset_past_the_calendar_is_refused() -> None:
    with pytest.raises(ParseError, match=r"failed to parse date math \[now\+99999999y\]"):
        resolve_date_math("<a-{now+99999999y}>", NOW)


def test_date_math_must_start_with_now() -> None:
    with pytest.raises(ParseError, match=r"date math expression must start with \[now\]"):
        resolve_date_math("<a-{then/d}>", NOW)


def test_alias_metadata_keeps_elasticsearch_field_order() -> None:
    alias = parse_alias("a", {"is_write_index": True, "routing": "1", "filter": {"term": {"f": 1}}})
    assert list(alias.items()) == [
        ("filter", {"term": {"f": 1}}),
        ("index_routing", "1"),
        ("search_routing", "1"),
        ("is_write_index", True),
    ]


def test_an_alias_field_it_does_not_know_is_refused() -> None:
    with pytest.raises(IllegalArgumentError, match=r"^Unknown field \[nope\] in alias \[a\]$"):
        parse_alias("a", {"nope": 1})


def test_an_alias_names_its_indices_and_wildcards_match_aliases() -> None:
    indices = {"i1": index("i1", a={}), "i2": index("i2", a={}), "other": index("other")}
    assert resolve_indices(["a"], indices) == ["i1", "i2"]
    assert resolve_indices(["a*"], indices) == ["i1", "i2"]
    assert resolve_indices(["*", "-a"], indices) == ["other"]


def test_write_index_is_the_marked_one_or_the_only_unmarked_one() -> None:
    assert write_index_of("a", {"i1": index("i1", a={})}) == "i1"
    two = {"i1": index("i1", a={}), "i2": index("i2", a={"is_write_index": True})}
    assert write_index_of("a", two) == "i2"
    assert write_index_of("a", {"i1": index("i1", a={"is_write_index": False})}) is None


def test_a_write_to_an_alias_without_write_index_is_refused() -> None:
    indices = {"i1": index("i1", a={}), "i2": index("i2", a={})}
    with pytest.raises(IllegalArgumentError, match=r"^no write index is defined for alias \[a\]\. "):
        concrete_write_index("a", indices)


def test_require_alias_refuses_an_index_name() -> None:
    with pytest.raises(IndexNotFoundError) as caught:
        concrete_write_index("i1", {"i1": index("i1")}, require_alias=True)
    assert caught.value.reason == (
        "no such index [i1] and [require_alias] request flag is [true] and [i1] is not an alias"
    )


def test_a_missing_index_is_left_to_auto_create() -> None:
    assert concrete_write_index("<new-{now/d}>", {}, now=NOW) is None


def test_a_get_through_an_alias_of_two_indices_is_refused() -> None:
    indices = {"i1": index("i1", a={}), "i2": index("i2", a={})}
    with pytest.raises(IllegalArgumentError, match=r"has more than one index associated with it \[i1, i2\]"):
        concrete_single_index("a", indices)
    assert concrete_single_index("a", {"i1": index("i1", a={})}) == "i1"


def test_closed_indices_are_skipped_by_wildcards_and_refused_by_name_when_forbidden() -> None:
    indices = {"open": index("open"), "shut": replace(index("shut"), state="close")}
    assert resolve_indices(["*"], indices) == ["open"]
    assert resolve_indices(["*"], indices, IndicesOptions(expand_closed=True)) == ["open", "shut"]
    assert resolve_indices(["shut"], indices) == ["shut"]
    with pytest.raises(IndexClosedError):
        resolve_indices(["shut"], indices, IndicesOptions(forbid_closed=True))
    with pytest.raises(IndexClosedError):
        concrete_write_index("shut", indices)


@pytest.mark.parametrize(
    ("values", "states"),
    [(["open"], (True, False, False)), (["all"], (True, True, True)), (["open", "none"], (False, False, False))],
)
def test_expand_wildcards_states(values: list[str], states: tuple[bool, bool, bool]) -> None:
    assert parse_wildcard_states(values) == states


def test_alias_actions_apply_in_order_and_refuse_two_write_indices() -> None:
    indices = {"i1": index("i1"), "i2": index("i2")}
    added, _ = apply_alias_actions(indices, [AliasAction("add", "i1", "a"), AliasAction("add", "i2", "a")])
    assert added["i1"].aliases == {"a": {}} and added["i2"].aliases == {"a": {}}
    removed, deleted = apply_alias_actions(added, [AliasAction("remove", "i1", "a"), AliasAction("remove_index", "i2")])
    assert removed["i1"].aliases == {} and "i2" not in removed and deleted == ["i2"]
    marked = [AliasAction("add", name, "w", {"is_write_index": True}) for name in ("i1", "i2")]
    with pytest.raises(IllegalStateError, match=r"^alias \[w\] has more than one write index \[i1,i2\]$"):
        apply_alias_actions(indices, marked)


def test_an_alias_named_like_an_index_is_refused() -> None:
    indices = {"i1": index("i1"), "i2": index("i2")}
    with pytest.raises(InvalidAliasNameError) as caught:
        apply_alias_actions(indices, [AliasAction("add", "i1", "i2")])
    assert (
        caught.value.reason == "Invalid alias name [i2], an index or data stream exists with the same name as the alias"
    )


@pytest.mark.parametrize(
    ("patterns", "alias", "matched"),
    [([], "a", True), (["_all"], "a", True), (["a*"], "ab", True), (["*", "-ab"], "ab", False), (["b"], "a", False)],
)
def test_alias_patterns(patterns: list[str], alias: str, matched: bool) -> None:
    assert alias_pattern_matches(patterns, alias) is matched


def test_cluster_health_of_an_alias_is_about_its_indices() -> None:
    from node.data.health import health_indices
    from node.data.index_metadata import with_index_metadata

    metadata: dict[str, object] = {}
    for meta in (index("i1", a={}), index("i2", a={}), index("other")):
        metadata = with_index_metadata(metadata, meta)
    assert health_indices(metadata, ["a"]) == ["i1", "i2"]
    assert health_indices(metadata, ["missing"]) == ["missing"]
