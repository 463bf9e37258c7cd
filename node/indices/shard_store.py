"""The documents of the shard copies a node holds, in its sqlite file (the simulator's Lucene and translog).

Every copy keeps its documents in `shard_documents`: `_id`, `_version`, `_seq_no`, `_primary_term`, `_routing`
and `_source` (compact JSON). A deleted document stays as a *tombstone* (no source) for ES's `index.gc_deletes`
(60 s): indexing it again continues its versions, and a compare-and-set against it fails as in ES. `shard_copies`
holds each copy's document count and highest sequence number.

Every operation is one function run in the store's single writer thread (`NodeStore.execute`), so each is atomic
with respect to the others on that node: a primary checks versions, assigns sequence numbers and applies an
operation in one step, and a recovery page sees every operation up to the moment it is read.

Operations, as the coordinating node sends them to the primary:

| op | fields | results |
| --- | --- | --- |
| `index`, `create` | `id`, `source`, `routing`, concurrency (`version`, `version_type`, `if_seq_no`, `if_primary_term`) | `created` / `updated`, or a version conflict |
| `delete` | `id`, `routing`, concurrency | `deleted` / `not_found`, or a version conflict |
| `update` | `id`, `routing`, `update` (`node.data.update_request.UpdateSpec`), `if_seq_no`, `if_primary_term`, `return_source` | `created` / `updated` / `deleted` / `noop`, or `document_missing_exception` |

A result is `{"result", "version", "seq_no", "primary_term"}` (an update's also `source` when asked for) or
`{"error": <the error on the wire>}`; a failed operation takes no sequence number. The primary turns each applied
operation into an *effect*, which is what replicas apply (`apply_effects`): `["put", id, version, seq_no, term,
routing, source]` or `["del", id, version, seq_no, term]`. A replica keeps a document's later change when an
effect arrives after it (its sequence number is compared).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from node.data.doc_versioning import CurrentVersion, WriteConditions, plan_write
from node.data.errors import DocumentMissingError, VersionConflictEngineError
from node.data.shard_query import ShardHit, ShardQuery, StoredDocument, run_query, slice_members
from node.data.update_request import UpdateSpec, plan_update
from node.errors import ElasticsearchError

__all__ = [
    "GC_DELETES_MILLIS",
    "PrimaryOutcome",
    "RecoveryPage",
    "SearchOutcome",
    "ShardDocs",
    "ShardKey",
    "apply_effects",
    "apply_on_primary",
]

ShardKey = tuple[str, int]  # (index uuid, shard id)
GC_DELETES_MILLIS = 60_000  # ES `index.gc_deletes`

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS shard_copies ("
        " index_uuid TEXT NOT NULL, shard INTEGER NOT NULL,"
        " docs INTEGER NOT NULL DEFAULT 0, max_seq_no INTEGER NOT NULL DEFAULT -1,"
        " PRIMARY KEY (index_uuid, shard))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS shard_documents ("
        " index_uuid TEXT NOT NULL, shard INTEGER NOT NULL, doc_id TEXT NOT NULL,"
        " version INTEGER NOT NULL, seq_no INTEGER NOT NULL, primary_term INTEGER NOT NULL,"
        " routing TEXT, source TEXT, deleted_at INTEGER,"
        " PRIMARY KEY (index_uuid, shard, doc_id))"
    ),
    "CREATE INDEX IF NOT EXISTS shard_documents_by_seq_no ON shard_documents (index_uuid, shard, seq_no)",
)
_COLUMNS = "doc_id, version, seq_no, primary_term, routing, source, deleted_at"


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Creates the tables if needed. Run by every operation: sqlite answers `IF NOT EXISTS` in microseconds, and a
    connection cannot be remembered safely (no weak references; `id()`s are reused by later connections)."""
    for statement in _SCHEMA:
        conn.execute(statement)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One explicit transaction (the connection is in autocommit mode): a crash never leaves half an operation."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _now_millis() -> int:
    return time.time_ns() // 1_000_000


