"""The schedule of a seeded chaos run, generated whole and up front from `random.Random(seed)` (pure).

Modelled on blockade's chaos mode (bounded random events from an `event_set`) and Jepsen's nemesis generators
(start/stop pairs at an interval, a final heal): an event starts about every `interval` (uniformly 0.5–1.5×), lasts
0.5–1.5× `interval`, and is healed before the run ends. Because the whole schedule comes from the seed before
anything runs, the same seed on the same node names gives the same schedule, whatever the cluster does.

Bounds, so the cluster can always recover: at no instant are more than a minority of the nodes disrupted, where a
node counts as disrupted while it is killed, paused, or on the minority side of a partition; and at most one
partition is in force at a time. Delays and drops disrupt no node (they only slow or thin a link). A kind that
does not fit at its turn is replaced by one that does, or the turn is skipped. The bound counts every node as
master-eligible, as they are by default.

Faults live in the nodes' memory and are installed through their REST API, which a killed or paused node cannot
answer: so a partition never overlaps a killed or paused node (its rules could be neither installed nor healed),
and a delayed or dropped link always starts from a node that is up when the fault begins.

| kind | targets | healed by |
| --- | --- | --- |
| `kill` | one node, SIGKILL | starting it again (same data, same id) |
| `pause` | one node, SIGSTOP | SIGCONT |
| `partition` | the minority side (1 … minority nodes); `blackhole` or `disconnect` | removing its rules |
| `delay` | one link (one way or both), 50–1000 ms ± a quarter | removing its rules |
| `drop` | one link (one way or both), probability 0.1–0.5 | removing its rules |
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_KINDS", "ChaosEvent", "check_event_kinds", "plan_chaos", "schedule_steps"]

EVENT_KINDS = ("kill", "pause", "partition", "delay", "drop")
_PROCESS_KINDS = frozenset({"kill", "pause"})
_MIN_EVENT_S = 0.5


@dataclass(frozen=True, slots=True)
class ChaosEvent:
    """One planned fault.

    Attributes:
        seq: 1-based position in the schedule.
        at / duration: seconds from the start of the run until it is applied, and until it is healed after that.
        kind: one of `EVENT_KINDS`.
        targets: the nodes it hits: the killed or paused node, the minority side of a partition, or a link's
            `(source, target)`.
        sides: for a partition, every side (the minority first).
        fault: for a partition, the rule kind: `blackhole` or `disconnect`.
        both_ways: for a delay or drop, whether the reverse direction is hit too.
    """

    seq: int
    at: float
    duration: float
    kind: str
    targets: tuple[str, ...]
    sides: tuple[tuple[str, ...], ...] = ()
    fault: str = ""
    delay_ms: int = 0
    jitter_ms: int = 0
    probability: float = 0.0
    both_ways: bool = False

    @property
    def heal_at(self) -> float:
        return self.at + self.duration

    def disrupted(self) -> frozenset[str]:
        """The nodes this event takes out of the cluster while it lasts (see the module docstring)."""
        if self.kind in _PROCESS_KINDS or self.kind == "partition":
            return frozenset(self.targets)
        return frozenset()

    def details(self) -> dict[str, Any]:
        """The kind-specific fields, for the journal and `--dry-run`."""
        if self.kind == "partition":
            return {"sides": [list(side) for side in self.sides], "fault": self.fault}
        if self.kind == "delay":
            return {"delay_ms": self.delay_ms, "jitter_ms": self.jitter_ms, "both_ways": self.both_ways}
        if self.kind == "drop":
            return {"probability": self.probability, "both_ways": self.both_ways}
        return {}

    def describe(self) -> str:
        """One line for a human: `kill node-2`, `partition node-1 | node-2,node-3 (blackhole)`, ..."""
        if self.kind == "partition":
            return f"partition {' | '.join(','.join(s) for s in self.sides)} ({self.fault})"
        arrow = "<->" if self.both_ways else "->"
        if self.kind == "delay":
            return f"delay {self.targets[0]} {arrow} {self.targets[1]} {self.delay_ms}ms ± {self.jitter_ms}ms"
        if self.kind == "drop":
            return f"drop {self.targets[0]} {arrow} {self.targets[1]} p={self.probability}"
        return f"{self.kind} {', '.join(self.targets)}"


def check_event_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    """The requested kinds, deduplicated, in the order given; `ValueError` for an unknown one."""
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    if unknown:
        raise ValueError(f"unknown chaos event [{unknown[0]}]; choose from {', '.join(EVENT_KINDS)}")
    chosen = tuple(dict.fromkeys(kinds))
    if not chosen:
        raise ValueError(f"no chaos events given; choose from {', '.join(EVENT_KINDS)}")
    return chosen


@dataclass(frozen=True, slots=True)
class _Moment:
    """What is going on when the next event would start."""

    names: tuple[str, ...]
    down: frozenset[str]  # killed or paused
    disrupted: frozenset[str]  # down, or on the minority side of a partition
    partitioned: bool
    budget: int  # how many more nodes may be disrupted

    def fits(self, kind: str) -> bool:
        if kind in _PROCESS_KINDS:
            return self.budget >= 1 and not self.partitioned
        if kind == "partition":
            return self.budget >= 1 and not self.partitioned and not self.down
        return len(self.names) >= 2 and len(self.names) > len(self.down)


def _moment(names: tuple[str, ...], events: Sequence[ChaosEvent], at: float) -> _Moment:
    active = [e for e in events if e.at <= at < e.heal_at]
    disrupted = frozenset().union(*(e.disrupted() for e in active))
    down = frozenset().union(*(e.disrupted() for e in active if e.kind in _PROCESS_KINDS))
    partitioned = any(e.kind == "partition" for e in active)
    return _Moment(names, down, disrupted, partitioned, (len(names) - 1) // 2 - len(disrupted))


def _build(rng: random.Random, seq: int, at: float, length: float, kind: str, now: _Moment) -> ChaosEvent:
    free = [n for n in now.names if n not in now.disrupted]
    if kind in _PROCESS_KINDS:
        return ChaosEvent(seq, at, length, kind, (rng.choice(free),))
    if kind == "partition":
        minority = tuple(sorted(rng.sample(free, rng.randint(1, min(now.budget, len(free))))))
        majority = tuple(n for n in now.names if n not in minority)
        fault = rng.choice(("blackhole", "disconnect"))
        return ChaosEvent(seq, at, length, kind, minority, sides=(minority, majority), fault=fault)
    source = rng.choice([n for n in now.names if n not in now.down])
    target = rng.choice([n for n in now.names if n != source])
    both = rng.random() < 0.5
    if kind == "delay":
        delay = rng.randint(50, 1000)
        return ChaosEvent(seq, at, length, kind, (source, target), delay_ms=delay, jitter_ms=delay // 4, both_ways=both)
    return ChaosEvent(
        seq, at, length, kind, (source, target), probability=round(rng.uniform(0.1, 0.5), 2), both_ways=both
    )


def plan_chaos(
    seed: int, names: Sequence[str], *, duration: float, interval: float, kinds: Sequence[str]
) -> tuple[ChaosEvent, ...]:
    """The whole schedule of a run; the same arguments always give the same schedule.

    Args:
        names: the cluster's node names (sorted here, so their order does not matter).
        duration: seconds; every event is healed by then.
        interval: mean seconds between event starts, and mean event length.
        kinds: which event kinds to draw from (`EVENT_KINDS`).
    """
    if duration <= 0 or interval <= 0:
        raise ValueError("duration and interval must be positive")
    kinds = check_event_kinds(kinds)
    ordered = tuple(sorted(names))
    rng = random.Random(seed)
    events: list[ChaosEvent] = []
    at = rng.uniform(0.2, 0.6) * interval
    while at < duration:
        length = min(rng.uniform(0.5, 1.5) * interval, duration - at)
        if length < _MIN_EVENT_S:
            break
        now = _moment(ordered, events, at)
        fitting = [k for k in kinds if now.fits(k)]
        if fitting:
            events.append(_build(rng, len(events) + 1, round(at, 3), round(length, 3), rng.choice(fitting), now))
        at += rng.uniform(0.5, 1.5) * interval
    return tuple(events)


def schedule_steps(schedule: Sequence[ChaosEvent]) -> list[tuple[float, bool, ChaosEvent]]:
    """`(due, healing, event)` for every apply and heal, in time order; at one instant heals go first, so the
    bounds hold while the schedule runs, not only on paper."""
    steps = [(e.at, False, e) for e in schedule] + [(e.heal_at, True, e) for e in schedule]
    return sorted(steps, key=lambda step: (step[0], not step[1], step[2].seq))
