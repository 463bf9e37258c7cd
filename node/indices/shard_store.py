"""The documents of the shard copies a node holds, in its sqlite file (the simulator's Lucene and translog).

Documents are counted, not stored. A shard copy is one `shard_docs` row: how many documents it holds without an
id worth tracking (`untracked`: the documents a reindex writes), how many it tracks by id, and the highest sequence
number applied. Documents written through the document and bulk APIs are tracked by `_id` in `shard_ids` with their
version, so indexing an id twice updates it (`result: updated`, `_version: 2`) and a retried write does not count
twice. No `_source` is kept.

Every operation is one function run in the store's single writer thread (`NodeStore.execute`), so each is atomic
with respect to the others on that node: a primary assigns sequence numbers and applies an operation in one step,
a recovery snapshot sees every operation up to its `max_seq_no` and none after.

Operations are dicts:

| op | fields | primary result |
| --- | --- | --- |
| `index`, `create` | `id` | `created` / `updated` (`create` on an existing id: version conflict) |
| `delete` | `id` | `deleted` / `not_found` |
| `update` | `id`, `upsert` | `updated` / `created` with an upsert / document missing |
| `bulk_create`, `bulk_update`, `bulk_delete` | `count` | untracked documents created, updated or deleted (a reindex) |

The primary turns each applied operation into an *effect* with its sequence number, which is what replicas apply
(`apply_effects`): `["put", id, version, seq]`, `["del", id, seq]`, `["add", count, seq]`,
`["remove", count, ids, seq]`.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ShardDocs", "ShardKey", "Snapshot", "apply_effects", "apply_on_primary", "synthetic_id"]

ShardKey = tuple[str, int]  # (index uuid, shard id)

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS shard_docs ("
        " index_uuid TEXT NOT NULL, shard INTEGER NOT NULL,"
        " untracked INTEGER NOT NULL DEFAULT 0, tracked INTEGER NOT NULL DEFAULT 0, max_seq_no INTEGER NOT NULL DEFAULT -1,"
        " PRIMARY KEY (index_uuid, shard))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS shard_ids ("
        " index_uuid TEXT NOT NULL, shard INTEGER NOT NULL, doc_id TEXT NOT NULL,"
        " version INTEGER NOT NULL, seq_no INTEGER NOT NULL,"
        " PRIMARY KEY (index_uuid, shard, doc_id))"
    ),
)


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


@dataclass(slots=True)
class ShardDocs:
    """One copy's counters."""

    untracked: int = 0
    tracked: int = 0
    max_seq_no: int = -1

    @property
    def count(self) -> int:
        return self.untracked + self.tracked


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a recovering replica copies from its primary (ES phase 1 of peer recovery, file by file here)."""

    untracked: int
    max_seq_no: int
    ids: Sequence[tuple[str, int, int]]  # (id, version, seq_no)

    @property
    def count(self) -> int:
        return self.untracked + len(self.ids)

    def to_json(self) -> dict[str, Any]:
        return {"untracked": self.untracked, "max_seq_no": self.max_seq_no, "ids": [list(i) for i in self.ids]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(int(data["untracked"]), int(data["max_seq_no"]), [(i[0], int(i[1]), int(i[2])) for i in data["ids"]])


@dataclass(slots=True)
class PrimaryOutcome:
    """Per operation: the result dict (or an error description); and the effects for the replicas."""

    results: list[dict[str, Any]] = field(default_factory=list)
    effects: list[list[Any]] = field(default_factory=list)


def synthetic_id(uuid: str, shard: int, ordinal: int) -> str:
    """A stable id for the `ordinal`-th untracked document of a shard, so search hits have ids."""
    digest = hashlib.sha1(f"{uuid}/{shard}/{ordinal}".encode()).digest()[:15]
    return base64.urlsafe_b64encode(digest).decode("ascii")


# ---- functions run in the store's thread ----------------------------------------------------------------------


def _docs(conn: sqlite3.Connection, key: ShardKey) -> ShardDocs | None:
    row = conn.execute(
        "SELECT untracked, tracked, max_seq_no FROM shard_docs WHERE index_uuid = ? AND shard = ?", key
    ).fetchone()
    return ShardDocs(*row) if row else None


def _save(conn: sqlite3.Connection, key: ShardKey, docs: ShardDocs) -> None:
    conn.execute(
        "INSERT INTO shard_docs (index_uuid, shard, untracked, tracked, max_seq_no) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(index_uuid, shard) DO UPDATE SET untracked = excluded.untracked, tracked = excluded.tracked, "
        "max_seq_no = excluded.max_seq_no",
        (*key, docs.untracked, docs.tracked, docs.max_seq_no),
    )


def create_shard(key: ShardKey, conn: sqlite3.Connection) -> bool:
    """Creates an empty copy unless one exists; returns whether the copy already had data (an existing store)."""
    ensure_schema(conn)
    if _docs(conn, key) is not None:
        return True
    _save(conn, key, ShardDocs())
    return False


def has_shard(key: ShardKey, conn: sqlite3.Connection) -> bool:
    ensure_schema(conn)
    return _docs(conn, key) is not None


def delete_indices(keep_uuids: set[str], conn: sqlite3.Connection) -> list[str]:
    """Deletes the copies of every index whose uuid is not in `keep_uuids`; returns the deleted uuids."""
    ensure_schema(conn)
    uuids = [row[0] for row in conn.execute("SELECT DISTINCT index_uuid FROM shard_docs")]
    gone = [u for u in uuids if u not in keep_uuids]
    for uuid in gone:
        with _transaction(conn):
            conn.execute("DELETE FROM shard_docs WHERE index_uuid = ?", (uuid,))
            conn.execute("DELETE FROM shard_ids WHERE index_uuid = ?", (uuid,))
    return gone


def doc_counts(keys: Iterable[ShardKey], conn: sqlite3.Connection) -> dict[ShardKey, ShardDocs]:
    ensure_schema(conn)
    out = {}
    for key in keys:
        docs = _docs(conn, key)
        if docs is not None:
            out[key] = docs
    return out


def _version_of(conn: sqlite3.Connection, key: ShardKey, doc_id: str) -> tuple[int, int] | None:
    row = conn.execute(
        "SELECT version, seq_no FROM shard_ids WHERE index_uuid = ? AND shard = ? AND doc_id = ?", (*key, doc_id)
    ).fetchone()
    return (row[0], row[1]) if row else None


def _put(conn: sqlite3.Connection, key: ShardKey, doc_id: str, version: int, seq_no: int) -> None:
    conn.execute(
        "INSERT INTO shard_ids (index_uuid, shard, doc_id, version, seq_no) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(index_uuid, shard, doc_id) DO UPDATE SET version = excluded.version, seq_no = excluded.seq_no",
        (*key, doc_id, version, seq_no),
    )


def _tracked_ids(conn: sqlite3.Connection, key: ShardKey, limit: int, offset: int = 0) -> list[str]:
    rows = conn.execute(
        "SELECT doc_id FROM shard_ids WHERE index_uuid = ? AND shard = ? ORDER BY doc_id LIMIT ? OFFSET ?",
        (*key, limit, offset),
    )
    return [row[0] for row in rows]


def apply_on_primary(
    key: ShardKey, operations: Sequence[Mapping[str, Any]], conn: sqlite3.Connection
) -> PrimaryOutcome:
    """Applies `operations` in order, assigning sequence numbers; an operation that fails gets none.

    A failed operation's result is `{"error": "<kind>", ...}`: `version_conflict` (with `current_version`) or
    `document_missing`. Results of applied operations carry `result`, `version` and `seq_no`.
    """
    ensure_schema(conn)
    outcome = PrimaryOutcome()
    with _transaction(conn):
        docs = _docs(conn, key) or ShardDocs()
        for op in operations:
            kind = op["op"]
            if kind in ("index", "create", "update", "delete"):
                doc_id = op["id"]
                existing = _version_of(conn, key, doc_id)
                if kind == "create" and existing is not None:
                    outcome.results.append({"error": "version_conflict", "current_version": existing[0]})
                    continue
                if kind == "update" and existing is None and not op.get("upsert"):
                    outcome.results.append({"error": "document_missing"})
                    continue
                docs.max_seq_no += 1
                seq = docs.max_seq_no
                if kind == "delete":
                    if existing is None:
                        outcome.results.append({"result": "not_found", "version": 1, "seq_no": seq})
                        outcome.effects.append(["noop", seq])
                        continue
                    conn.execute(
                        "DELETE FROM shard_ids WHERE index_uuid = ? AND shard = ? AND doc_id = ?", (*key, doc_id)
                    )
                    docs.tracked -= 1
                    outcome.results.append({"result": "deleted", "version": existing[0] + 1, "seq_no": seq})
                    outcome.effects.append(["del", doc_id, seq])
                    continue
                version = 1 if existing is None else existing[0] + 1
                _put(conn, key, doc_id, version, seq)
                if existing is None:
                    docs.tracked += 1
                outcome.results.append(
                    {"result": "created" if existing is None else "updated", "version": version, "seq_no": seq}
                )
                outcome.effects.append(["put", doc_id, version, seq])
            else:
                count = int(op["count"])
                docs.max_seq_no += 1
                seq = docs.max_seq_no
                if kind == "bulk_create":
                    docs.untracked += count
                    outcome.results.append({"result": "created", "count": count, "seq_no": seq})
                    outcome.effects.append(["add", count, seq])
                elif kind == "bulk_update":
                    outcome.results.append({"result": "updated", "count": min(count, docs.untracked), "seq_no": seq})
                    outcome.effects.append(["noop", seq])
                else:  # bulk_delete: untracked documents only (tracked ones are deleted by id)
                    removed = min(count, docs.untracked)
                    docs.untracked -= removed
                    outcome.results.append({"result": "deleted", "count": removed, "seq_no": seq})
                    outcome.effects.append(["remove", removed, [], seq])
        _save(conn, key, docs)
    return outcome


def apply_effects(key: ShardKey, effects: Sequence[Sequence[Any]], conn: sqlite3.Connection) -> None:
    """Applies a primary's effects on a replica; a document changed by a later operation keeps that change."""
    ensure_schema(conn)
    with _transaction(conn):
        docs = _docs(conn, key) or ShardDocs()
        for effect in effects:
            kind, seq = effect[0], int(effect[-1])
            docs.max_seq_no = max(docs.max_seq_no, seq)
            if kind == "put":
                _, doc_id, version, _ = effect
                existing = _version_of(conn, key, doc_id)
                if existing is None:
                    docs.tracked += 1
                if existing is None or existing[1] < seq:
                    _put(conn, key, doc_id, int(version), seq)
            elif kind == "del":
                existing = _version_of(conn, key, effect[1])
                if existing is not None and existing[1] < seq:
                    conn.execute(
                        "DELETE FROM shard_ids WHERE index_uuid = ? AND shard = ? AND doc_id = ?", (*key, effect[1])
                    )
                    docs.tracked -= 1
            elif kind == "add":
                docs.untracked += int(effect[1])
            elif kind == "remove":
                docs.untracked = max(0, docs.untracked - int(effect[1]))
                for doc_id in effect[2]:
                    if _version_of(conn, key, doc_id) is not None:
                        conn.execute(
                            "DELETE FROM shard_ids WHERE index_uuid = ? AND shard = ? AND doc_id = ?", (*key, doc_id)
                        )
                        docs.tracked -= 1
        _save(conn, key, docs)


