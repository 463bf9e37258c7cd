"""Optimistic concurrency rules, updates and the Painless forms simcluster runs (`node.data.doc_versioning`,
`node.data.update_request`, `node.data.update_scripts`)."""

from __future__ import annotations

from typing import Any

import pytest

from node.data.bulk_request import BulkItem, parse_bulk, validate_bulk, write_conditions
from node.data.doc_versioning import MATCH_ANY, CurrentVersion, VersionType, WriteConditions, plan_write, read_conflict
from node.data.update_request import UpdateSpec, merge_source, plan_update
from node.data.update_scripts import ScriptError, run_script
from node.errors import ActionRequestValidationError, IllegalArgumentError

LIVE = CurrentVersion(version=3, seq_no=7, primary_term=2)


def test_internal_writes_bump_the_version_and_tell_whether_the_document_was_there() -> None:
    assert plan_write("1", WriteConditions(), None) == plan_write("1", WriteConditions(), None)
    assert (plan_write("1", WriteConditions(), None).version, plan_write("1", WriteConditions(), None).found) == (
        1,
        False,
    )
    plan = plan_write("1", WriteConditions(), LIVE)
    assert (plan.version, plan.found, plan.conflict) == (4, True, None)


def test_a_create_conflicts_with_a_live_document_not_with_a_tombstone() -> None:
    create = WriteConditions().for_create()
    assert (
        plan_write("1", create, LIVE).conflict == "[1]: version conflict, document already exists (current version [3])"
    )
    tombstone = CurrentVersion(3, 7, 2, deleted=True)
    assert plan_write("1", create, tombstone).version == 4


def test_compare_and_set_reasons() -> None:
    cas = WriteConditions(if_seq_no=10000, if_primary_term=1)
    assert plan_write("1", cas, LIVE).conflict == (
        "[1]: version conflict, required seqNo [10000], primary term [1]. current document has seqNo [7] and primary "
        "term [2]"
    )
    assert plan_write("1", cas, None).conflict == (
        "[1]: version conflict, required seqNo [10000], primary term [1]. but no document was found"
    )
    assert plan_write("1", WriteConditions(if_seq_no=7, if_primary_term=2), LIVE).conflict is None


def test_external_and_external_gte() -> None:
    external = WriteConditions(3, VersionType.EXTERNAL)
    assert plan_write("1", external, LIVE).conflict == (
        "[1]: version conflict, current version [3] is higher or equal to the one provided [3]"
    )
    assert plan_write("1", WriteConditions(3, VersionType.EXTERNAL_GTE), LIVE).version == 3
    assert plan_write("1", WriteConditions(9, VersionType.EXTERNAL), None).version == 9


def test_reads_with_a_version() -> None:
    assert read_conflict("1", 1, VersionType.INTERNAL, 2) == (
        "[1]: version conflict, current version [2] is different than the one provided [1]"
    )
    assert read_conflict("1", MATCH_ANY, VersionType.INTERNAL, 2) is None


@pytest.mark.parametrize(
    ("item", "problems"),
    [
        (BulkItem("index", "i", "1", conditions=WriteConditions(version=2)), [
            "internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and "
            "`if_primary_term` instead",
        ]),
        (BulkItem("index", "i", "1", conditions=WriteConditions(if_seq_no=1)), ["ifSeqNo is set, but primary term is [0]"]),
        (BulkItem("index", "i", "1", conditions=WriteConditions(if_primary_term=1)), [
            "ifSeqNo is unassigned, but primary term is [1]",
        ]),
        (BulkItem("create", "i", "1", conditions=WriteConditions(5, VersionType.EXTERNAL)), [
            "create operations only support internal versioning. use index instead",
        ]),
        (BulkItem("create", "i", "1", conditions=WriteConditions(if_seq_no=1, if_primary_term=1)), [
            "create operations do not support compare and set. use index instead",
        ]),
        (BulkItem("index", "i", None, conditions=WriteConditions(5, VersionType.EXTERNAL)), [
            "an id must be provided if version type or value are set",
        ]),
        (BulkItem("index", "i", "1", conditions=WriteConditions(-5, VersionType.EXTERNAL)), [
            "illegal version value [-5] for version type [EXTERNAL]",
        ]),
    ],
)  # fmt: skip
def test_write_validation_is_es_word_for_word(item: BulkItem, problems: list[str]) -> None:
    assert item.problems() == problems


def test_conditions_of_the_url_and_of_a_bulk_line() -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        write_conditions(MATCH_ANY, "newest", -2, 0)
    assert caught.value.reason == "No version type match [newest]"
    with pytest.raises(IllegalArgumentError) as caught:
        write_conditions(MATCH_ANY, None, -5, 0)
    assert caught.value.reason == "sequence numbers must be non negative. got [-5]."
    (item,) = parse_bulk(b'{"index":{"_index":"i","_id":"1","if_seq_no":3,"if_primary_term":1}}\n{"a":1}\n', None)
    assert (item.conditions, item.source) == (WriteConditions(if_seq_no=3, if_primary_term=1), {"a": 1})


