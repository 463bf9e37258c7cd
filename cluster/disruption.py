"""Network disruptions as sets of directed links between node names (mirrors ES `NetworkDisruption`).

ES's test framework builds a disruption from a set of disrupted links (`TwoPartitions`, `Bridge`, `IsolateAllNodes`)
and a link disruption type (disconnect, unresponsive, delay). simcluster does the same: the functions here are
pure and turn a shape into the directed links `source → target` to disrupt; `cluster.fault_client` then installs one
rule per link on its source node. Partitions are symmetric, so they list both directions of every cut link.

Shapes, after Jepsen's grudges and blockade's `partition`:

* `partition(sides)`: no link between nodes of different sides; nodes named on no side form one more side
  (as in blockade), so `partition [node-1]` on a 3-node cluster is `node-1 | node-2,node-3`;
* `isolate(name)`: one node alone against all the others (Jepsen `:one`);
* `bridge(a, name, b)`: two sides that cannot talk to each other, and one node that talks to both (Jepsen
  `bridge`, ES `Bridge`);
* `link(source, target)`: one direction of one link (or both), for delays, drops and one-way faults.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cluster.errors import FaultError, UnknownNodeError

__all__ = ["Link", "bridge", "describe_sides", "isolate", "link", "parse_side", "partition"]


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """One direction of one link: requests from `source` to `target`."""

    source: str
    target: str


def parse_side(text: str, names: Sequence[str]) -> tuple[str, ...]:
    """`"node-1,node-2"` → `("node-1", "node-2")`, checking every name against the cluster's."""
    side = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not side:
        raise FaultError(f"empty side [{text}]: name one or more nodes, separated by commas")
    for name in side:
        _check_known(name, names)
    return side


def _check_known(name: str, names: Sequence[str]) -> None:
    if name not in names:
        raise UnknownNodeError(f"no node named [{name}]; the cluster has {', '.join(names)}")


def _cut(sides: Sequence[Sequence[str]]) -> tuple[Link, ...]:
    return tuple(
        sorted(
            Link(source, target)
            for i, side in enumerate(sides)
            for j, other in enumerate(sides)
            if i != j
            for source in side
            for target in other
        )
    )


def partition(sides: Sequence[Sequence[str]], names: Sequence[str]) -> tuple[Link, ...]:
    """Every link between nodes of different sides, both directions; unnamed nodes form one more side."""
    seen: dict[str, int] = {}
    for index, side in enumerate(sides):
        for name in side:
            _check_known(name, names)
            if name in seen and seen[name] != index:
                raise FaultError(f"[{name}] is on two sides of the partition")
            seen[name] = index
    rest = tuple(name for name in names if name not in seen)
    all_sides = [tuple(side) for side in sides if side] + ([rest] if rest else [])
    if len(all_sides) < 2:
        raise FaultError("a partition needs at least two sides; the nodes not named form one more side")
    return _cut(all_sides)


def isolate(name: str, names: Sequence[str]) -> tuple[Link, ...]:
    """`name` cut off from every other node, both directions."""
    _check_known(name, names)
    return partition([[name]], names)


def bridge(side_a: Sequence[str], middle: str, side_b: Sequence[str], names: Sequence[str]) -> tuple[Link, ...]:
    """`side_a` and `side_b` cut from each other; `middle` connected to both; nodes named nowhere join side b."""
    _check_known(middle, names)
    for name in (*side_a, *side_b):
        _check_known(name, names)
    if middle in side_a or middle in side_b:
        raise FaultError(f"the bridge node [{middle}] must not be on either side")
    overlap = sorted(set(side_a) & set(side_b))
    if overlap:
        raise FaultError(f"[{overlap[0]}] is on both sides of the bridge")
    rest = [n for n in names if n != middle and n not in side_a and n not in side_b]
    full_b = (*side_b, *rest)
    if not side_a or not full_b:
        raise FaultError("a bridge needs a node on each side")
    return _cut([tuple(side_a), full_b])


def link(source: str, target: str, names: Sequence[str], *, both: bool = False) -> tuple[Link, ...]:
    """The link `source → target` (and `target → source` with `both`)."""
    _check_known(source, names)
    _check_known(target, names)
    if source == target:
        raise FaultError(f"a link needs two different nodes, got [{source}] twice")
    return (Link(source, target), Link(target, source)) if both else (Link(source, target),)


def describe_sides(sides: Iterable[Sequence[str]]) -> str:
    """`node-1 | node-2,node-3`, the way the CLI prints a partition."""
    return " | ".join(",".join(side) for side in sides)
