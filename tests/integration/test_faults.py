"""Simulated network faults with whole nodes in one event loop: each kind's effect on `send_request`, the REST API.

Rules that could trip fault detection are aimed at the tasks actions only (`actions`), so the cluster stays formed
and each test sees exactly one effect.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest

from node.actions.list_tasks import ListTasksRequest
from node.actions.support.wire import request_to_json
from node.common.action_names import LIST_TASKS_NODE, NODES_INFO_NODE
from node.errors import NodeDisconnectedError, ReceiveTimeoutTransportError
from node.transport.faults import FaultKind, FaultSpec
from node.transport.pb import transport_pb2 as pb
from tests.integration.conftest import InProcessCluster, TestNode

TASKS_ACTIONS = ("cluster:monitor/tasks/*",)
LIST_REQUEST = pb.TasksNodeRequest(request_json=request_to_json(ListTasksRequest()))


def add(source: TestNode, target: TestNode, kind: FaultKind, **fields: Any) -> None:
    fields.setdefault("actions", TASKS_ACTIONS)
    source.faults.add(FaultSpec(kind=kind, target=target.local_node.transport_address, **fields))


async def list_on(source: TestNode, target: TestNode, timeout: float | None) -> pb.TasksNodeResponse:
    return await source.transport.send_request(
        target.state.nodes[target.node_id], LIST_TASKS_NODE, LIST_REQUEST, timeout=timeout
    )


async def test_a_disconnect_fails_the_request_at_once_like_a_closed_connection(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.DISCONNECT)
        started = time.monotonic()
        with pytest.raises(NodeDisconnectedError) as caught:
            await list_on(one, two, timeout=10.0)
        assert time.monotonic() - started < 2.0
        address = two.local_node.transport_address
        assert caught.value.reason == f"[node-2][{address}][{LIST_TASKS_NODE}] disconnected"


async def test_a_blackhole_times_out_with_the_transports_own_error(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.BLACKHOLE)
        started = time.monotonic()
        with pytest.raises(ReceiveTimeoutTransportError) as caught:
            await list_on(one, two, timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 3.0
        address = re.escape(two.local_node.transport_address)
        assert re.fullmatch(
            rf"\[node-2\]\[{address}\]\[{re.escape(LIST_TASKS_NODE)}\] request_id \[\d+\] timed out after \[300ms\]",
            caught.value.reason,
        )


async def test_a_request_held_without_deadline_is_answered_once_healed(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.BLACKHOLE)
        held = asyncio.ensure_future(list_on(one, two, timeout=None))
        await c.wait_until(lambda: one.faults.rules()[0].affected == 1, what="the request to be held")
        assert not held.done()
        one.faults.heal()
        response = await asyncio.wait_for(held, 5.0)
        assert isinstance(response, pb.TasksNodeResponse)


async def test_disconnecting_the_node_fails_a_held_request(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.BLACKHOLE)
        held = asyncio.ensure_future(list_on(one, two, timeout=None))
        await c.wait_until(lambda: one.faults.rules()[0].affected == 1, what="the request to be held")
        one.transport.disconnect(one.state.nodes[two.node_id])
        with pytest.raises(NodeDisconnectedError):
            await asyncio.wait_for(held, 5.0)


async def test_a_delay_slows_the_request_down(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.DELAY, delay_millis=300)
        started = time.monotonic()
        await list_on(one, two, timeout=5.0)
        assert time.monotonic() - started >= 0.3


async def test_a_certain_drop_times_out_and_an_impossible_one_never_does(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        one, two, three = c.nodes["node-1"], c.nodes["node-2"], c.nodes["node-3"]
        add(one, two, FaultKind.DROP, probability=1.0)
        add(one, three, FaultKind.DROP, probability=0.0)
        with pytest.raises(ReceiveTimeoutTransportError):
            await list_on(one, two, timeout=0.2)
        for _ in range(5):
            await list_on(one, three, timeout=2.0)


async def test_a_rule_affects_only_its_direction_and_its_actions(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.DISCONNECT)
        await list_on(two, one, timeout=2.0)  # the other direction
        await one.transport.send_request(  # another action on the same link
            one.state.nodes[two.node_id], NODES_INFO_NODE, pb.NodesInfoNodeRequest(), timeout=2.0
        )


async def test_rules_aimed_at_an_address_cover_discovery_too(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        add(one, two, FaultKind.DISCONNECT, actions=("internal:transport/handshake",))
        request = pb.HandshakeRequest(cluster_name="simcluster", sender=one.local_node.to_proto())
        with pytest.raises(NodeDisconnectedError):
            await one.transport.send_to_address(
                two.local_node.transport_address, "internal:transport/handshake", request, timeout=2.0
            )


async def test_a_fan_out_reports_a_black_holed_node_within_the_request_timeout(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        one, three = c.nodes["node-1"], c.nodes["node-3"]
        add(one, three, FaultKind.BLACKHOLE)
        started = time.monotonic()
        status, body = await c.get("node-1", "/_tasks?timeout=500ms")
        assert time.monotonic() - started < 3.0
        assert status == 200
        (failure,) = body["node_failures"]
        assert failure["node_id"] == three.node_id
        assert failure["caused_by"]["type"] == "receive_timeout_transport_exception"
        assert set(body["nodes"]) == {c.nodes["node-1"].node_id, c.nodes["node-2"].node_id}


# ---- the REST API ----------------------------------------------------------------------------------------------


async def test_faults_are_added_listed_and_removed_over_rest(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        two = c.nodes["node-2"]
        status, added = await c.post(
            "node-1", "/_sim/faults",
            json={"kind": "delay", "target": "node-2", "delay": "100ms", "duration": "1m", "group": "slow"},
        )  # fmt: skip
        assert status == 200 and added["acknowledged"] is True
        fault = added["fault"]
        assert (fault["id"], fault["group"], fault["kind"]) == ("1", "slow", "delay")
        assert (fault["target"], fault["target_name"]) == (two.local_node.transport_address, "node-2")
        assert fault["delay_millis"] == 100 and 0 < fault["expires_in_millis"] <= 60_000

        status, listed = await c.get("node-1", "/_sim/faults")
        assert status == 200 and listed["node"] == "node-1"
        assert [f["id"] for f in listed["faults"]] == ["1"]
        assert await c.get("node-2", "/_sim/faults") == (200, {"node": "node-2", "faults": []})

        assert await c.delete("node-1", "/_sim/faults/slow") == (200, {"acknowledged": True, "removed": ["1"]})
        assert (await c.get("node-1", "/_sim/faults"))[1]["faults"] == []


async def test_heal_removes_every_rule_of_the_node(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        for kind in ("blackhole", "disconnect"):
            body = {"kind": kind, "target": "node-2", "actions": list(TASKS_ACTIONS)}
            assert (await c.post("node-1", "/_sim/faults", json=body))[0] == 200
        assert await c.post("node-1", "/_sim/faults/_heal") == (200, {"acknowledged": True, "healed": ["1", "2"]})
        assert not c.nodes["node-1"].faults.active


async def test_a_bad_fault_is_answered_with_an_es_error(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 1) as c:
        status, body = await c.post("node-1", "/_sim/faults", json={"kind": "blackhole", "target": "node-7"})
        assert status == 400
        assert body["error"]["type"] == "illegal_argument_exception"
        assert body["error"]["reason"] == "[target] names no node of the cluster: [node-7]"
        assert body["error"]["root_cause"][0]["type"] == "illegal_argument_exception"
        status, body = await c.request("node-1", "POST", "/_sim/faults", b"", content_type="application/json")
        assert (status, body["error"]["type"], body["error"]["reason"]) == (
            400, "parse_exception", "request body is required"
        )  # fmt: skip


async def test_a_fault_aimed_at_the_node_itself_is_refused(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 1) as c:
        status, body = await c.post("node-1", "/_sim/faults", json={"kind": "disconnect", "target": "node-1"})
        address = c.nodes["node-1"].local_node.transport_address
        assert (status, body["error"]["reason"]) == (
            400,
            f"[target] must be another node, not this node itself [{address}]",
        )


async def test_removing_an_unknown_fault_is_a_404(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 1) as c:
        status, body = await c.delete("node-1", "/_sim/faults/9")
        assert status == 404
        assert (body["error"]["type"], body["error"]["reason"]) == (
            "resource_not_found_exception",
            "fault [9] not found",
        )


async def test_unknown_parameters_are_rejected_as_es_does(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 1) as c:
        status, body = await c.get("node-1", "/_sim/faults?verbose")
        assert status == 400
        assert body["error"]["reason"] == "request [/_sim/faults] contains unrecognized parameter: [verbose]"
