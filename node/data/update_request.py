"""Updates of one document, as pure values and functions (mirrors ES `UpdateRequest` and `UpdateHelper`).

The primary turns an update into an index, a delete or nothing (`noop`), against the document it holds:

- the document is missing: `doc_as_upsert` indexes `doc`, an `upsert` document is indexed (after the script when
  `scripted_upsert`), otherwise `document_missing_exception`;
- a `doc` (and no script) is merged into the source (objects merged key by key, everything else replaced); with
  `detect_noop` (the default) a merge that changes nothing is a `noop`;
- a script runs over `ctx` (`_source`, `op`, `_id`, `_index`, `_version`, `_routing`, `_now`), and `ctx.op` says
  what happens: `index` (the default), `delete`, or `none`/`noop`.

The resulting write is conditioned on the sequence number and primary term the update read, as ES conditions it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.data.update_scripts import run_script

__all__ = ["UpdatePlan", "UpdateSpec", "merge_source", "plan_update"]


@dataclass(frozen=True, slots=True)
class UpdateSpec:
    """The body of an update (`doc`, `upsert`, `doc_as_upsert`, `script`, `scripted_upsert`, `detect_noop`)."""

    doc: Mapping[str, Any] | None = None
    upsert: Mapping[str, Any] | None = None
    doc_as_upsert: bool = False
    script: Mapping[str, Any] | None = None
    scripted_upsert: bool = False
    detect_noop: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("doc", "upsert", "script"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name in ("doc_as_upsert", "scripted_upsert"):
            if getattr(self, name):
                out[name] = True
        if not self.detect_noop:
            out["detect_noop"] = False
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UpdateSpec:
        return cls(
            doc=data.get("doc"),
            upsert=data.get("upsert"),
            doc_as_upsert=bool(data.get("doc_as_upsert", False)),
            script=data.get("script"),
            scripted_upsert=bool(data.get("scripted_upsert", False)),
            detect_noop=bool(data.get("detect_noop", True)),
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> UpdateSpec:
        """An update body as the REST and bulk parsers read it (a string script is its source)."""
        script = body.get("script")
        if isinstance(script, str):
            script = {"source": script}
        return cls(
            doc=body.get("doc"),
            upsert=body.get("upsert"),
            doc_as_upsert=bool(body.get("doc_as_upsert", False)),
            script=script,
            scripted_upsert=bool(body.get("scripted_upsert", False)),
            detect_noop=bool(body.get("detect_noop", True)),
        )


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """What an update becomes: `index`, `create` (an upsert), `delete`, `noop` or `missing`; with the new source
    (for `index`/`create`), and for a noop the source as it is."""

    kind: str
    source: dict[str, Any] | None = None


def _java_equals(a: Any, b: Any) -> bool:
    """`Objects#equals` of parsed JSON: an int never equals a double, as a Long never equals a Double."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_java_equals(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_java_equals(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def merge_source(source: dict[str, Any], changes: Mapping[str, Any], check_unequal: bool = True) -> bool:
    """ES `XContentHelper#update`: merges `changes` into `source` in place; True when something changed (always
    True once anything was set, when `check_unequal` is False)."""
    modified = False
    for key, value in changes.items():
        if key not in source:
            source[key] = copy.deepcopy(value)
            modified = True
            continue
        old = source[key]
        if isinstance(old, dict) and isinstance(value, Mapping):
            modified |= merge_source(old, value, check_unequal and not modified)
            continue
        source[key] = copy.deepcopy(value)
        if modified:
            continue
        modified = True if not check_unequal else not _java_equals(old, value)
    return modified


def _op(value: Any) -> str:
    """ES `UpdateOpType#lenientFromString`: an unknown op is `none` (ES logs a warning)."""
    text = str(value).lower() if value is not None else "none"
    return {"noop": "none"}.get(text, text) if text in ("create", "index", "delete", "none", "noop") else "none"


def plan_update(
    spec: UpdateSpec,
    index: str,
    doc_id: str,
    current: Mapping[str, Any] | None,
    version: int,
    routing: str | None,
) -> UpdatePlan:
    """The write an update comes to against `current` (the live source, None when missing).

    Raises:
        ScriptError: the script failed at run time.
    """
    now = time.time_ns() // 1_000_000
    if current is None:
        if spec.upsert is None and not spec.doc_as_upsert:
            return UpdatePlan("missing")
        initial = spec.doc if spec.doc_as_upsert else spec.upsert
        upsert: dict[str, Any] = copy.deepcopy(dict(initial)) if initial is not None else {}
        if spec.scripted_upsert and spec.script is not None:
            ctx: dict[str, Any] = {"op": "create", "_source": upsert, "_now": now}
            run_script(spec.script, ctx)
            if _op(ctx.get("op")) != "create":
                return UpdatePlan("noop", ctx.get("_source") or {})
            upsert = ctx.get("_source") or {}
        return UpdatePlan("create", upsert)
    source = copy.deepcopy(dict(current))
    if spec.script is None and spec.doc is not None:
        changed = merge_source(source, spec.doc, spec.detect_noop)
        return UpdatePlan("index", source) if changed or not spec.detect_noop else UpdatePlan("noop", source)
    ctx = {"op": "index", "_index": index, "_id": doc_id, "_version": version, "_routing": routing,
           "_source": source, "_now": now}  # fmt: skip
    run_script(spec.script or {}, ctx)
    op = _op(ctx.get("op"))
    updated = ctx.get("_source") if isinstance(ctx.get("_source"), dict) else source
    if op == "index":
        return UpdatePlan("index", updated)
    if op == "delete":
        return UpdatePlan("delete")
    return UpdatePlan("noop", updated)
