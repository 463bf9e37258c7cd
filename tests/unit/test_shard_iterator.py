"""The order in which a read tries a shard's copies, and the failure a shard reports when every copy failed."""

from __future__ import annotations

from collections.abc import Collection

from node.data.errors import NoShardAvailableActionError, SearchContextMissingError, ShardNotFoundError
from node.data.shard_iterator import CopyFailure, ShardIterator, is_shard_not_available, keep_failure, ordered_copies
from node.errors import IndexNotFoundError, NodeDisconnectedError, ReceiveTimeoutTransportError

COPIES = ("a", "b", "c")  # primary first


def select(spec: str) -> Collection[str]:
    return {n for n in spec.split(",") if n in COPIES}


def order(preference: str | None, turn: int = 0, local: str = "b", copies: tuple[str, ...] = COPIES) -> tuple[str, ...]:
    return ordered_copies(copies, preference, local_node=local, turn=turn, select_nodes=select)


def test_the_iterator_hands_out_each_copy_once_then_none() -> None:
    iterator = ShardIterator("logs", "uuid", 0, ("a", "b"))
    assert iterator.remaining() == 2
    assert [iterator.next_or_none(), iterator.next_or_none(), iterator.next_or_none()] == ["a", "b", None]
    assert iterator.remaining() == 0


def test_without_preference_each_turn_starts_at_the_next_copy_and_keeps_every_other_copy_after_it() -> None:
    assert [order(None, turn) for turn in range(4)] == [
        ("a", "b", "c"),
        ("b", "c", "a"),
        ("c", "a", "b"),
        ("a", "b", "c"),
    ]


def test_local_puts_the_coordinating_nodes_copy_first_and_only_local_keeps_only_it() -> None:
    assert order("_local", turn=2) == ("b", "c", "a")
    assert order("_local", local="z") == ("a", "b", "c")
    assert order("_only_local") == ("b",)
    assert order("_only_local", local="z") == ()


def test_prefer_nodes_and_only_nodes_follow_the_selected_nodes() -> None:
    assert order("_prefer_nodes:c") == ("c", "a", "b")
    assert order("_prefer_nodes:c,a", turn=1) == ("c", "a", "b")
    assert order("_only_nodes:a,c", turn=1) == ("c", "a")
    assert order("_only_nodes:z") == ()


def test_a_custom_preference_string_always_reads_the_same_copies_in_the_same_order() -> None:
    assert order("user-7", turn=0) == order("user-7", turn=5)
    assert set(order("user-7")) == set(COPIES)


def test_a_shard_without_active_copies_has_nothing_to_try() -> None:
    assert order(None, copies=()) == ()
    assert order("_local", copies=()) == ()


def test_shard_not_available_covers_the_errors_es_counts_as_such() -> None:
    assert is_shard_not_available(ShardNotFoundError("logs", "u", 0))
    assert is_shard_not_available(IndexNotFoundError("logs"))
    assert is_shard_not_available(NoShardAvailableActionError(None))  # type: ignore[arg-type]
    assert not is_shard_not_available(NodeDisconnectedError("[node-2] disconnected"))
    assert not is_shard_not_available(ReceiveTimeoutTransportError("timed out"))


def test_the_first_failure_is_kept_unless_a_later_one_says_more_than_not_available() -> None:
    not_there = CopyFailure("a", ShardNotFoundError("logs", "u", 0))
    gone = CopyFailure("b", NodeDisconnectedError("[node-2] disconnected"))
    late = CopyFailure("c", ReceiveTimeoutTransportError("timed out"))
    assert keep_failure(None, not_there) is not_there
    assert keep_failure(not_there, gone) is gone
    assert keep_failure(gone, CopyFailure("c", ShardNotFoundError("logs", "u", 0))) is gone
    assert keep_failure(gone, late) is late


def test_a_missing_search_context_never_replaces_a_failure_already_kept() -> None:
    gone = CopyFailure("a", NodeDisconnectedError("[node-1] disconnected"))
    missing = CopyFailure("b", SearchContextMissingError("7"))
    assert keep_failure(gone, missing) is gone
    assert keep_failure(None, missing) is missing