def _text(source: Any) -> str:
    return json.dumps(source, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class ShardDocs:
    """One copy's counters: live documents and the highest sequence number applied."""

    count: int = 0
    max_seq_no: int = -1


@dataclass(frozen=True, slots=True)
class _Row:
    """A document row: live, or a tombstone (`source` None)."""

    id: str
    version: int
    seq_no: int
    primary_term: int
    routing: str | None
    source: str | None
    deleted_at: int | None

    @property
    def live(self) -> bool:
        return self.source is not None

    def current(self, now: int) -> CurrentVersion | None:
        """What the engine's version map knows: the document, its tombstone within `gc_deletes`, or nothing."""
        if self.source is None and (self.deleted_at is None or now - self.deleted_at > GC_DELETES_MILLIS):
            return None
        return CurrentVersion(self.version, self.seq_no, self.primary_term, deleted=self.source is None)

    def stored(self) -> StoredDocument:
        assert self.source is not None
        return StoredDocument(self.id, self.version, self.seq_no, self.primary_term, self.routing, self.source)

    def to_json(self) -> list[Any]:
        return [self.id, self.version, self.seq_no, self.primary_term, self.routing, self.source, self.deleted_at]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> _Row:
        return cls(str(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4], row[5], row[6])


@dataclass(slots=True)
class PrimaryOutcome:
    """Per operation: the result dict (or an error); and the effects for the replicas."""

    results: list[dict[str, Any]] = field(default_factory=list)
    effects: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecoveryPage:
    """One page of a primary's documents for a recovering copy (ES phase 1 of peer recovery, a chunk at a time):
    rows in `_id` order after `after`, tombstones included, and the primary's `max_seq_no` when the page was read."""

    max_seq_no: int
    rows: Sequence[Sequence[Any]]
    done: bool

    @property
    def last_id(self) -> str | None:
        return str(self.rows[-1][0]) if self.rows else None

    def to_json(self) -> dict[str, Any]:
        return {"max_seq_no": self.max_seq_no, "rows": [list(r) for r in self.rows], "done": self.done}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecoveryPage:
        return cls(int(data["max_seq_no"]), data["rows"], bool(data["done"]))


# ---- rows (run in the store's thread) -----------------------------------------------------------------------------


def _copy(conn: sqlite3.Connection, key: ShardKey) -> ShardDocs | None:
    row = conn.execute("SELECT docs, max_seq_no FROM shard_copies WHERE index_uuid = ? AND shard = ?", key).fetchone()
    return ShardDocs(*row) if row else None


def _save(conn: sqlite3.Connection, key: ShardKey, docs: ShardDocs) -> None:
    conn.execute(
        "INSERT INTO shard_copies (index_uuid, shard, docs, max_seq_no) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(index_uuid, shard) DO UPDATE SET docs = excluded.docs, max_seq_no = excluded.max_seq_no",
        (*key, docs.count, docs.max_seq_no),
    )


def _version(conn: sqlite3.Connection, key: ShardKey, doc_id: str, now: int) -> CurrentVersion | None:
    """What the version map knows of `doc_id`, without reading its source (`_Row#current`)."""
    row = conn.execute(
        "SELECT version, seq_no, primary_term, source IS NULL, deleted_at FROM shard_documents "
        "WHERE index_uuid = ? AND shard = ? AND doc_id = ?",
        (*key, doc_id),
    ).fetchone()
    if row is None:
        return None
    version, seq_no, term, deleted, deleted_at = row
    if deleted and (deleted_at is None or now - deleted_at > GC_DELETES_MILLIS):
        return None
    return CurrentVersion(version, seq_no, term, deleted=bool(deleted))


def _row(conn: sqlite3.Connection, key: ShardKey, doc_id: str) -> _Row | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM shard_documents WHERE index_uuid = ? AND shard = ? AND doc_id = ?", (*key, doc_id)
    ).fetchone()
    return _Row(*row) if row else None


def _write_row(conn: sqlite3.Connection, key: ShardKey, row: _Row) -> None:
    conn.execute(
        f"INSERT INTO shard_documents (index_uuid, shard, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(index_uuid, shard, doc_id) DO UPDATE SET version = excluded.version, seq_no = excluded.seq_no, "
        "primary_term = excluded.primary_term, routing = excluded.routing, source = excluded.source, "
        "deleted_at = excluded.deleted_at",
        (*key, row.id, row.version, row.seq_no, row.primary_term, row.routing, row.source, row.deleted_at),
    )


