"""Simulated network faults on a node's outbound links (DESIGN §5; mirrors ES `MockTransportService` rules).

Elasticsearch's disruption framework injects faults inside the transport rather than in the network, so that they
can be aimed at one link, one direction and even one action. simcluster does the same, on the **sending** side of
every node-to-node request: a link A→B is a rule held by node A, and a partition is a rule on both sides of every
cut link. Rules name their target by transport address, so they also cover discovery (`send_to_address`).

| kind | precedent | effect on a request that matches |
| --- | --- | --- |
| `disconnect` | ES `NetworkDisconnect`, toxiproxy `reset_peer` | fails at once, as gRPC `UNAVAILABLE` (the transport's `node_disconnected_exception`) |
| `blackhole` | ES `NetworkUnresponsive`, toxiproxy `timeout`, Jepsen partitions | held while the rule lives: fails at the caller's deadline as `DEADLINE_EXCEEDED` (`receive_timeout_transport_exception`) |
| `drop` | Maelstrom `p-loss`, blockade `flaky`, netem `loss` | with `probability`, held like a black hole; otherwise untouched |
| `delay` | ES `NetworkDelay`, toxiproxy `latency`, netem `delay` | sent after `delay ± jitter`; the wait counts against the deadline |

A held request is never lost for good: like bytes that TCP retransmits once a partition heals, it is sent when its
rule is removed or expires, unless its deadline passed first; a request without a deadline waits until then, or
until the transport gives up on the node (`TransportService.disconnect` cancels it when fault detection removes the
node). A delayed request is likewise sent at once when its rule goes away (ES `NetworkDelay#stopDisrupting`).
Several matching rules combine: a disconnect wins, then every hold and every delay must be over.

Expired rules vanish by themselves, so a listing shows only live ones; listeners (`add_listener`) hear of every
rule added, removed, healed or expired, the last when it is noticed. Drops and jitter draw from one seeded
`random.Random` per rule, so a rule given a `seed` makes the same choices for the same sequence of requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from node.common.regex import simple_match
from node.errors import IllegalArgumentError, ResourceNotFoundError

__all__ = ["FaultKind", "FaultRule", "FaultSpec", "FaultsListener", "LinkFaults", "parse_actions"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# `listener(change, rules)`: change is `added`, `removed`, `healed` or `expired`; called on the loop, must not raise.
FaultsListener = Callable[[str, Sequence["FaultRule"]], None]

_GROUP = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_ADDRESS = re.compile(r"[^\s:]+:[0-9]{1,5}")


class FaultKind(enum.StrEnum):
    """What a rule does to a matching request."""

    DISCONNECT = "disconnect"
    BLACKHOLE = "blackhole"
    DROP = "drop"
    DELAY = "delay"


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault as a client asks for it, validated on construction (raises `IllegalArgumentError`).

    Attributes:
        kind: what happens to a matching request.
        target: the transport address (`host:port`) of the receiving node.
        target_name: the receiving node's name, for display only.
        actions: action patterns (`*` wildcards, ES `Regex.simpleMatch`); empty matches every action.
        delay_millis / jitter_millis: for `delay`, each request waits `delay ± jitter` (uniform, never below 0).
        probability: for `drop`, the chance that one request is dropped.
        duration_millis: the rule's lifetime; `None` until removed or healed.
        group: a label shared by the rules of one fault on many nodes (a partition); defaults to the rule's id.
        seed: seeds the rule's random choices (drops, jitter); `None` for a random seed.
    """

    kind: FaultKind
    target: str
    target_name: str = ""
    actions: tuple[str, ...] = ()
    delay_millis: int = 0
    jitter_millis: int = 0
    probability: float = 1.0
    duration_millis: int | None = None
    group: str = ""
    seed: int | None = None

    def __post_init__(self) -> None:
        if not _ADDRESS.fullmatch(self.target):
            raise IllegalArgumentError(f"[target] must be a transport address host:port but was [{self.target}]")
        if self.group and not _GROUP.fullmatch(self.group):
            raise IllegalArgumentError(f"[group] must be 1 to 64 of [A-Za-z0-9_.:-] but was [{self.group}]")
        if any(not pattern for pattern in self.actions):
            raise IllegalArgumentError("[actions] must not contain an empty pattern")
        if self.delay_millis < 0 or self.jitter_millis < 0:
            raise IllegalArgumentError("[delay] and [jitter] must not be negative")
        if self.kind is FaultKind.DELAY and self.delay_millis == 0 and self.jitter_millis == 0:
            raise IllegalArgumentError("a [delay] fault needs a [delay] greater than 0")
        if self.kind is not FaultKind.DELAY and (self.delay_millis or self.jitter_millis):
            raise IllegalArgumentError(f"[delay] and [jitter] apply to [delay] faults, not to [{self.kind}]")
        if not 0.0 <= self.probability <= 1.0:
            raise IllegalArgumentError(f"[probability] must be between 0.0 and 1.0 but was [{self.probability}]")
        if self.kind is not FaultKind.DROP and self.probability != 1.0:
            raise IllegalArgumentError(f"[probability] applies to [drop] faults, not to [{self.kind}]")
        if self.duration_millis is not None and self.duration_millis <= 0:
            raise IllegalArgumentError(f"[duration] must be positive but was [{self.duration_millis}ms]")


