"""Search requests and responses as pure values (mirrors ES `SearchRequest`, `SearchSourceBuilder` and
`SearchResponse`).

A request carries the query (evaluated on every shard by `node.data.query_dsl`), the sort
(`node.data.search_sort`), the page (`from`, `size`), `_source` filtering, whether hits show `_version` and
`_seq_no`/`_primary_term`, and total-hits tracking. Its source is kept for the task description, which is ES's
exactly for the common forms:

    indices[logs], search_type[QUERY_THEN_FETCH], source[{"size":5,"query":{"match_all":{"boost":1.0}}}]

Scores are simulated (1.0 for a matching document, 0.0 in pure filter context); ties between shards go to the lower
shard, as ES breaks equal scores.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.data.errors import ParsingError
from node.data.index_resolver import IndicesOptions
from node.data.json_body import json_token
from node.data.query_dsl import compile_query
from node.data.search_sort import SortClause, parse_sort
from node.data.shard_query import slice_range
from node.data.source_filter import SourceFilter, parse_source_filter
from node.errors import IllegalArgumentError
from node.human import format_duration_nanos

__all__ = [
    "DEFAULT_TRACK_TOTAL_HITS",
    "MAX_KEEP_ALIVE_MILLIS",
    "MAX_RESULT_WINDOW",
    "MAX_SLICES_PER_SCROLL",
    "TRACK_ALL",
    "ParsingError",
    "SearchRequest",
    "ShardTarget",
    "check_keep_alive",
    "check_shard_search",
    "decode_scroll_id",
    "encode_scroll_id",
    "parse_search_body",
    "parse_sort",
    "render_hits_total",
    "slice_range",
    "source_description",
]

DEFAULT_TRACK_TOTAL_HITS = 10_000
TRACK_ALL = 2_147_483_647  # `track_total_hits: true` (ES TRACK_TOTAL_HITS_ACCURATE, Integer.MAX_VALUE)
DEFAULT_SIZE = 10
# The limits ES puts on what one search may hold on a shard. All three are settings in ES (per index, or for the
# cluster); here they keep their defaults.
MAX_RESULT_WINDOW = 10_000  # ES `index.max_result_window`
MAX_SLICES_PER_SCROLL = 1024  # ES `index.max_slices_per_scroll`
MAX_KEEP_ALIVE_MILLIS = 86_400_000  # ES `search.max_keep_alive`, 24h

# SearchSourceBuilder#innerToXContent field order.
_SOURCE_ORDER = (
    "from", "size", "timeout", "terminate_after", "query", "post_filter", "min_score", "version",
    "seq_no_primary_term", "explain", "profile", "_source", "stored_fields", "docvalue_fields", "script_fields",
    "sort", "track_scores", "track_total_hits", "search_after", "slice", "aggregations", "highlight",
    "suggest", "rescore", "collapse", "knn", "runtime_mappings", "fields", "indices_boost", "pit", "stats", "ext",
)  # fmt: skip
_KNOWN_KEYS = frozenset(_SOURCE_ORDER) | {"aggs", "query", "sub_searches", "rank", "retriever"}


def _normalize_query(query: Any) -> Any:
    """ES renders a parsed query with its defaults; `match_all` is by far the most common form."""
    if isinstance(query, Mapping) and list(query) == ["match_all"]:
        inner = query["match_all"] if isinstance(query["match_all"], Mapping) else {}
        return {"match_all": {"boost": float(inner.get("boost", 1.0))}}
    return query


def source_description(source: Mapping[str, Any]) -> str:
    """The `source[...]` part of a search task description: ES's `SearchSourceBuilder#toString`."""
    ordered: dict[str, Any] = {}
    values = dict(source)
    if "aggs" in values:
        values["aggregations"] = values.pop("aggs")
    for key in _SOURCE_ORDER:
        if key in values:
            ordered[key] = _normalize_query(values[key]) if key in ("query", "post_filter") else values[key]
    for key, value in values.items():
        ordered.setdefault(key, value)
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What a search asks for: indices, page, total-hits tracking, and the source for its description."""

    indices: tuple[str, ...] = ()
    options: IndicesOptions = field(default_factory=IndicesOptions)
    size: int = DEFAULT_SIZE
    from_: int = 0
    track_total_hits: int | None = DEFAULT_TRACK_TOTAL_HITS  # None: not tracked
    rest_total_hits_as_int: bool = False
    source: Mapping[str, Any] = field(default_factory=dict)
    scroll_millis: int = 0  # 0: no scroll
    scroll_text: str | None = None
    preference: str | None = None
    slice: tuple[int, int] | None = None  # (id, max)
    search_type: str = "QUERY_THEN_FETCH"
    internal: bool = False  # a reindex worker's own searches: hits keep every metadata field
    query: Mapping[str, Any] | None = None
    sort: tuple[SortClause, ...] = ()
    source_filter: SourceFilter = field(default_factory=SourceFilter)
    version: bool = False
    seq_no_primary_term: bool = False
    track_scores: bool = False
    search_after: tuple[Any, ...] | None = None

    def fetch_options(self) -> dict[str, Any]:
        """What the shards need to render hits: `_source` filtering and the metadata fields to show."""
        return {
            "source": self.source_filter.to_json(),
            "version": self.version or self.internal,
            "seq_no_primary_term": self.seq_no_primary_term or self.internal,
        }

    def description(self) -> str:
        """ES `SearchRequest#getDescription`."""
        scroll = f"scroll[{self.scroll_text}], " if self.scroll_text is not None else ""
        return (
            f"indices[{','.join(self.indices)}], search_type[{self.search_type}], {scroll}"
            f"source[{source_description(self.source)}]"
        )


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ParsingError(f"[{name}] failed to parse field [{name}]")
    try:
        return int(value)
    except ValueError:
        raise ParsingError(f"[{name}] failed to parse field [{name}]") from None


def parse_track_total_hits(value: Any) -> int | None:
    """`true` → accurate, `false` → none, a number → up to it (ES `SearchSourceBuilder#trackTotalHitsUpTo`)."""
    if value is True or value == "true":
        return TRACK_ALL
    if value is False or value == "false":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.") from None
    if number < -1:
        raise IllegalArgumentError(f"[track_total_hits] parameter must be positive or equals to -1, got {number}")
    return TRACK_ALL if number == -1 else number


def parse_search_body(body: Mapping[str, Any], text: str = "") -> dict[str, Any]:
    """Checks the top-level keys of a search body (ES `SearchSourceBuilder#parseXContent`).

    Raises:
        ParsingError: `Unknown key for a START_OBJECT in [x].` (or VALUE_* for a scalar), with its position.
    """
    for key, value in body.items():
        if key not in _KNOWN_KEYS:
            token = (
                "START_OBJECT"
                if isinstance(value, Mapping)
                else "START_ARRAY"
                if isinstance(value, list)
                else "VALUE_STRING"
                if isinstance(value, str)
                else "VALUE_NUMBER"
            )
            position = text.find(f'"{key}"')
            column = position + len(key) + 4 if position >= 0 else 1
            raise ParsingError(f"Unknown key for a {token} in [{key}].", 1, column)
    if "size" in body:
        _int(body["size"], "size")
    if "from" in body:
        _int(body["from"], "from")
    if "query" in body:
        compile_query(body["query"])  # a malformed query is the request's 400, before any shard is asked
    if "sort" in body:
        parse_sort(body["sort"])
    if "_source" in body:
        parse_source_filter(body["_source"])
    if "search_after" in body:
        after = body["search_after"]
        if not isinstance(after, list):
            raise ParsingError("[search_after] failed to parse field [search_after]")
        for value in after:  # ES `SearchAfterBuilder#fromXContent`: scalars only (a list would fail every shard)
            if isinstance(value, list | dict):
                raise ParsingError(
                    "Expected [VALUE_STRING] or [VALUE_NUMBER] or [VALUE_BOOLEAN] or [VALUE_NULL] but found "
                    f"[{json_token(value)}] inside search_after."
                )
        sorts = len(parse_sort(body.get("sort"))) or 1
        if len(after) != sorts:
            raise IllegalArgumentError(f"search_after has {len(after)} value(s) but sort has {sorts}.")
    for flag in ("version", "seq_no_primary_term", "track_scores"):
        if flag in body and not isinstance(body[flag], bool):
            raise ParsingError(f"[{flag}] failed to parse field [{flag}]")
    return dict(body)


def render_hits_total(total: int, track: int | None, as_int: bool) -> Any:
    """`{"value": N, "relation": "eq"}`, capped at the tracking limit as `gte`; the bare number with
    `rest_total_hits_as_int` (-1 when not tracked)."""
    if track is None:
        return -1 if as_int else None
    if total > track:
        return track if as_int else {"value": track, "relation": "gte"}
    return total if as_int else {"value": total, "relation": "eq"}


def check_keep_alive(keep_alive_millis: int) -> None:
    """ES `SearchService#checkKeepAliveLimit`, for a scroll's first round and every later one.

    Raises:
        IllegalArgumentError: `Keep alive for request (2d) is too large. It must be less than (1d). ...`.
    """
    if keep_alive_millis > MAX_KEEP_ALIVE_MILLIS:
        raise IllegalArgumentError(
            f"Keep alive for request ({format_duration_nanos(keep_alive_millis * 1_000_000)}) is too large. "
            f"It must be less than ({format_duration_nanos(MAX_KEEP_ALIVE_MILLIS * 1_000_000)}). "
            "This limit can be set by changing the [search.max_keep_alive] cluster level setting."
        )


def check_shard_search(offset: int, size: int, keep_alive_millis: int, slice_max: int) -> None:
    """What a shard checks before opening a search context, in ES's order (`SearchService#createContext`, then
    `DefaultSearchContext#preProcess`): the scroll keep-alive, the result window (the batch size of a scroll),
    and the number of slices of a sliced scroll. Each failure is that shard's failure, as in ES.

    Raises:
        IllegalArgumentError: ES's text for the first limit passed.
    """
    scroll = keep_alive_millis > 0
    check_keep_alive(keep_alive_millis)
    window = offset + size
    if window > MAX_RESULT_WINDOW:
        if not scroll:
            raise IllegalArgumentError(
                f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but "
                f"was [{window}]. See the scroll api for a more efficient way to request large data sets. This "
                "limit can be set by changing the [index.max_result_window] index level setting."
            )
        raise IllegalArgumentError(
            f"Batch size is too large, size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{window}]. "
            "Scroll batch sizes cost as much memory as result windows so they are controlled by the "
            "[index.max_result_window] index level setting."
        )
    if scroll and slice_max > MAX_SLICES_PER_SCROLL:
        raise IllegalArgumentError(
            f"The number of slices [{slice_max}] is too large. It must be less than [{MAX_SLICES_PER_SCROLL}]. "
            "This limit can be set by changing the [index.max_slices_per_scroll] index level setting."
        )


@dataclass(frozen=True, slots=True)
class ShardTarget:
    """One shard of a search and the node chosen to serve it (None: no active copy)."""

    index: str
    uuid: str
    shard: int
    node_id: str | None


def encode_scroll_id(contexts: Sequence[tuple[str, str, str, str, int]]) -> str:
    """A scroll id: the (node id, context id, index, uuid, shard) of every open shard context, base64 encoded."""
    raw = json.dumps([list(c) for c in contexts], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_scroll_id(scroll_id: str) -> list[tuple[str, str, str, str, int]]:
    """Raises `illegal_argument_exception` `Cannot parse scroll id` for anything else, as ES does."""
    try:
        raw = base64.urlsafe_b64decode(scroll_id + "=" * (-len(scroll_id) % 4))
        contexts = json.loads(raw)
        return [(str(c[0]), str(c[1]), str(c[2]), str(c[3]), int(c[4])) for c in contexts]
    except (ValueError, TypeError, IndexError, KeyError):
        raise IllegalArgumentError("Cannot parse scroll id") from None
