"""A closed transport: only a holder of the cluster's certificate reaches any action (DESIGN §5, issue 8).

Strangers dial a node's transport port directly, as any local process could: without credentials, with a
certificate from another cluster's CA, and with the cluster's (public) CA certificate but no client certificate.
Every action the node registered is refused at the TLS handshake; no request reaches a handler, no index is deleted,
no task is cancelled. The same envelope sent with the cluster's own certificate does delete the index, so the
refusals are the transport's doing, not a malformed request's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from cluster.credentials import ClusterCredentials
from node.actions.cancel_tasks import CancelTasksRequest
from node.actions.support.wire import request_to_json
from node.common import action_names as names
from node.config import TRANSPORT_TLS_SERVER_NAME, NodeConfig, PortRange
from node.server import Node
from node.tasks.task_id import TaskId
from node.transport.pb import transport_pb2 as pb
from node.transport.pb import transport_pb2_grpc as pb_grpc
from node.transport.tls import SslConfigError, TransportTls
from tests.integration.conftest import InProcessCluster, TestNode

OVERRIDE = [("grpc.ssl_target_name_override", TRANSPORT_TLS_SERVER_NAME)]


def _destructive_payloads(task: TaskId, index: str) -> dict[str, bytes]:
    """What the issue's stranger sent: delete an index, cancel a user's task, ban its children."""
    return {
        names.DELETE_INDEX: pb.MasterRequest(
            body_json=json.dumps({"indices": [index], "ignore_unavailable": False, "allow_no_indices": False})
        ).SerializeToString(),
        names.CANCEL_TASKS_NODE: pb.TasksNodeRequest(
            request_json=request_to_json(CancelTasksRequest(target_task_id=task))
        ).SerializeToString(),
        names.BAN_PARENT: pb.BanParentRequest(
            parent_task_id=str(task), ban=True, reason="stranger"
        ).SerializeToString(),
    }


STRANGER = "stranger"


def _record_strangers(node: TestNode, seen: list[str]) -> None:
    """Records every stranger's envelope that reaches the node's handlers: the one place every action passes.

    The cluster's own traffic (checks, publications, the test task's children) goes on meanwhile and is not counted.
    """
    handle = node.transport.handle_envelope

    async def recording(envelope: pb.TransportRequest) -> pb.TransportResponse:
        if envelope.source_node_id == STRANGER:
            seen.append(envelope.action)
        return await handle(envelope)

    node.transport.handle_envelope = recording  # type: ignore[method-assign]


async def _invoke(channel: grpc.aio.Channel, action: str, payload: bytes) -> grpc.StatusCode | None:
    """The status of one raw `Invoke`; `None` when the node answered (the action ran)."""
    envelope = pb.TransportRequest(action=action, payload=payload, source_node_id=STRANGER)
    try:
        await pb_grpc.TransportStub(channel).Invoke(envelope, timeout=5.0)
    except grpc.aio.AioRpcError as e:
        return e.code()
    return None


def _tls(credentials: ClusterCredentials) -> TransportTls:
    return TransportTls.from_files(
        credentials.transport_key, credentials.transport_certificate, credentials.ca_certificate
    )


async def _create_index(c: InProcessCluster, index: str) -> None:
    status, body = await c.request("node-1", "PUT", f"/{index}")
    assert status == 200, body


async def _running_task(c: InProcessCluster) -> TaskId:
    status, body = await c.post("node-1", "/_sim/tasks?wait_for_completion=false")
    assert status == 200, body
    return TaskId.parse(body["task"])


async def _task_cancelled(c: InProcessCluster, task: TaskId) -> bool:
    status, body = await c.get("node-1", f"/_tasks/{task}")
    assert status == 200 and body["completed"] is False, body
    return bool(body["task"]["cancelled"])


Stranger = Callable[[str, ClusterCredentials, Path], grpc.aio.Channel]


def _without_credentials(address: str, cluster: ClusterCredentials, tmp: Path) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address)


def _with_another_clusters_certificate(address: str, cluster: ClusterCredentials, tmp: Path) -> grpc.aio.Channel:
    other = ClusterCredentials(tmp / "other-cluster")
    other.ensure()
    tls = _tls(other)
    return grpc.aio.secure_channel(address, tls.channel_credentials(), options=OVERRIDE)


def _trusting_the_ca_without_a_certificate(address: str, cluster: ClusterCredentials, tmp: Path) -> grpc.aio.Channel:
    # ca.crt is public; knowing it is not enough to be let in.
    credentials = grpc.ssl_channel_credentials(root_certificates=cluster.ca_certificate.read_bytes())
    return grpc.aio.secure_channel(address, credentials, options=OVERRIDE)


@pytest.mark.parametrize(
    "stranger",
    [_without_credentials, _with_another_clusters_certificate, _trusting_the_ca_without_a_certificate],
    ids=["no-credentials", "another-ca", "ca-only"],
)
async def test_a_stranger_is_refused_every_action_before_it_runs(tmp_path: Path, stranger: Stranger) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        await _create_index(c, "logs")
        task = await _running_task(c)
        seen: list[str] = []
        for node in c.running():
            _record_strangers(node, seen)
        target = c.nodes["node-1"]
        actions = target.transport.registered_actions
        assert {names.DELETE_INDEX, names.CANCEL_TASKS_NODE, names.JOIN, names.PUBLISH_STATE} <= set(actions)
        payloads = _destructive_payloads(task, "logs")

        async with stranger(target.local_node.transport_address, c.credentials, tmp_path) as channel:
            statuses = {action: await _invoke(channel, action, payloads.get(action, b"")) for action in actions}

        assert statuses == dict.fromkeys(actions, grpc.StatusCode.UNAVAILABLE)
        assert seen == []  # no envelope reached a handler: refused at the handshake
        assert (await c.get("node-1", "/logs"))[0] == 200
        assert not await _task_cancelled(c, task)


async def test_the_same_envelope_with_the_clusters_certificate_is_served(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        await _create_index(c, "logs")
        master = next(n for n in c.running() if n.coordinator.is_master)
        payload = _destructive_payloads(TaskId("x", 1), "logs")[names.DELETE_INDEX]
        tls = _tls(c.credentials)
        address = master.local_node.transport_address
        seen: list[str] = []
        _record_strangers(master, seen)
        async with grpc.aio.secure_channel(address, tls.channel_credentials(), options=OVERRIDE) as channel:
            assert await _invoke(channel, names.DELETE_INDEX, payload) is None
        assert seen == [names.DELETE_INDEX]
        assert (await c.get("node-1", "/logs"))[0] == 404


async def test_a_node_without_transport_credentials_refuses_to_start(tmp_path: Path) -> None:
    config = NodeConfig(name="node-1", data_dir=tmp_path, http_port=PortRange(0, 0), transport_port=PortRange(0, 0))
    with pytest.raises(SslConfigError) as refused:
        Node(config)
    assert refused.value.args[0] == (
        "transport TLS is not configured: [xpack.security.transport.ssl.key] is not set; a node needs"
        " [xpack.security.transport.ssl.key], [xpack.security.transport.ssl.certificate],"
        " [xpack.security.transport.ssl.certificate_authorities] to start (`simcluster up` creates them in"
        " <home>/certs)"
    )


async def test_a_key_that_does_not_match_its_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure()
    with pytest.raises(SslConfigError, match=r"cannot use the transport TLS files"):
        TransportTls.from_files(credentials.http_key, credentials.transport_certificate, credentials.ca_certificate)
