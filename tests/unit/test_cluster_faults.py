"""Fault shapes as directed links, the rule bodies sent to each node, and the `fault list` table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cluster.disruption import Link, bridge, describe_sides, isolate, link, parse_side, partition
from cluster.errors import FaultError, UnknownNodeError
from cluster.fault_client import FaultOptions, fault_bodies, new_group_id, split_actions
from cluster.render import faults_table

NAMES = ("node-1", "node-2", "node-3")
FIVE = tuple(f"node-{i}" for i in range(1, 6))


def links(*pairs: str) -> tuple[Link, ...]:
    return tuple(sorted(Link(*pair.split(">")) for pair in pairs))


def test_isolate_cuts_both_directions_to_every_other_node() -> None:
    assert isolate("node-1", NAMES) == links("node-1>node-2", "node-1>node-3", "node-2>node-1", "node-3>node-1")


def test_unnamed_nodes_form_one_more_side() -> None:
    assert partition([["node-1"]], NAMES) == isolate("node-1", NAMES)
    assert partition([["node-1"], ["node-2", "node-3"]], NAMES) == isolate("node-1", NAMES)


def test_a_three_way_partition_cuts_every_link() -> None:
    cut = partition([["node-1"], ["node-2"], ["node-3"]], NAMES)
    assert len(cut) == 6 and all(item.source != item.target for item in cut)


def test_a_2_3_partition_keeps_the_links_inside_each_side() -> None:
    cut = set(partition([["node-1", "node-2"]], FIVE))
    assert Link("node-1", "node-2") not in cut and Link("node-3", "node-4") not in cut
    assert len(cut) == 2 * 2 * 3


def test_bridge_connects_the_middle_to_both_sides_only() -> None:
    cut = set(bridge(["node-1"], "node-2", ["node-3"], NAMES))
    assert cut == set(links("node-1>node-3", "node-3>node-1"))


def test_bridge_puts_unnamed_nodes_on_the_second_side() -> None:
    cut = set(bridge(["node-1", "node-2"], "node-3", ["node-4"], FIVE))
    assert Link("node-1", "node-5") in cut and Link("node-3", "node-5") not in cut


def test_a_link_is_one_way_unless_both() -> None:
    assert link("node-1", "node-2", NAMES) == (Link("node-1", "node-2"),)
    assert link("node-1", "node-2", NAMES, both=True) == (Link("node-1", "node-2"), Link("node-2", "node-1"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: partition([["node-1", "node-2", "node-3"]], NAMES), "a partition needs at least two sides"),
        (lambda: partition([["node-1"], ["node-1", "node-2"]], NAMES), "[node-1] is on two sides of the partition"),
        (
            lambda: bridge(["node-1"], "node-1", ["node-3"], NAMES),
            "the bridge node [node-1] must not be on either side",
        ),
        (lambda: bridge(["node-1"], "node-2", ["node-1"], NAMES), "[node-1] is on both sides of the bridge"),
        (lambda: link("node-1", "node-1", NAMES), "a link needs two different nodes, got [node-1] twice"),
        (lambda: parse_side(" , ", NAMES), "empty side [ , ]: name one or more nodes, separated by commas"),
    ],
)
def test_shapes_that_make_no_sense_are_fault_errors(build: Callable[[], object], message: str) -> None:
    with pytest.raises(FaultError) as caught:
        build()
    assert caught.value.message.startswith(message)


def test_unknown_names_list_the_clusters_names() -> None:
    with pytest.raises(UnknownNodeError) as caught:
        parse_side("node-1,node-9", NAMES)
    assert caught.value.message == "no node named [node-9]; the cluster has node-1, node-2, node-3"


def test_sides_parse_and_print_back() -> None:
    assert parse_side("node-2, node-1,node-2", NAMES) == ("node-2", "node-1")
    assert describe_sides([("node-1",), ("node-2", "node-3")]) == "node-1 | node-2,node-3"


def test_every_source_node_gets_the_rules_of_its_own_links() -> None:
    addresses = {"node-1": "127.0.0.1:9301", "node-2": "127.0.0.1:9302", "node-3": "127.0.0.1:9303"}
    options = FaultOptions(
        kind="delay", actions=("internal:*",), delay_ms=200, jitter_ms=50, duration_ms=30_000, seed=5
    )
    bodies = fault_bodies(link("node-1", "node-2", NAMES, both=True), options, addresses, "delay-1")
    assert bodies == {
        "node-1": [
            {
                "kind": "delay", "target": "127.0.0.1:9302", "target_name": "node-2", "group": "delay-1",
                "actions": ["internal:*"], "delay": "200ms", "jitter": "50ms", "duration": "30000ms", "seed": 5,
            }
        ],
        "node-2": [
            {
                "kind": "delay", "target": "127.0.0.1:9301", "target_name": "node-1", "group": "delay-1",
                "actions": ["internal:*"], "delay": "200ms", "jitter": "50ms", "duration": "30000ms", "seed": 6,
            }
        ],
    }  # fmt: skip


def test_a_body_carries_only_the_options_given() -> None:
    bodies = fault_bodies(link("node-1", "node-2", NAMES), FaultOptions(kind="blackhole"), {"node-2": "h:1"}, "g")
    assert bodies == {"node-1": [{"kind": "blackhole", "target": "h:1", "target_name": "node-2", "group": "g"}]}


def test_a_node_that_never_started_cannot_be_a_target() -> None:
    with pytest.raises(ValueError, match="node-2 has never started"):
        fault_bodies(link("node-1", "node-2", NAMES), FaultOptions(kind="disconnect"), {"node-2": None}, "g")


@pytest.mark.parametrize(
    ("text", "expected"), [(None, ()), ("*", ()), ("internal:*, *[n]", ("internal:*", "*[n]")), (" , ", ())]
)
def test_action_patterns_split_on_commas(text: str | None, expected: tuple[str, ...]) -> None:
    assert split_actions(text) == expected


def test_group_ids_name_the_verb_and_differ() -> None:
    first, second = new_group_id("partition"), new_group_id("partition")
    assert first.startswith("partition-") and len(first) == len("partition-") + 6
    assert first != second


def test_the_fault_table_shows_one_rule_per_row() -> None:
    delay = {
        "id": "1", "group": "delay-ab", "kind": "delay", "target": "h:2", "target_name": "node-2", "actions": ["*"],
        "delay_millis": 200, "jitter_millis": 50, "expires_in_millis": 12_345, "affected_requests": 3,
    }  # fmt: skip
    drop = {
        "id": "2", "group": "drop-cd", "kind": "drop", "target": "h:3", "target_name": None,
        "actions": ["internal:*", "cluster:*"], "probability": 0.3, "expires_in_millis": None, "affected_requests": 0,
    }  # fmt: skip
    assert faults_table([("node-1", [delay, drop]), ("node-2", [])]).splitlines() == [
        "FAULT     FROM    TO      KIND   DETAIL      ACTIONS               EXPIRES  AFFECTED  ID",
        "delay-ab  node-1  node-2  delay  200ms±50ms  *                     12.3s    3         1",
        "drop-cd   node-1  h:3     drop   p=0.3       internal:*,cluster:*  -        0         2",
    ]
