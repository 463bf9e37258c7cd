"""One shard's share of a search, as pure functions over its stored documents (mirrors ES `QueryPhase` on one
shard: match, count, sort, keep the top `from + size`; and `FetchPhase`'s rendering of a hit).

A shard's documents come in index order, which here is the order of their last modification (sequence number):
Lucene adds an updated document anew at the end, so ES's `_doc` order and its tie-break among equal scores are
that order too.

A slice of a sliced scroll (`slice: {id, max}`) holds a contiguous, near-equal share of the shard's `_id`s in id
order, counting the ids of deleted documents the copy still remembers (`slice_members`), so that a document's
slice does not change while the other slices of an update- or delete-by-query rewrite or delete theirs. ES slices
on a hash of `_id` (`TermsSliceQuery`); the shares differ, their union is the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.data.query_dsl import Document, Query, compile_query
from node.data.search_sort import (
    LONG_MAX,
    LONG_MIN,
    SCORE,
    SortClause,
    compare_keys,
    display_values,
    sort_key,
    sorted_by,
)
from node.data.source_filter import SourceFilter

__all__ = [
    "ShardHit",
    "ShardQuery",
    "StoredDocument",
    "hit_ref",
    "render_get_result",
    "render_hit",
    "run_query",
    "slice_members",
    "slice_range",
]


@dataclass(slots=True)
class StoredDocument:
    """A live document of a shard copy: its metadata and its `_source` as stored JSON text.

    `source()` parses the text once and keeps the result, so a copy's searcher (`LocalShards`) parses each document
    once however many searches read it; callers must not change the dict it returns.
    """

    id: str
    version: int
    seq_no: int
    primary_term: int
    routing: str | None
    source_text: str
    _parsed: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def source(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = json.loads(self.source_text)
        return self._parsed

    def to_json(self) -> list[Any]:
        return [self.id, self.version, self.seq_no, self.primary_term, self.routing, self.source_text]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> StoredDocument:
        return cls(str(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4], str(row[5]))


@dataclass(frozen=True, slots=True)
class ShardQuery:
    """What a shard evaluates: the query, the sort, how many top hits to keep (None: all, for a scroll) and the
    slice; `track_scores` keeps scores while sorting on fields."""

    query: Mapping[str, Any] | None = None
    sort: tuple[SortClause, ...] = ()
    window: int | None = 10
    slice: tuple[int, int] | None = None
    track_scores: bool = False
    search_after: tuple[Any, ...] | None = None  # the sort values of the last hit of the previous page

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "sort": [c.to_dict() for c in self.sort],
            "window": self.window,
            "slice": list(self.slice) if self.slice is not None else None,
            "track_scores": self.track_scores,
            "search_after": list(self.search_after) if self.search_after is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShardQuery:
        return cls(
            data.get("query"),
            tuple(SortClause.from_dict(c) for c in data.get("sort") or ()),
            data.get("window"),
            (int(data["slice"][0]), int(data["slice"][1])) if data.get("slice") else None,
            bool(data.get("track_scores", False)),
            tuple(data["search_after"]) if data.get("search_after") is not None else None,
        )

    @property
    def sorts_on_fields(self) -> bool:
        return any(c.field != SCORE for c in self.sort)

    def scores(self) -> bool:
        """ES computes scores unless the sort is on fields only (then `_score` is null) and scores are not tracked."""
        return not self.sort or any(c.field == SCORE for c in self.sort) or self.track_scores


@dataclass(frozen=True, slots=True)
class ShardHit:
    """A matching document with its score, its sort key and the `sort` values ES shows (None: unsorted)."""

    doc: StoredDocument
    score: float | None
    key: list[list[Any]] = field(default_factory=list)
    sort_values: list[Any] | None = None


def slice_range(count: int, slice_id: int, slice_max: int) -> tuple[int, int]:
    """The `[start, end)` of `count` ordered items that slice `slice_id` of `slice_max` holds."""
    base, extra = divmod(count, slice_max)
    start = slice_id * base + min(slice_id, extra)
    return start, start + base + (1 if slice_id < extra else 0)


def slice_members(ids_in_order: Sequence[str], slice_: tuple[int, int]) -> frozenset[str]:
    """The ids of slice `slice_` (id, max): a contiguous share of the shard's ids, in id order."""
    start, end = slice_range(len(ids_in_order), *slice_)
    return frozenset(ids_in_order[start:end])


