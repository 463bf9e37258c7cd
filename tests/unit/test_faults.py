"""Fault rules of a node's outbound links: matching, lifetime, seeded choices, the send hook and the REST body."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest

from node.cluster.state import DiscoveryNode
from node.errors import ElasticsearchError, IllegalArgumentError, ResourceNotFoundError
from node.transport.faults import FaultKind, FaultRule, FaultSpec, LinkFaults, parse_actions
from rest.handlers.faults import parse_body, parse_fault

B = "127.0.0.1:9301"
C = "127.0.0.1:9302"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def until_held(rule: FaultRule) -> None:
    """Waits (on the loop, no clock) until the rule holds a request: the event a held request is."""
    for _ in range(1000):
        if rule.affected:
            return
        await asyncio.sleep(0)
    raise AssertionError("the request was never held")


def spec(kind: FaultKind = FaultKind.BLACKHOLE, target: str = B, **fields: Any) -> FaultSpec:
    return FaultSpec(kind=kind, target=target, **fields)


# ---- matching --------------------------------------------------------------------------------------------------


def test_a_rule_matches_only_its_target_address() -> None:
    rule = LinkFaults().add(spec())
    assert rule.matches(B, "internal:coordination/fault_detection/leader_check")
    assert not rule.matches(C, "internal:coordination/fault_detection/leader_check")


def test_a_rule_without_actions_matches_every_action() -> None:
    rule = LinkFaults().add(spec())
    assert rule.matches(B, "cluster:monitor/tasks/lists[n]")
    assert rule.matches(B, "internal:transport/handshake")


def test_action_patterns_use_es_simple_match_wildcards() -> None:
    rule = LinkFaults().add(spec(actions=("internal:admin/tasks/ban", "cluster:monitor/*[n]")))
    assert rule.matches(B, "internal:admin/tasks/ban")
    assert rule.matches(B, "cluster:monitor/tasks/lists[n]")
    assert not rule.matches(B, "cluster:monitor/tasks/lists")
    assert not rule.matches(B, "internal:admin/tasks/ban[n]")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ()), ("", ()), ("*", ()), ("a,b", ("a", "b")), (" a , ,b ", ("a", "b")), (["x*", "y"], ("x*", "y"))],
)
def test_parse_actions(value: Any, expected: tuple[str, ...]) -> None:
    assert parse_actions(value) == expected


# ---- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target": "node-2"}, "[target] must be a transport address host:port but was [node-2]"),
        ({"kind": FaultKind.DELAY}, "a [delay] fault needs a [delay] greater than 0"),
        ({"delay_millis": 5}, "[delay] and [jitter] apply to [delay] faults, not to [blackhole]"),
        ({"kind": FaultKind.DROP, "probability": 1.5}, "[probability] must be between 0.0 and 1.0 but was [1.5]"),
        ({"probability": 0.5}, "[probability] applies to [drop] faults, not to [blackhole]"),
        ({"duration_millis": 0}, "[duration] must be positive but was [0ms]"),
        ({"group": "a b"}, "[group] must be 1 to 64 of [A-Za-z0-9_.:-] but was [a b]"),
        ({"actions": ("",)}, "[actions] must not contain an empty pattern"),
    ],
)
def test_invalid_specs_are_refused_with_an_illegal_argument(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        spec(**fields)
    assert caught.value.reason == message


# ---- lifetime, removal, heal -----------------------------------------------------------------------------------


def test_rules_get_increasing_ids_and_default_their_group_to_the_id() -> None:
    faults = LinkFaults()
    first, second = faults.add(spec()), faults.add(spec(group="partition-1"))
    assert (first.id, first.group) == ("1", "1")
    assert (second.id, second.group) == ("2", "partition-1")


def test_an_expired_rule_disappears_from_the_listing() -> None:
    clock = FakeClock()
    faults = LinkFaults(clock=clock)
    faults.add(spec(duration_millis=2000))
    faults.add(spec(target=C))
    clock.now += 1.999
    assert len(faults.rules()) == 2
    clock.now += 0.001
    assert [r.spec.target for r in faults.rules()] == [C]


def test_the_listing_shows_the_time_left() -> None:
    clock = FakeClock()
    faults = LinkFaults(clock=clock, wall_clock=lambda: 1700000000.5)
    faults.add(spec(FaultKind.DELAY, delay_millis=200, jitter_millis=50, duration_millis=3000, target_name="node-2"))
    clock.now += 1.0
    assert faults.to_json() == [
        {
            "id": "1",
            "group": "1",
            "kind": "delay",
            "target": B,
            "target_name": "node-2",
            "actions": ["*"],
            "delay_millis": 200,
            "jitter_millis": 50,
            "created_millis": 1700000000500,
            "expires_in_millis": 2000,
            "affected_requests": 0,
        }
    ]


def test_drop_rules_list_their_probability_and_unlimited_rules_no_expiry() -> None:
    listed = LinkFaults().render(LinkFaults().add(spec(FaultKind.DROP, probability=0.25)))
    assert listed["probability"] == 0.25
    assert listed["expires_in_millis"] is None
    assert "delay_millis" not in listed


def test_remove_takes_a_rule_id_or_a_whole_group() -> None:
    faults = LinkFaults()
    faults.add(spec(group="p"))
    faults.add(spec(target=C, group="p"))
    lone = faults.add(spec())
    assert [r.id for r in faults.remove("p")] == ["1", "2"]
    assert [r.id for r in faults.remove(lone.id)] == ["3"]
    assert faults.rules() == []


def test_removing_an_unknown_fault_is_a_resource_not_found() -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        LinkFaults().remove("7")
    assert (caught.value.reason, caught.value.status) == ("fault [7] not found", 404)


def test_heal_removes_every_live_rule() -> None:
    faults = LinkFaults()
    faults.add(spec())
    faults.add(spec(FaultKind.DISCONNECT, target=C))
    assert [r.id for r in faults.heal()] == ["1", "2"]
    assert faults.rules() == [] and not faults.active


# ---- seeded choices --------------------------------------------------------------------------------------------


def test_the_same_seed_drops_the_same_requests() -> None:
    def drops(seed: int) -> list[bool]:
        rule = LinkFaults().add(spec(FaultKind.DROP, probability=0.5, seed=seed))
        return [rule.roll_drop() for _ in range(64)]

    assert drops(7) == drops(7)
    assert drops(7) != drops(8)
    assert 10 < sum(drops(7)) < 54


def test_jitter_stays_within_the_bounds_and_follows_the_seed() -> None:
    def delays(seed: int) -> list[float]:
        rule = LinkFaults().add(spec(FaultKind.DELAY, delay_millis=100, jitter_millis=40, seed=seed))
        return [rule.sample_delay_seconds() for _ in range(200)]

    assert delays(3) == delays(3)
    assert all(0.06 <= d <= 0.14 for d in delays(3))
    assert len(set(delays(3))) > 100


def test_a_jitter_larger_than_the_delay_never_goes_negative() -> None:
    rule = LinkFaults().add(spec(FaultKind.DELAY, delay_millis=10, jitter_millis=100, seed=1))
    assert min(rule.sample_delay_seconds() for _ in range(200)) == 0.0


# ---- the send hook ---------------------------------------------------------------------------------------------


async def test_without_rules_the_timeout_passes_unchanged() -> None:
    assert await LinkFaults().before_send(B, "a", 1.5) == 1.5
    assert await LinkFaults().before_send(B, "a", None) is None


async def test_a_disconnect_fails_at_once_as_unavailable() -> None:
    faults = LinkFaults()
    faults.add(spec(FaultKind.DISCONNECT))
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await faults.before_send(B, "cluster:monitor/tasks/lists[n]", 5.0)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 1.0
    assert faults.rules()[0].affected == 1


async def test_a_blackhole_holds_the_request_until_its_deadline() -> None:
    faults = LinkFaults()
    faults.add(spec())
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await faults.before_send(B, "a", 0.2)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.2 <= time.monotonic() - started < 2.0


async def test_a_held_request_without_deadline_is_sent_once_healed() -> None:
    faults = LinkFaults()
    rule = faults.add(spec())
    held = asyncio.ensure_future(faults.before_send(B, "a", None))
    await until_held(rule)
    assert not held.done()
    faults.heal()
    assert await asyncio.wait_for(held, 1.0) is None


async def test_a_held_request_is_sent_when_its_rule_expires_before_the_deadline() -> None:
    faults = LinkFaults()
    faults.add(spec(duration_millis=100))
    left = await faults.before_send(B, "a", 5.0)
    assert left is not None and 3.0 < left < 4.95


async def test_a_blackhole_on_other_actions_lets_the_request_through() -> None:
    faults = LinkFaults()
    faults.add(spec(actions=("internal:admin/tasks/ban",)))
    assert await faults.before_send(B, "cluster:monitor/tasks/lists[n]", 1.0) == 1.0
    assert await faults.before_send(C, "internal:admin/tasks/ban", 1.0) == 1.0


async def test_a_delay_spends_part_of_the_deadline() -> None:
    faults = LinkFaults()
    faults.add(spec(FaultKind.DELAY, delay_millis=100))
    started = time.monotonic()
    left = await faults.before_send(B, "a", 2.0)
    assert time.monotonic() - started >= 0.1
    assert left is not None and left <= 1.9


async def test_a_delay_longer_than_the_deadline_times_out() -> None:
    faults = LinkFaults()
    faults.add(spec(FaultKind.DELAY, delay_millis=5000))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await faults.before_send(B, "a", 0.1)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_removing_a_delay_sends_the_delayed_request_at_once() -> None:
    faults = LinkFaults()
    rule = faults.add(spec(FaultKind.DELAY, delay_millis=60_000))
    delayed = asyncio.ensure_future(faults.before_send(B, "a", None))
    await until_held(rule)
    faults.remove(rule.id)
    assert await asyncio.wait_for(delayed, 1.0) is None


async def test_a_drop_with_probability_zero_never_drops() -> None:
    faults = LinkFaults()
    faults.add(spec(FaultKind.DROP, probability=0.0))
    for _ in range(20):
        assert await faults.before_send(B, "a", 1.0) == 1.0


async def test_a_certain_drop_holds_like_a_blackhole() -> None:
    faults = LinkFaults()
    faults.add(spec(FaultKind.DROP, probability=1.0))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await faults.before_send(B, "a", 0.1)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_disconnect_added_while_a_request_is_held_fails_it_at_once() -> None:
    faults = LinkFaults()
    faults.add(spec())
    held = asyncio.ensure_future(faults.before_send(B, "a", 30.0))
    await asyncio.sleep(0.05)
    faults.add(spec(FaultKind.DISCONNECT))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(held, 1.0)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_cancelling_a_held_request_cancels_the_wait() -> None:
    faults = LinkFaults()
    faults.add(spec())
    held = asyncio.ensure_future(faults.before_send(B, "a", None))
    await asyncio.sleep(0.02)
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held


# ---- the REST body ---------------------------------------------------------------------------------------------

NODE_2 = DiscoveryNode(
    id="n2", name="node-2", ephemeral_id="e2", host="127.0.0.1", transport_address=B, http_address="", roles=()
)


def lookup(name_or_address: str) -> DiscoveryNode | None:
    return NODE_2 if name_or_address in ("node-2", B) else None


def test_a_full_body_becomes_a_spec() -> None:
    body = {
        "kind": "delay", "target": B, "actions": "internal:*,cluster:*", "delay": "250ms", "jitter": "1s",
        "duration": "2m", "group": "g-1", "seed": 42,
    }  # fmt: skip
    assert parse_fault(body, lookup) == FaultSpec(
        kind=FaultKind.DELAY,
        target=B,
        target_name="node-2",
        actions=("internal:*", "cluster:*"),
        delay_millis=250,
        jitter_millis=1000,
        duration_millis=120_000,
        group="g-1",
        seed=42,
    )


def test_a_node_name_target_resolves_to_its_transport_address() -> None:
    parsed = parse_fault({"kind": "blackhole", "target": "node-2"}, lookup)
    assert (parsed.target, parsed.target_name) == (B, "node-2")


def test_an_address_outside_the_cluster_state_is_accepted_without_a_name() -> None:
    parsed = parse_fault({"kind": "disconnect", "target": C, "duration": "-1"}, lookup)
    assert (parsed.target, parsed.target_name, parsed.duration_millis) == (C, "", None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "blackhole"}, "[target] is required"),
        ({"target": B}, "[kind] is required"),
        ({"kind": "smoke", "target": B}, "[kind] must be one of [disconnect, blackhole, drop, delay] but was [smoke]"),
        ({"kind": "drop", "target": B, "probabilty": 0.5}, "[fault] unknown field [probabilty]"),
        ({"kind": "drop", "target": "node-9"}, "[target] names no node of the cluster: [node-9]"),
        ({"kind": "drop", "target": B, "probability": "half"}, '[probability] must be a number but was ["half"]'),
        (
            {"kind": "delay", "target": B, "delay": 500},
            "failed to parse setting [delay] with value [500] as a time value: unit is missing or unrecognized",
        ),
        ({"kind": "delay", "target": B, "delay": [1]}, "[delay] must be a time value such as [500ms] but was [[1]]"),
        (
            {"kind": "blackhole", "target": B, "actions": [1]},
            "[actions] must be a string or a list of strings but was [[1]]",
        ),
        ({"kind": "blackhole", "target": B, "seed": "x"}, '[seed] must be an integer but was ["x"]'),
        ({"kind": 3, "target": B}, "[kind] must be a string but was [3]"),
    ],
)
def test_bad_bodies_are_illegal_arguments(body: dict[str, Any], message: str) -> None:
    with pytest.raises(IllegalArgumentError) as caught:
        parse_fault(body, lookup)
    assert caught.value.reason == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"", "request body is required"), (b"[1]", "request body must be a JSON object")],
)
def test_a_missing_or_non_object_body_is_a_parse_exception(raw: bytes, message: str) -> None:
    with pytest.raises(ElasticsearchError) as caught:
        parse_body(raw)
    assert (caught.value.es_type, caught.value.reason, caught.value.status) == ("parse_exception", message, 400)


def test_malformed_json_is_a_parse_exception() -> None:
    with pytest.raises(ElasticsearchError) as caught:
        parse_body(b"{kind")
    assert caught.value.es_type == "parse_exception"
    assert caught.value.reason.startswith("Failed to parse content to map: ")
