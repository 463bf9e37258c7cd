"""Optimistic concurrency control of document writes and reads, as pure functions (mirrors ES `VersionType`,
`DocWriteRequest#validateSeqNoBasedCASParams`, `IndexRequest#validate` and the planning of
`InternalEngine#planIndexingAsPrimary` / `planDeletionAsPrimary`).

A write may carry `if_seq_no` and `if_primary_term` (compare-and-set on the document's last modification), or a
`version` with `version_type=external` (the write wins when its version is higher) or `external_gte` (higher or
equal); internal versioning (the default) refuses an explicit version. A `create` requires the document to be
absent. The engine decides in ES's order, against the document's current version, sequence number and primary
term, or against its delete tombstone (a deleted document keeps its version for `index.gc_deletes`, 60 s, so a
document indexed again after a delete continues its versions):

1. `if_seq_no` on an absent or deleted document: `required seqNo [s], primary term [t]. but no document was found`;
2. `if_seq_no`/`if_primary_term` differing from the document's: `... current document has seqNo [x] and primary
   term [y]`;
3. the version type's own conflict: `document already exists (current version [v])` for a create,
   `current version [v] is higher or equal to the one provided [w]` for external, ...

Every reason is prefixed `[<id>]: version conflict, `, as ES's `VersionConflictEngineException` builds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from node.errors import IllegalArgumentError

__all__ = [
    "MATCH_ANY",
    "MATCH_DELETED",
    "NOT_FOUND",
    "UNASSIGNED_PRIMARY_TERM",
    "UNASSIGNED_SEQ_NO",
    "CurrentVersion",
    "VersionType",
    "WriteConditions",
    "plan_write",
    "read_conflict",
]

MATCH_ANY = -3  # ES Versions.MATCH_ANY
MATCH_DELETED = -4  # ES Versions.MATCH_DELETED: what a create expects
NOT_FOUND = -1  # ES Versions.NOT_FOUND
UNASSIGNED_SEQ_NO = -2  # ES SequenceNumbers.UNASSIGNED_SEQ_NO
UNASSIGNED_PRIMARY_TERM = 0


class VersionType(Enum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    EXTERNAL_GTE = "external_gte"

    @classmethod
    def parse(cls, text: str | None) -> VersionType:
        """ES `VersionType#fromString` (`external_gt` is `external`).

        Raises:
            IllegalArgumentError: `No version type match [x]`.
        """
        if text is None or text == "internal":
            return cls.INTERNAL
        if text in ("external", "external_gt"):
            return cls.EXTERNAL
        if text == "external_gte":
            return cls.EXTERNAL_GTE
        raise IllegalArgumentError(f"No version type match [{text}]")

    def conflicts_on_write(self, current: int, expected: int, deleted: bool) -> bool:
        if self is VersionType.INTERNAL:
            if expected == MATCH_ANY:
                return False
            if expected == MATCH_DELETED:
                return not deleted
            return current != expected
        if current == NOT_FOUND:
            return False
        if expected == MATCH_ANY:
            return True
        return current >= expected if self is VersionType.EXTERNAL else current > expected

    def explain_write_conflict(self, current: int, expected: int) -> str:
        if self is VersionType.INTERNAL:
            if expected == MATCH_DELETED:
                return f"document already exists (current version [{current}])"
            if current == NOT_FOUND:
                return f"document does not exist (expected version [{expected}])"
            return f"current version [{current}] is different than the one provided [{expected}]"
        relation = "higher or equal to" if self is VersionType.EXTERNAL else "higher than"
        return f"current version [{current}] is {relation} the one provided [{expected}]"

    def conflicts_on_read(self, current: int, expected: int) -> bool:
        if expected == MATCH_ANY:
            return False
        return current != expected

    def explain_read_conflict(self, current: int, expected: int) -> str:
        if current == NOT_FOUND:
            return f"document does not exist (expected version [{expected}])"
        return f"current version [{current}] is different than the one provided [{expected}]"

    def next_version(self, current: int, expected: int) -> int:
        if self is VersionType.INTERNAL:
            return 1 if current == NOT_FOUND else current + 1
        return expected

    def valid_for_writes(self, version: int) -> bool:
        if self is VersionType.INTERNAL:
            return version > 0 or version in (MATCH_ANY, MATCH_DELETED)
        return version >= 0

    def valid_for_reads(self, version: int) -> bool:
        if self is VersionType.INTERNAL:
            return version > 0 or version == MATCH_ANY
        return version >= 0 or version == MATCH_ANY


@dataclass(frozen=True, slots=True)
class WriteConditions:
    """The concurrency parameters of one write (ES's defaults: any version, internal, no compare-and-set)."""

    version: int = MATCH_ANY
    version_type: VersionType = VersionType.INTERNAL
    if_seq_no: int = UNASSIGNED_SEQ_NO
    if_primary_term: int = UNASSIGNED_PRIMARY_TERM

    @property
    def is_default(self) -> bool:
        return self == WriteConditions()

    def for_create(self) -> WriteConditions:
        """ES `IndexRequest#resolveVersionDefaults`: a create expects the document to be absent."""
        return self if self.version != MATCH_ANY else WriteConditions(MATCH_DELETED, self.version_type,
                                                                      self.if_seq_no, self.if_primary_term)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """Only the fields that differ from the defaults (they travel with every operation)."""
        out: dict[str, Any] = {}
        if self.version != MATCH_ANY:
            out["version"] = self.version
        if self.version_type is not VersionType.INTERNAL:
            out["version_type"] = self.version_type.value
        if self.if_seq_no != UNASSIGNED_SEQ_NO:
            out["if_seq_no"] = self.if_seq_no
        if self.if_primary_term != UNASSIGNED_PRIMARY_TERM:
            out["if_primary_term"] = self.if_primary_term
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WriteConditions:
        """Reads `to_json`'s fields from an operation (its other keys ignored)."""
        if "version" not in data and "version_type" not in data and "if_seq_no" not in data:
            return _DEFAULT if "if_primary_term" not in data else cls(if_primary_term=int(data["if_primary_term"]))
        return cls(
            int(data.get("version", MATCH_ANY)),
            VersionType(data.get("version_type", "internal")),
            int(data.get("if_seq_no", UNASSIGNED_SEQ_NO)),
            int(data.get("if_primary_term", UNASSIGNED_PRIMARY_TERM)),
        )

    def problems(self) -> list[str]:
        """ES `DocWriteRequest#validateSeqNoBasedCASParams`, in its order."""
        out = []
        if not self.version_type.valid_for_writes(self.version):
            out.append(f"illegal version value [{self.version}] for version type [{self.version_type.name}]")
        if self.version_type is VersionType.INTERNAL and self.version not in (MATCH_ANY, MATCH_DELETED):
            out.append(
                "internal versioning can not be used for optimistic concurrency control. "
                "Please use `if_seq_no` and `if_primary_term` instead"
            )
        if self.if_seq_no != UNASSIGNED_SEQ_NO and (
            self.version_type is not VersionType.INTERNAL or self.version != MATCH_ANY
        ):
            out.append("compare and write operations can not use versioning")
        if self.if_primary_term == UNASSIGNED_PRIMARY_TERM and self.if_seq_no != UNASSIGNED_SEQ_NO:
            out.append("ifSeqNo is set, but primary term is [0]")
        if self.if_primary_term != UNASSIGNED_PRIMARY_TERM and self.if_seq_no == UNASSIGNED_SEQ_NO:
            out.append(f"ifSeqNo is unassigned, but primary term is [{self.if_primary_term}]")
        return out

    def index_problems(self, *, create: bool, has_id: bool) -> list[str]:
        """ES `IndexRequest#validate`'s versioning checks (a create's first problem ends the list)."""
        version = self.for_create().version if create else self.version
        if create:
            if self.version_type is not VersionType.INTERNAL:
                return ["create operations only support internal versioning. use index instead"]
            if version != MATCH_DELETED:
                return ["create operations do not support explicit versions. use index instead"]
            if self.if_seq_no != UNASSIGNED_SEQ_NO or self.if_primary_term != UNASSIGNED_PRIMARY_TERM:
                return ["create operations do not support compare and set. use index instead"]
        out = []
        if not has_id and (self.version_type is not VersionType.INTERNAL or version not in (MATCH_DELETED, MATCH_ANY)):
            out.append("an id must be provided if version type or value are set")
        conditions = self.for_create() if create else self
        return out + conditions.problems()


_DEFAULT = WriteConditions()


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    """What the engine knows of a document: live, or a delete tombstone still within `gc_deletes`."""

    version: int
    seq_no: int
    primary_term: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class WritePlan:
    """The planned write: its new version and whether the document was there (live) before; or why it conflicts."""

    version: int = 0
    found: bool = False
    conflict: str | None = None


def plan_write(doc_id: str, conditions: WriteConditions, current: CurrentVersion | None) -> WritePlan:
    """ES `InternalEngine#planIndexingAsPrimary` / `planDeletionAsPrimary` (pass `for_create()` conditions for a
    create)."""
    deleted = current is None or current.deleted
    current_version = NOT_FOUND if current is None else current.version
    prefix = f"[{doc_id}]: version conflict, "
    if conditions.if_seq_no != UNASSIGNED_SEQ_NO:
        required = f"required seqNo [{conditions.if_seq_no}], primary term [{conditions.if_primary_term}]."
        if current is None or current.deleted:
            return WritePlan(conflict=f"{prefix}{required} but no document was found")
        if current.seq_no != conditions.if_seq_no or current.primary_term != conditions.if_primary_term:
            return WritePlan(
                conflict=f"{prefix}{required} current document has seqNo [{current.seq_no}] and primary term "
                f"[{current.primary_term}]"
            )
    kind = conditions.version_type
    if kind.conflicts_on_write(current_version, conditions.version, deleted):
        return WritePlan(conflict=prefix + kind.explain_write_conflict(current_version, conditions.version))
    return WritePlan(kind.next_version(current_version, conditions.version), not deleted)


def read_conflict(doc_id: str, version: int, version_type: VersionType, current: int) -> str | None:
    """ES `InternalEngine#get`'s version check of a found document: the reason of the 409, or None."""
    if version_type.conflicts_on_read(current, version):
        return f"[{doc_id}]: version conflict, {version_type.explain_read_conflict(current, version)}"
    return None
