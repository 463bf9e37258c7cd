"""A closed cluster, with real node processes and the credentials `simcluster up` creates in each home (issue 8).

- a process that only knows a node's transport port gets nothing: every action is refused at the TLS handshake;
- a node started without transport credentials refuses to start;
- a second cluster with the same name, in another home, whose seed hosts point at the first cluster's nodes (what
  shifted default ports do), forms on its own: neither cluster lists the other's nodes or votes with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from node.actions.cancel_tasks import CancelTasksRequest
from node.actions.support.wire import request_to_json
from node.common import action_names as names
from node.coordination.coordination_state import PersistedCoordination
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb
from node.transport.pb import transport_pb2_grpc as pb_grpc
from tests.e2e.conftest import ClusterFactory
from tests.support.http import call
from tests.support.nodes import node_id, url

pytestmark = pytest.mark.e2e

# Every action name the code knows, `[n]` children included: the stranger tries them all.
ACTIONS = sorted(
    {value for key, value in vars(names).items() if key.isupper() and isinstance(value, str) and ":" in value}
)


def _stranger_statuses(address: str, payloads: dict[str, bytes]) -> dict[str, grpc.StatusCode | None]:
    """A raw `Invoke` of every action over a channel without credentials; `None` where the node answered."""

    async def invoke_all() -> dict[str, grpc.StatusCode | None]:
        statuses: dict[str, grpc.StatusCode | None] = {}
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.TransportStub(channel)
            for action in ACTIONS:
                envelope = pb.TransportRequest(action=action, payload=payloads.get(action, b""))
                try:
                    await stub.Invoke(envelope, timeout=5.0)
                    statuses[action] = None
                except grpc.aio.AioRpcError as e:
                    statuses[action] = e.code()
        return statuses

    return asyncio.run(invoke_all())


def test_a_process_knowing_the_transport_port_is_refused_every_action(fresh_cluster3: LocalCluster) -> None:
    base = url(fresh_cluster3, "node-1")
    assert call(base, "PUT", "/logs").status == 200
    task = call(base, "POST", "/_sim/tasks?wait_for_completion=false").json["task"]
    delete = {"indices": ["logs"], "ignore_unavailable": False, "allow_no_indices": False}
    payloads = {
        names.DELETE_INDEX: pb.MasterRequest(body_json=json.dumps(delete)).SerializeToString(),
        names.CANCEL_TASKS_NODE: pb.TasksNodeRequest(
            request_json=request_to_json(CancelTasksRequest(target_task_id=TaskId.parse(task)))
        ).SerializeToString(),
    }
    for name in fresh_cluster3.names:
        address = fresh_cluster3.node(name).transport_address
        assert address is not None
        assert _stranger_statuses(address, payloads) == dict.fromkeys(ACTIONS, grpc.StatusCode.UNAVAILABLE)

    assert call(base, "GET", "/logs").status == 200
    running = call(base, "GET", f"/_tasks/{task}").json
    assert running["completed"] is False and running["task"]["cancelled"] is False
    assert call(base, "POST", f"/_tasks/{task}/_cancel").status == 200


def test_a_node_without_transport_credentials_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "node", "--name", "node-1", "--data-dir", str(tmp_path / "node-1"),
         "--http-port", "0", "--transport-port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: transport TLS is not configured: [xpack.security.transport.ssl.key] is not set; a node needs"
        " [xpack.security.transport.ssl.key], [xpack.security.transport.ssl.certificate],"
        " [xpack.security.transport.ssl.certificate_authorities] to start (`simcluster up` creates them in"
        " <home>/certs)"
    )
    assert "ready" not in result.stdout


def _members(cluster: LocalCluster, name: str) -> dict[str, str]:
    """Node id → name, as one node of `cluster` lists its cluster."""
    nodes = call(url(cluster, name), "GET", "/_nodes").json["nodes"]
    return {node_id_: node["name"] for node_id_, node in nodes.items()}


def _voting_config(cluster: LocalCluster, name: str) -> frozenset[str]:
    """The voting configuration a node last accepted, read (read-only) from its data directory."""
    database = cluster.node(name).data_dir / "node.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (value,) = connection.execute("SELECT value FROM meta WHERE key = 'coordination'").fetchone()
    return PersistedCoordination.from_json(json.loads(value)).last_accepted.voting_config


def test_a_second_cluster_seeded_with_the_first_ones_nodes_stays_separate(cluster_factory: ClusterFactory) -> None:
    first = cluster_factory(3)
    seeds = tuple(r.transport_address for r in first.nodes if r.transport_address)
    second = cluster_factory(3, node_defaults={**FAST_FAILURE_DETECTION, "seed_hosts": seeds})

    for cluster in (first, second):
        ids = {node_id(cluster, name): name for name in cluster.names}
        assert sorted(ids.values()) == ["node-1", "node-2", "node-3"]
        for name in cluster.names:
            assert _members(cluster, name) == ids
            assert _voting_config(cluster, name) == frozenset(ids)
    uuids = {call(url(c, "node-1"), "GET", "/").json["cluster_uuid"] for c in (first, second)}
    assert len(uuids) == 2
    assert first.credentials.ca_certificate.read_bytes() != second.credentials.ca_certificate.read_bytes()


def _free_port_block(size: int) -> int:
    """A port from which `size` consecutive ports are free now."""
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + size > 65535:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + size):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {size} consecutive free ports")


def test_a_second_cluster_started_on_the_same_ports_forms_beside_the_first(cluster_factory: ClusterFactory) -> None:
    """The second cluster's nodes move to the next free ports and seed each other there, not the first cluster's
    nodes on the ports they preferred: both clusters form, each of its own three nodes."""
    http_base, transport_base = _free_port_block(8), _free_port_block(8)
    first = cluster_factory(3, http_port=http_base, transport_port=transport_base)
    second = cluster_factory(3, http_port=http_base, transport_port=transport_base)

    first_ports = {r.transport_address for r in first.nodes}
    second_ports = {r.transport_address for r in second.nodes}
    assert first_ports.isdisjoint(second_ports)
    for cluster in (first, second):
        ids = {node_id(cluster, name): name for name in cluster.names}
        assert sorted(ids.values()) == ["node-1", "node-2", "node-3"]
        for name in cluster.names:
            assert _members(cluster, name) == ids
    uuids = {call(url(c, "node-1"), "GET", "/").json["cluster_uuid"] for c in (first, second)}
    assert len(uuids) == 2