def create_shard(key: ShardKey, conn: sqlite3.Connection) -> bool:
    """Creates an empty copy unless one exists; returns whether the copy already had data (an existing store)."""
    ensure_schema(conn)
    if _copy(conn, key) is not None:
        return True
    _save(conn, key, ShardDocs())
    return False


def has_shard(key: ShardKey, conn: sqlite3.Connection) -> bool:
    ensure_schema(conn)
    return _copy(conn, key) is not None


def delete_indices(keep_uuids: set[str], conn: sqlite3.Connection) -> list[str]:
    """Deletes the copies of every index whose uuid is not in `keep_uuids`; returns the deleted uuids."""
    ensure_schema(conn)
    uuids = [row[0] for row in conn.execute("SELECT DISTINCT index_uuid FROM shard_copies")]
    gone = [u for u in uuids if u not in keep_uuids]
    for uuid in gone:
        with _transaction(conn):
            conn.execute("DELETE FROM shard_copies WHERE index_uuid = ?", (uuid,))
            conn.execute("DELETE FROM shard_documents WHERE index_uuid = ?", (uuid,))
    return gone


def doc_counts(keys: Iterable[ShardKey], conn: sqlite3.Connection) -> dict[ShardKey, ShardDocs]:
    ensure_schema(conn)
    out = {}
    for key in keys:
        docs = _copy(conn, key)
        if docs is not None:
            out[key] = docs
    return out