def test_update_validation() -> None:
    items = parse_bulk(
        b'{"update":{"_index":"i","_id":"1","if_seq_no":1,"if_primary_term":1,"retry_on_conflict":2}}\n'
        b'{"doc":{"a":1},"doc_as_upsert":true,"script":"ctx.op = \'noop\'"}\n',
        None,
    )
    with pytest.raises(ActionRequestValidationError) as caught:
        validate_bulk(items)
    assert caught.value.reason == (
        "Validation Failed: 1: compare and write operations can not be retried;"
        "2: compare and write operations can not be used with upsert;3: can't provide both script and doc;"
    )


def test_merging_a_doc_changes_objects_key_by_key_and_detects_noops() -> None:
    source: dict[str, Any] = {"a": 1, "o": {"x": 1, "y": 2}}
    assert not merge_source(source, {"a": 1, "o": {"x": 1}})
    assert merge_source(source, {"o": {"z": 3}, "a": 1.0}), "1.0 is not 1, as a Double is not a Long"
    assert source == {"a": 1.0, "o": {"x": 1, "y": 2, "z": 3}}


@pytest.mark.parametrize(
    ("spec", "current", "kind", "source"),
    [
        (UpdateSpec(doc={"b": 2}), {"a": 1}, "index", {"a": 1, "b": 2}),
        (UpdateSpec(doc={"a": 1}), {"a": 1}, "noop", {"a": 1}),
        (UpdateSpec(doc={"a": 1}, detect_noop=False), {"a": 1}, "index", {"a": 1}),
        (UpdateSpec(doc={"b": 2}), None, "missing", None),
        (UpdateSpec(doc={"b": 2}, doc_as_upsert=True), None, "create", {"b": 2}),
        (UpdateSpec(script={"source": "ctx._source.n += 1"}, upsert={"n": 0}), None, "create", {"n": 0}),
        (UpdateSpec(script={"source": "ctx._source.n += 1"}, upsert={"n": 0}, scripted_upsert=True), None, "create",
         {"n": 1}),
        (UpdateSpec(script={"source": "ctx.op = 'delete'"}), {"n": 1}, "delete", None),
        (UpdateSpec(script={"source": "ctx.op = 'none'"}), {"n": 1}, "noop", {"n": 1}),
    ],
)  # fmt: skip
def test_an_update_becomes_an_index_a_create_a_delete_or_a_noop(
    spec: UpdateSpec, current: dict[str, Any] | None, kind: str, source: dict[str, Any] | None
) -> None:
    plan = plan_update(spec, "i", "1", current, 1, None)
    assert (plan.kind, plan.source) == (kind, source)


def script(source: str, doc: dict[str, Any], **params: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {"_source": doc, "op": "index", "_id": "1"}
    run_script({"source": source, "params": params}, ctx)
    return ctx


def test_painless_assignments_arithmetic_and_removal() -> None:
    ctx = script(
        "ctx._source.count += params.n; ctx._source['name'] = 'x' + params.s; ctx._source.a.b = 2 * (3 + 1);"
        "ctx._source.remove('gone'); ctx._source.tags.add(params.s); ctx._source.half = 7 / 2",
        {"count": 1, "gone": True, "tags": []},
        n=5,
        s="y",
    )
    assert ctx["_source"] == {"count": 6, "tags": ["y"], "name": "xy", "a": {"b": 8}, "half": 3}


def test_painless_ops_ids_and_ignored_statements() -> None:
    ctx = script("if (ctx._source.n > 1) { ctx.op = 'delete' }\nctx._id = 'new'; ctx.op = 'noop'", {"n": 2})
    assert (ctx["op"], ctx["_id"]) == ("noop", "new")
    run = run_script("for (x in y) {}; ctx.op = 'delete'", {"op": "index"})
    assert run.ignored == ["for (x in y) {}"] and run.ctx["op"] == "delete"


def test_painless_arithmetic_on_a_missing_field_is_a_script_exception() -> None:
    with pytest.raises(ScriptError) as caught:
        script("ctx._source.count += 1", {})
    body = caught.value.to_dict()
    assert (body["type"], body["reason"], body["lang"], body["caused_by"]["type"]) == (
        "script_exception", "runtime error", "painless", "null_pointer_exception",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "cause"),
    [
        ("ctx._source.x = ctx._source.n / 0", "arithmetic_exception"),
        ("ctx._source.tags += 1", "class_cast_exception"),
        ("ctx._source.tags.remove(99)", "index_out_of_bounds_exception"),
    ],
)
def test_a_script_failing_at_run_time_is_one_items_script_exception(source: str, cause: str) -> None:
    """Painless fails these at run time with a 400 `script_exception`: the item fails, not the shard's batch."""
    with pytest.raises(ScriptError) as failed:
        run_script({"source": source}, {"_source": {"n": 7, "tags": ["a"]}})
    assert failed.value.status == 400
    assert failed.value.to_dict()["caused_by"]["type"] == cause


def test_script_numbers_are_java_longs() -> None:
    ctx: dict[str, Any] = {"_source": {"n": 9_223_372_036_854_775_807}}
    run_script({"source": "ctx._source.n += 1"}, ctx)
    assert ctx["_source"]["n"] == -9_223_372_036_854_775_808
    run_script({"source": "ctx._source.m = -7 / 2; ctx._source.r = -7 % 2"}, ctx)
    assert (ctx["_source"]["m"], ctx["_source"]["r"]) == (-3, -1)