def run_query(
    request: ShardQuery, docs: Iterable[StoredDocument], members: frozenset[str] | None = None
) -> tuple[int, list[ShardHit]]:
    """The number of matching documents of the shard and its top hits (all of them when `window` is None).

    Without a sort, hits come by score, then index order; a field sort orders by the field values (see
    `node.data.search_sort`), then index order. A sliced request reads only the documents of `members`.

    Raises:
        ParsingError: a malformed query.
    """
    query: Query = compile_query(request.query)
    scores = request.scores()
    score = query.score() if scores else None
    matched: list[tuple[int, StoredDocument, Mapping[str, Any] | None]] = []
    for position, doc in enumerate(docs):
        if members is not None and doc.id not in members:
            continue
        if query.match_all and not request.sorts_on_fields:
            matched.append((position, doc, None))
            continue
        source = doc.source()
        if query.match_all or query.matches(Document(doc.id, source)):
            matched.append((position, doc, source))
    total = len(matched)
    if not request.sort:
        if request.search_after is not None and not _before_score(request.search_after, query.score()):
            return total, []  # ES sorts by score then: every hit scores the same, so none comes after
        window = matched if request.window is None else matched[: request.window]
        return total, [ShardHit(doc, score) for _, doc, _ in window]
    keyed: list[tuple[list[list[Any]], StoredDocument]] = [
        (sort_key(request.sort, source if source is not None else doc.source(), query.score(), position), doc)
        for position, doc, source in matched
    ]
    keyed = sorted_by(request.sort, keyed, key=lambda entry: entry[0])
    if request.search_after is not None:
        compare = compare_keys(request.sort)
        after = after_key(request.sort, request.search_after)
        keyed = [entry for entry in keyed if compare(entry[0], after) > 0]
    window_keys = keyed if request.window is None else keyed[: request.window]
    numeric = [_numeric(i, clause, [key for key, _ in keyed]) for i, clause in enumerate(request.sort)]
    return total, [ShardHit(doc, score, key, display_values(request.sort, key, numeric)) for key, doc in window_keys]


def after_key(clauses: Sequence[SortClause], values: Sequence[Any]) -> list[list[Any]]:
    """The sort key of `search_after` values: `Long.MAX_VALUE`/`MIN_VALUE` or null stand for a missing value."""
    key: list[list[Any]] = []
    for clause, value in zip(clauses, values, strict=True):
        if value is None or value in (LONG_MAX, LONG_MIN):
            key.append([-1 if clause.missing_first else 1, None])
        else:
            key.append([0, value])
    return key


def _before_score(search_after: Sequence[Any], score: float) -> bool:
    """Whether hits of `score` come after `search_after` in the default sort (score descending)."""
    after = search_after[0] if search_after else None
    return isinstance(after, int | float) and score < after


def _numeric(position: int, clause: SortClause, keys: Sequence[list[list[Any]]]) -> bool:
    """Whether a clause sorts a numeric field (what its missing value shows as): the first value it has decides."""
    if clause.field in (SCORE, "_doc"):
        return True
    for key in keys:
        rank, value = key[position]
        if rank == 0:
            return isinstance(value, int | float)
    return False


def render_hit(
    index: str,
    hit: ShardHit,
    source_filter: SourceFilter,
    *,
    version: bool = False,
    seq_no_primary_term: bool = False,
) -> dict[str, Any]:
    """A fetched hit in ES `SearchHit#toXContent` order: `_index`, `_id`, `_version`, `_seq_no`, `_primary_term`,
    `_score` (null while sorting on fields), `_routing`, `_source`, `sort`."""
    doc = hit.doc
    out: dict[str, Any] = {"_index": index, "_id": doc.id}
    if version:
        out["_version"] = doc.version
    if seq_no_primary_term:
        out["_seq_no"] = doc.seq_no
        out["_primary_term"] = doc.primary_term
    out["_score"] = hit.score
    if doc.routing is not None:
        out["_routing"] = doc.routing
    if source_filter.fetch:
        out["_source"] = source_filter.apply(doc.source())
    if hit.sort_values is not None:
        out["sort"] = hit.sort_values
    return out


def hit_ref(hit: ShardHit) -> list[Any]:
    """What a query phase tells the coordinating node of a hit: its id, sort key and score."""
    return [hit.doc.id, hit.key, hit.score]


def render_get_result(
    index: str, doc_id: str, doc: StoredDocument | None, source_filter: SourceFilter
) -> dict[str, Any]:
    """ES `GetResult#toXContent`: `_index`, `_id`, then for a found document `_version`, `_seq_no`,
    `_primary_term`, `_routing`, `found` and `_source`; for a missing one `found: false`."""
    body: dict[str, Any] = {"_index": index, "_id": doc_id}
    if doc is None:
        body["found"] = False
        return body
    body.update({"_version": doc.version, "_seq_no": doc.seq_no, "_primary_term": doc.primary_term})
    if doc.routing is not None:
        body["_routing"] = doc.routing
    body["found"] = True
    if source_filter.fetch:
        body["_source"] = source_filter.apply(doc.source())
    return body