@dataclass(slots=True, eq=False)
class FaultRule:
    """One live rule on this node: a spec, an id, a lifetime and its own random source."""

    id: str
    spec: FaultSpec
    created: float
    expires: float | None
    created_wall: float
    rng: random.Random = field(repr=False)
    affected: int = 0

    @property
    def kind(self) -> FaultKind:
        return self.spec.kind

    @property
    def group(self) -> str:
        return self.spec.group or self.id

    def matches(self, address: str, action: str) -> bool:
        if address != self.spec.target:
            return False
        return not self.spec.actions or any(simple_match(p, action) for p in self.spec.actions)

    def live(self, now: float) -> bool:
        return self.expires is None or now < self.expires

    def roll_drop(self) -> bool:
        return self.rng.random() < self.spec.probability

    def sample_delay_seconds(self) -> float:
        jitter = self.spec.jitter_millis
        millis = self.spec.delay_millis + (self.rng.uniform(-jitter, jitter) if jitter else 0.0)
        return max(0.0, millis) / 1000

    def to_json(self, now: float) -> dict[str, Any]:
        """The rule as `GET /_sim/faults` lists it; kind-specific fields only where they apply."""
        spec = self.spec
        out: dict[str, Any] = {
            "id": self.id,
            "group": self.group,
            "kind": spec.kind.value,
            "target": spec.target,
            "target_name": spec.target_name or None,
            "actions": list(spec.actions) or ["*"],
        }
        if spec.kind is FaultKind.DELAY:
            out["delay_millis"] = spec.delay_millis
            out["jitter_millis"] = spec.jitter_millis
        if spec.kind is FaultKind.DROP:
            out["probability"] = spec.probability
        out["created_millis"] = int(self.created_wall * 1000)
        out["expires_in_millis"] = None if self.expires is None else max(0, int((self.expires - now) * 1000))
        out["affected_requests"] = self.affected
        return out


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    # The transport maps gRPC codes to ES transport errors with the node name and request id it knows, so a
    # simulated failure reads exactly like a real one.
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class LinkFaults:
    """The fault rules of one node's outbound links, and the hook every outbound request passes through.

    Args:
        clock: monotonic seconds (injectable for tests).
        wall_clock: epoch seconds, only for display.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._rules: dict[str, FaultRule] = {}
        self._ids = itertools.count(1)
        self._changed: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._listeners: list[FaultsListener] = []

    def add_listener(self, listener: FaultsListener) -> None:
        self._listeners.append(listener)

    # ---- rules ----------------------------------------------------------------------------------------------

    def add(self, spec: FaultSpec) -> FaultRule:
        """Installs a rule and returns it (with its id)."""
        now = self._clock()
        rule_id = str(next(self._ids))
        rule = FaultRule(
            id=rule_id,
            spec=spec,
            created=now,
            expires=None if spec.duration_millis is None else now + spec.duration_millis / 1000,
            created_wall=self._wall_clock(),
            rng=random.Random(spec.seed),
        )
        self._rules[rule_id] = rule
        lifetime = "until healed" if spec.duration_millis is None else f"for {spec.duration_millis}ms"
        log.info(
            "added fault [%s] (group [%s]): %s to [%s][%s] actions %s %s",
            rule.id, rule.group, _describe(spec), spec.target_name, spec.target, list(spec.actions) or ["*"], lifetime,
        )  # fmt: skip
        self._notify("added", [rule])
        return rule

    def rules(self) -> list[FaultRule]:
        """The live rules, oldest first; expired ones are dropped here."""
        self._purge(self._clock())
        return list(self._rules.values())

    def remove(self, ref: str) -> list[FaultRule]:
        """Removes the rule with id `ref`, or every rule of group `ref`.

        Raises:
            ResourceNotFoundError: no live rule has that id or group.
        """
        self._purge(self._clock())
        removed = [r for r in self._rules.values() if r.id == ref or r.group == ref]
        if not removed:
            raise ResourceNotFoundError(f"fault [{ref}] not found")
        for rule in removed:
            del self._rules[rule.id]
        log.info("removed faults %s", [r.id for r in removed])
        self._notify("removed", removed)
        return removed

    def heal(self) -> list[FaultRule]:
        """Removes every rule (toxiproxy `/reset`, blockade `fast`/`join`); returns the live ones it removed."""
        self._purge(self._clock())
        healed = list(self._rules.values())
        self._rules.clear()
        if healed:
            log.info("healed faults %s", [r.id for r in healed])
        self._notify("healed", healed)
        return healed

    def to_json(self) -> list[dict[str, Any]]:
        """Every live rule as `GET /_sim/faults` lists it."""
        now = self._clock()
        return [rule.to_json(now) for rule in self.rules()]

    def render(self, rule: FaultRule) -> dict[str, Any]:
        return rule.to_json(self._clock())

    # ---- the hook -------------------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether any rule is installed (expired ones included until noticed): the transport's fast-path test."""
        return bool(self._rules)

    async def send_through(
        self, address: str, action: str, timeout: float | None, send: Callable[[float | None], Awaitable[T]]
    ) -> T:
        """Applies the rules to one request, then `send(timeout_left)`; see `before_send` for the failures."""
        return await send(await self.before_send(address, action, timeout))

    async def before_send(self, address: str, action: str, timeout: float | None) -> float | None:
        """Applies the rules to one outbound request; returns the timeout left for actually sending it.

        Raises:
            grpc.aio.AioRpcError: `UNAVAILABLE` for a disconnect, `DEADLINE_EXCEEDED` when the request was held
                or delayed past its deadline.
        """
        if not self._rules:
            return timeout
        start = self._clock()
        deadline = None if timeout is None else start + timeout
        dropped: set[str] = set()
        delayed_until: dict[str, float] = {}
        first = True
        waited = False
        while True:
            now = self._clock()
            matching = [r for r in self._live(now) if r.matches(address, action)]
            for rule in matching:
                if rule.kind is FaultKind.DISCONNECT:
                    rule.affected += 1
                    raise _rpc_error(grpc.StatusCode.UNAVAILABLE, f"simulated disconnect (fault [{rule.id}])")
            if first:
                first = False
                dropped = {r.id for r in matching if r.kind is FaultKind.DROP and r.roll_drop()}
                delayed_until = {r.id: now + r.sample_delay_seconds() for r in matching if r.kind is FaultKind.DELAY}
                for rule in matching:
                    if rule.kind is FaultKind.BLACKHOLE or rule.id in dropped or rule.id in delayed_until:
                        rule.affected += 1
            holding = [
                r
                for r in matching
                if r.kind is FaultKind.BLACKHOLE or r.id in dropped or delayed_until.get(r.id, now) > now
            ]
            if deadline is not None and now >= deadline:
                raise _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
            if not holding:
                return timeout if not waited or deadline is None else deadline - now
            wake = [t for t in (deadline, *(r.expires for r in holding)) if t is not None]
            wake += [delayed_until[r.id] for r in holding if r.id in delayed_until]
            waited = True
            await self._wait_for_change(min(wake) - now if wake else None)

    # ---- internals ------------------------------------------------------------------------------------------

    def _live(self, now: float) -> list[FaultRule]:
        self._purge(now)
        return list(self._rules.values())

    def _purge(self, now: float) -> None:
        expired = [rule for rule in self._rules.values() if not rule.live(now)]
        for rule in expired:
            del self._rules[rule.id]
        if expired:
            log.info("faults %s expired", [rule.id for rule in expired])
            self._tell_listeners("expired", expired)

    def _notify(self, change: str, rules: Sequence[FaultRule]) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed[1].set()
        if rules:
            self._tell_listeners(change, rules)

    def _tell_listeners(self, change: str, rules: Sequence[FaultRule]) -> None:
        for listener in self._listeners:
            listener(change, rules)

    async def _wait_for_change(self, timeout: float | None) -> None:
        """Sleeps until a rule is added or removed, or `timeout` seconds (None: only the former) pass."""
        loop = asyncio.get_running_loop()
        if self._changed is None or self._changed[0] is not loop:
            self._changed = (loop, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed[1].wait(), timeout)


def _describe(spec: FaultSpec) -> str:
    if spec.kind is FaultKind.DELAY:
        return f"delay {spec.delay_millis}ms ± {spec.jitter_millis}ms"
    if spec.kind is FaultKind.DROP:
        return f"drop with probability {spec.probability}"
    return spec.kind.value


def parse_actions(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """`"a,b"` or `["a", "b"]` → `("a", "b")`; `None`, `""` and `"*"` match every action (empty tuple)."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    patterns = tuple(item.strip() for item in items if item.strip())
    return () if patterns == ("*",) else patterns