# ---- the primary ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Primary:
    """One batch on a primary: where it writes, its term, and what it produced."""

    conn: sqlite3.Connection
    key: ShardKey
    index: str
    term: int
    now: int
    docs: ShardDocs
    outcome: PrimaryOutcome = field(default_factory=PrimaryOutcome)

    def fail(self, error: ElasticsearchError) -> None:
        self.outcome.results.append({"error": error.to_wire()})

    def conflict(self, reason: str) -> None:
        self.fail(VersionConflictEngineError(self.index, self.key[0], self.key[1], reason))

    def next_seq_no(self) -> int:
        self.docs.max_seq_no += 1
        return self.docs.max_seq_no

    def put(self, doc_id: str, version: int, routing: str | None, source: Any, found: bool) -> int:
        seq = self.next_seq_no()
        text = source if isinstance(source, str) else _text(source)
        _write_row(self.conn, self.key, _Row(doc_id, version, seq, self.term, routing, text, None))
        if not found:
            self.docs.count += 1
        self.outcome.effects.append(["put", doc_id, version, seq, self.term, routing, text])
        return seq

    def delete(self, doc_id: str, version: int, routing: str | None, found: bool) -> int:
        seq = self.next_seq_no()
        _write_row(self.conn, self.key, _Row(doc_id, version, seq, self.term, routing, None, self.now))
        if found:
            self.docs.count -= 1
        self.outcome.effects.append(["del", doc_id, version, seq, self.term])
        return seq

    def answer(
        self, result: str, version: int, seq_no: int, term: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> None:
        self.outcome.results.append(
            {"result": result, "version": version, "seq_no": seq_no,
             "primary_term": self.term if term is None else term, **(extra or {})}
        )  # fmt: skip


def _index_or_delete(primary: _Primary, op: Mapping[str, Any]) -> None:
    kind, doc_id = op["op"], op["id"]
    conditions = WriteConditions.from_json(op)
    if kind == "create":
        conditions = conditions.for_create()
    plan = plan_write(doc_id, conditions, _version(primary.conn, primary.key, doc_id, primary.now))
    if plan.conflict is not None:
        primary.conflict(plan.conflict)
        return
    routing = op.get("routing")
    if kind == "delete":
        seq = primary.delete(doc_id, plan.version, routing, plan.found)
        primary.answer("deleted" if plan.found else "not_found", plan.version, seq)
        return
    seq = primary.put(doc_id, plan.version, routing, op["source"], plan.found)
    primary.answer("updated" if plan.found else "created", plan.version, seq)


def _update(primary: _Primary, op: Mapping[str, Any]) -> None:
    """ES `UpdateHelper#prepare` on the primary, then the write it comes to, conditioned on what it read."""
    doc_id = op["id"]
    row = _row(primary.conn, primary.key, doc_id)
    live = row if row is not None and row.live else None
    conditions = WriteConditions.from_json(op)
    if not conditions.is_default:  # ES `ShardGetService#getForUpdate` checks the compare-and-set first
        plan = plan_write(doc_id, conditions, row.current(primary.now) if row is not None else None)
        if plan.conflict is not None:
            primary.conflict(plan.conflict)
            return
    spec = UpdateSpec.from_json(op["update"])
    routing = op.get("routing") if op.get("routing") is not None else (live.routing if live is not None else None)
    try:
        planned = plan_update(
            spec, primary.index, doc_id, live.stored().source() if live is not None else None,
            live.version if live is not None else -1, routing,
        )  # fmt: skip
    except ElasticsearchError as e:
        primary.fail(e)
        return
    extra = {"source": planned.source} if op.get("return_source") and planned.source is not None else {}
    if planned.kind == "missing":
        primary.fail(DocumentMissingError(primary.index, primary.key[0], primary.key[1], doc_id))
    elif planned.kind == "noop":
        if live is None:  # a scripted upsert that chose not to create: ES answers with the missing document
            primary.answer("noop", -1, -2, 0, extra=extra)
        else:
            primary.answer("noop", live.version, live.seq_no, live.primary_term, extra=extra)
    elif planned.kind == "create":
        version = row.version + 1 if row is not None and row.current(primary.now) is not None else 1
        seq = primary.put(doc_id, version, routing, planned.source, False)
        primary.answer("created", version, seq, extra=extra)
    elif planned.kind == "delete":
        assert live is not None
        seq = primary.delete(doc_id, live.version + 1, routing, True)
        primary.answer("deleted", live.version + 1, seq)
    else:
        assert live is not None
        seq = primary.put(doc_id, live.version + 1, routing, planned.source, True)
        primary.answer("updated", live.version + 1, seq, extra=extra)


def apply_on_primary(
    key: ShardKey,
    index: str,
    operations: Sequence[Mapping[str, Any]],
    primary_term: int,
    conn: sqlite3.Connection,
    now_millis: int | None = None,
) -> PrimaryOutcome:
    """Applies `operations` in order under `primary_term`, assigning sequence numbers; a failed operation gets none
    and changes nothing."""
    ensure_schema(conn)
    with _transaction(conn):
        primary = _Primary(conn, key, index, primary_term, now_millis or _now_millis(), _copy(conn, key) or ShardDocs())
        for op in operations:
            if op["op"] == "update":
                _update(primary, op)
            else:
                _index_or_delete(primary, op)
        _save(conn, key, primary.docs)
    return primary.outcome


def apply_effects(key: ShardKey, effects: Sequence[Sequence[Any]], conn: sqlite3.Connection) -> None:
    """Applies a primary's effects on a replica; a document changed by a later operation keeps that change."""
    ensure_schema(conn)
    now = _now_millis()
    with _transaction(conn):
        docs = _copy(conn, key) or ShardDocs()
        for effect in effects:
            kind, doc_id, version, seq, term = effect[0], str(effect[1]), int(effect[2]), int(effect[3]), int(effect[4])
            docs.max_seq_no = max(docs.max_seq_no, seq)
            existing = conn.execute(
                "SELECT seq_no, source IS NOT NULL, routing FROM shard_documents "
                "WHERE index_uuid = ? AND shard = ? AND doc_id = ?",
                (*key, doc_id),
            ).fetchone()
            if existing is not None and existing[0] >= seq:
                continue
            was_live = existing is not None and bool(existing[1])
            if kind == "put":
                _write_row(conn, key, _Row(doc_id, version, seq, term, effect[5], effect[6], None))
                docs.count += 0 if was_live else 1
            else:
                routing = existing[2] if existing is not None else None
                _write_row(conn, key, _Row(doc_id, version, seq, term, routing, None, now))
                docs.count -= 1 if was_live else 0
        _save(conn, key, docs)


# ---- reads ------------------------------------------------------------------------------------------------------


def get_document(key: ShardKey, doc_id: str, conn: sqlite3.Connection) -> StoredDocument | None:
    """The live document `doc_id`, or None."""
    ensure_schema(conn)
    row = _row(conn, key, doc_id)
    return row.stored() if row is not None and row.live else None


def get_documents(key: ShardKey, doc_ids: Sequence[str], conn: sqlite3.Connection) -> dict[str, StoredDocument]:
    ensure_schema(conn)
    out = {}
    for doc_id in doc_ids:
        row = _row(conn, key, doc_id)
        if row is not None and row.live:
            out[doc_id] = row.stored()
    return out


def _live_documents(conn: sqlite3.Connection, key: ShardKey, limit: int | None = None) -> list[StoredDocument]:
    """The live documents of a copy in index order (their last modification's sequence number)."""
    sql = (
        "SELECT doc_id, version, seq_no, primary_term, routing, source FROM shard_documents "
        "WHERE index_uuid = ? AND shard = ? AND source IS NOT NULL ORDER BY seq_no"
    )
    rows = conn.execute(sql + " LIMIT ?", (*key, limit)) if limit is not None else conn.execute(sql, key)
    return [StoredDocument(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """A query phase's total and top hits, and the copy's live documents when it read them all (for reuse)."""

    total: int
    hits: list[ShardHit]
    documents: list[StoredDocument] | None = None


def search(
    key: ShardKey, request: ShardQuery, conn: sqlite3.Connection, documents: list[StoredDocument] | None = None
) -> SearchOutcome:
    """ES's query phase on this copy: the total of matching documents and the top hits (`node.data.shard_query`).

    `documents` are the copy's live documents when the caller still holds them from an earlier search (ES reuses
    its searcher until the next refresh). Without them, a `match_all` in index order reads only the top of the
    copy, and no source, when it needs no more; anything else reads every live document.
    """
    ensure_schema(conn)
    plain = request.query in (None, {"match_all": {}}) and not request.sort and request.slice is None
    if plain and request.window is not None and documents is None:
        docs = _copy(conn, key) or ShardDocs()
        _, hits = run_query(request, _live_documents(conn, key, request.window))
        return SearchOutcome(docs.count, hits)
    members = None
    if request.slice is not None:
        ids = [row[0] for row in conn.execute(
            "SELECT doc_id FROM shard_documents WHERE index_uuid = ? AND shard = ? ORDER BY doc_id", key
        )]  # fmt: skip
        members = slice_members(ids, request.slice)
    live = documents if documents is not None else _live_documents(conn, key)
    total, hits = run_query(request, live, members)
    return SearchOutcome(total, hits, live)


# ---- recovery -----------------------------------------------------------------------------------------------


def recovery_page(key: ShardKey, after: str | None, limit: int, conn: sqlite3.Connection) -> RecoveryPage:
    """Up to `limit` rows of the copy in `_id` order after `after`, tombstones included (they carry versions)."""
    ensure_schema(conn)
    docs = _copy(conn, key) or ShardDocs()
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM shard_documents WHERE index_uuid = ? AND shard = ? AND doc_id > ? "
        "ORDER BY doc_id LIMIT ?",
        (*key, after if after is not None else "", limit),
    ).fetchall()
    return RecoveryPage(docs.max_seq_no, [list(r) for r in rows], done=len(rows) < limit)


def install_page(key: ShardKey, page: RecoveryPage, first: bool, conn: sqlite3.Connection) -> None:
    """Writes a recovery page into this copy (the first page empties the copy before)."""
    ensure_schema(conn)
    with _transaction(conn):
        if first:
            conn.execute("DELETE FROM shard_documents WHERE index_uuid = ? AND shard = ?", key)
        for raw in page.rows:
            _write_row(conn, key, _Row.from_json(raw))


def finish_install(key: ShardKey, max_seq_no: int, conn: sqlite3.Connection) -> ShardDocs:
    """Counts the recovered copy's documents and records the primary's `max_seq_no` it recovered up to."""
    ensure_schema(conn)
    count, highest = conn.execute(
        "SELECT COUNT(source), MAX(seq_no) FROM shard_documents WHERE index_uuid = ? AND shard = ?", key
    ).fetchone()
    docs = ShardDocs(int(count), max(max_seq_no, highest if highest is not None else -1))
    _save(conn, key, docs)
    return docs