def snapshot(key: ShardKey, conn: sqlite3.Connection) -> Snapshot:
    ensure_schema(conn)
    docs = _docs(conn, key) or ShardDocs()
    rows = conn.execute(
        "SELECT doc_id, version, seq_no FROM shard_ids WHERE index_uuid = ? AND shard = ? ORDER BY doc_id", key
    ).fetchall()
    return Snapshot(docs.untracked, docs.max_seq_no, [(r[0], r[1], r[2]) for r in rows])


def install(key: ShardKey, copy: Snapshot, conn: sqlite3.Connection) -> None:
    """Replaces this copy's documents with a primary's snapshot."""
    ensure_schema(conn)
    with _transaction(conn):
        conn.execute("DELETE FROM shard_ids WHERE index_uuid = ? AND shard = ?", key)
        conn.executemany(
            "INSERT INTO shard_ids (index_uuid, shard, doc_id, version, seq_no) VALUES (?, ?, ?, ?, ?)",
            [(*key, doc_id, version, seq) for doc_id, version, seq in copy.ids],
        )
        _save(conn, key, ShardDocs(copy.untracked, len(copy.ids), copy.max_seq_no))


def get_document(key: ShardKey, doc_id: str, conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The version and sequence number of a tracked document, or None."""
    ensure_schema(conn)
    return _version_of(conn, key, doc_id)


def document_refs(key: ShardKey, conn: sqlite3.Connection) -> tuple[list[str], int]:
    """A point-in-time view of a copy's documents: its tracked ids in id order and its untracked count."""
    ensure_schema(conn)
    docs = _docs(conn, key) or ShardDocs()
    return _tracked_ids(conn, key, docs.tracked), docs.untracked


def document_ids(key: ShardKey, offset: int, limit: int, conn: sqlite3.Connection) -> list[str]:
    """The ids of documents `offset` to `offset + limit` of a copy: tracked ids in id order, then untracked ones."""
    ensure_schema(conn)
    docs = _docs(conn, key) or ShardDocs()
    ids = _tracked_ids(conn, key, limit, offset) if offset < docs.tracked else []
    start = max(0, offset - docs.tracked)
    while len(ids) < limit and start < docs.untracked:
        ids.append(synthetic_id(key[0], key[1], start))
        start += 1
    return ids
