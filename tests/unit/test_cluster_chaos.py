"""The seeded chaos schedule: deterministic from the seed, bounded so the cluster can always recover."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from cluster.chaos_plan import EVENT_KINDS, ChaosEvent, check_event_kinds, plan_chaos, schedule_steps

THREE = ("node-1", "node-2", "node-3")
FIVE = tuple(f"node-{i}" for i in range(1, 6))


def plan(seed: int, names: Sequence[str] = THREE, **kwargs: object) -> tuple[ChaosEvent, ...]:
    settings: dict[str, object] = {"duration": 120.0, "interval": 5.0, "kinds": EVENT_KINDS, **kwargs}
    return plan_chaos(seed, names, **settings)  # type: ignore[arg-type]


def disrupted_at(events: Sequence[ChaosEvent], instant: float) -> set[str]:
    return set().union(*(e.disrupted() for e in events if e.at <= instant < e.heal_at))


def test_the_same_seed_gives_the_same_schedule() -> None:
    assert plan(7) == plan(7)
    assert plan(7, list(reversed(THREE))) == plan(7)


def test_another_seed_gives_another_schedule() -> None:
    assert plan(7) != plan(8)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("names", [THREE, FIVE])
def test_never_more_than_a_minority_is_disrupted(seed: int, names: tuple[str, ...]) -> None:
    events = plan(seed, names)
    minority = (len(names) - 1) // 2
    for event in events:
        assert len(disrupted_at(events, event.at)) <= minority, event


@pytest.mark.parametrize("seed", range(40))
def test_at_most_one_partition_at_a_time_and_all_healed_by_the_end(seed: int) -> None:
    events = plan(seed, FIVE, duration=60.0)
    for event in events:
        assert event.heal_at <= 60.0 + 1e-6
        if event.kind == "partition":
            others = [e for e in events if e is not event and e.kind == "partition"]
            assert not any(o.at <= event.at < o.heal_at for o in others)


@pytest.mark.parametrize("seed", range(40))
def test_partitions_never_overlap_a_killed_or_paused_node(seed: int) -> None:
    events = plan(seed, FIVE)
    process = [e for e in events if e.kind in ("kill", "pause")]
    for partition in (e for e in events if e.kind == "partition"):
        assert not any(p.at < partition.heal_at and partition.at < p.heal_at for p in process), partition


@pytest.mark.parametrize("seed", range(40))
def test_a_link_fault_starts_from_a_node_that_is_up(seed: int) -> None:
    events = plan(seed, FIVE)
    for link in (e for e in events if e.kind in ("delay", "drop")):
        down = {p.targets[0] for p in events if p.kind in ("kill", "pause") and p.at <= link.at < p.heal_at}
        assert link.targets[0] not in down, link


def test_events_start_about_every_interval() -> None:
    events = plan(3, duration=600.0, interval=10.0)
    starts = [e.at for e in events]
    assert len(events) > 40
    assert all(b - a >= 5.0 - 1e-6 for a, b in itertools.pairwise(starts))


def test_a_partition_puts_a_minority_first_and_everyone_on_a_side() -> None:
    partitions = [e for seed in range(30) for e in plan(seed, FIVE, kinds=("partition",))]
    assert partitions
    for event in partitions:
        minority, majority = event.sides
        assert event.targets == minority and 1 <= len(minority) <= 2
        assert sorted(minority + majority) == list(FIVE)
        assert event.fault in ("blackhole", "disconnect")


def test_link_events_name_two_different_nodes_within_bounds() -> None:
    links = [e for seed in range(30) for e in plan(seed, kinds=("delay", "drop"))]
    for event in links:
        source, target = event.targets
        assert source != target
        if event.kind == "delay":
            assert 50 <= event.delay_ms <= 1000 and event.jitter_ms == event.delay_ms // 4
        else:
            assert 0.1 <= event.probability <= 0.5


def test_a_two_node_cluster_only_gets_link_faults() -> None:
    events = plan(1, ("node-1", "node-2"))
    assert events and {e.kind for e in events} <= {"delay", "drop"}


def test_unknown_event_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown chaos event \[explode\]"):
        check_event_kinds(["kill", "explode"])
    assert check_event_kinds(["pause", "kill", "pause"]) == ("pause", "kill")


def test_describe_and_details() -> None:
    event = ChaosEvent(
        1, 2.0, 3.0, "partition", ("node-1",), sides=(("node-1",), ("node-2", "node-3")), fault="blackhole"
    )
    assert event.describe() == "partition node-1 | node-2,node-3 (blackhole)"
    assert event.details() == {"sides": [["node-1"], ["node-2", "node-3"]], "fault": "blackhole"}
    delay = ChaosEvent(2, 0.0, 1.0, "delay", ("node-1", "node-2"), delay_ms=200, jitter_ms=50, both_ways=True)
    assert delay.describe() == "delay node-1 <-> node-2 200ms ± 50ms"
    assert ChaosEvent(3, 0.0, 1.0, "kill", ("node-3",)).describe() == "kill node-3"


def test_steps_heal_before_applying_at_the_same_instant() -> None:
    first = ChaosEvent(1, 0.0, 2.0, "kill", ("node-1",))
    second = ChaosEvent(2, 2.0, 1.0, "kill", ("node-2",))
    order = [(due, healing, e.seq) for due, healing, e in schedule_steps([second, first])]
    assert order == [(0.0, False, 1), (2.0, True, 1), (2.0, False, 2), (3.0, True, 2)]
