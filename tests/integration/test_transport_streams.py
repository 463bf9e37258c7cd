"""Requests multiplexed over one stream per peer behave as one gRPC call each did (node/transport/connection.py).

A request that its caller stops waiting for — its deadline passed, its caller was cancelled — is cancelled on the
peer, so the peer's task goes away; requests in flight to a node that stops fail as a disconnection; many requests
in flight at once share the stream and each gets its own answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from node.common.action_names import TEST_TASK_NODE
from node.errors import NodeDisconnectedError, ReceiveTimeoutTransportError
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from tests.integration.conftest import InProcessCluster, TestNode

WORK_UNTIL_CANCELLED = pb.TestTaskNodeRequest(duration_millis=-1, cancellable=True, check_interval_millis=10)


def running_children(node: TestNode) -> list[Task]:
    return [t for t in node.transport.task_manager.tasks() if t.action == TEST_TASK_NODE]


async def send_work(source: TestNode, target: TestNode, timeout: float | None) -> pb.TestTaskNodeResponse:
    return await source.transport.send_request(
        target.state.nodes[target.node_id], TEST_TASK_NODE, WORK_UNTIL_CANCELLED, timeout=timeout
    )


async def test_a_request_past_its_deadline_times_out_and_is_cancelled_on_the_peer(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        with pytest.raises(ReceiveTimeoutTransportError) as caught:
            await send_work(one, two, timeout=0.3)
        address = re.escape(two.local_node.transport_address)
        assert re.fullmatch(
            rf"\[node-2\]\[{address}\]\[{re.escape(TEST_TASK_NODE)}\] request_id \[\d+\] timed out after \[300ms\]",
            caught.value.reason,
        )
        await c.wait_until(lambda: not running_children(two), what="the peer's task to be cancelled")


async def test_a_caller_that_stops_waiting_cancels_the_request_on_the_peer(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        caller = asyncio.ensure_future(send_work(one, two, timeout=None))
        await c.wait_until(lambda: len(running_children(two)) == 1, what="the request to reach the peer")
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await c.wait_until(lambda: not running_children(two), what="the peer's task to be cancelled")


async def test_requests_in_flight_fail_as_disconnected_when_the_peer_stops(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        calls = [asyncio.ensure_future(send_work(one, two, timeout=None)) for _ in range(3)]
        await c.wait_until(lambda: len(running_children(two)) == 3, what="the requests to reach the peer")
        await two.stop()
        for call in calls:
            with pytest.raises(NodeDisconnectedError):
                await asyncio.wait_for(call, 5.0)


async def test_concurrent_requests_share_one_connection_and_each_gets_its_own_answer(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        one, two = c.nodes["node-1"], c.nodes["node-2"]
        connections = one.transport.stats.outbound_connections
        target = one.state.nodes[two.node_id]
        request = pb.TestTaskNodeRequest(duration_millis=1, cancellable=True, check_interval_millis=1)
        responses = await asyncio.gather(
            *(one.transport.send_request(target, TEST_TASK_NODE, request, timeout=10.0) for _ in range(200))
        )
        # Every answer names the task its own request registered on the peer.
        assert len({json.loads(r.result_json)["task"] for r in responses}) == 200
        assert one.transport.stats.outbound_connections == connections
