"""`cluster:monitor/nodes/info` and its `[n]` action: what `GET /_nodes` and client sniffing read.

Every node describes itself; the coordinating node fans out like ES `TransportNodesInfoAction`, so the request
leaves the same task tree as in ES.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.support.nodes_action import TransportNodesAction
from node.cluster.state import DiscoveryNode
from node.common.action_names import NODES_INFO
from node.common.time_value import TimeValue
from node.config import NodeConfig
from node.errors import FailedNodeError
from node.monitor.info import aggregations_info, jvm_info, thread_pool_info, total_indexing_buffer
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = [
    "ALLOWED_METRICS",
    "NodesInfoAction",
    "NodesInfoRequest",
    "NodesInfoResponse",
    "build_hash",
    "local_node_info",
]

ALLOWED_METRICS = (
    "settings",
    "os",
    "process",
    "jvm",
    "thread_pool",
    "transport",
    "http",
    "remote_cluster_server",
    "plugins",
    "ingest",
    "aggregations",
    "indices",
)


def build_hash(version: str) -> str:
    """A stable 40-hex build hash per reported version, in the shape of ES's git hashes."""
    return hashlib.sha1(f"simcluster {version}".encode()).hexdigest()


def _process_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def local_node_info(
    config: NodeConfig, node: DiscoveryNode, metrics: Sequence[str], started_at_millis: int
) -> dict[str, Any]:
    """This node's entry of a nodes-info response, limited to `metrics` (every one for `_all`; none for an empty
    list, as ES answers `/_nodes/_master/_none`), in ES `NodeInfo#toXContent`'s order."""
    wanted = set(ALLOWED_METRICS) if "_all" in metrics else set(metrics)
    info: dict[str, Any] = {
        "name": node.name,
        "transport_address": node.transport_address,
        "host": node.host,
        "ip": node.ip,
        "version": node.version,
        "build_flavor": "default",
        "build_type": "tar",
        "build_hash": build_hash(node.version),
    }
    if "indices" in wanted:  # ES sets the indexing buffer only when the `indices` metric is asked for
        info["total_indexing_buffer_in_bytes"] = total_indexing_buffer()
    info["roles"] = sorted(node.roles)
    info["attributes"] = dict(node.attributes)
    if "settings" in wanted:
        info["settings"] = {
            "cluster": {"name": config.cluster_name},
            "node": {"name": node.name, "attr": dict(node.attributes), "roles": sorted(node.roles)},
            "path": {"data": [str(config.data_dir)], "logs": str(config.log_path.parent)},
            "discovery": {"seed_hosts": list(config.seed_hosts)},
            "http": {"port": str(config.http_port)},
            "transport": {"port": str(config.transport_port)},
        }
    if "os" in wanted:
        info["os"] = {
            "refresh_interval_in_millis": 1000,
            "name": platform.system(),
            "pretty_name": platform.platform(),
            "arch": platform.machine(),
            "version": platform.release(),
            "available_processors": os.cpu_count() or 1,
            "allocated_processors": os.cpu_count() or 1,
        }
    if "process" in wanted:
        info["process"] = {
            "refresh_interval_in_millis": 1000,
            "id": os.getpid(),
            "mlockall": False,
            "start_time_in_millis": started_at_millis,
            "python": sys.version.split()[0],
            "resident_memory_in_bytes": _process_rss_bytes(),
        }
    if "jvm" in wanted:
        info["jvm"] = jvm_info(started_at_millis)
    if "thread_pool" in wanted:
        info["thread_pool"] = thread_pool_info()
    if "transport" in wanted:
        info["transport"] = {
            "bound_address": [node.transport_address],
            "publish_address": node.transport_address,
            "profiles": {},
        }
    if "http" in wanted:
        info["http"] = {
            "bound_address": [node.http_address],
            "publish_address": node.http_address,
            "max_content_length_in_bytes": 104857600,
        }
    if "plugins" in wanted:
        info["plugins"] = []
        info["modules"] = []
    if "ingest" in wanted:
        info["ingest"] = {"processors": []}
    if "aggregations" in wanted:
        info["aggregations"] = aggregations_info()
    return info


@dataclass(frozen=True, slots=True)
class NodesInfoRequest:
    nodes: Sequence[str] = ()
    metrics: Sequence[str] = ("_all",)
    timeout: TimeValue | None = None


@dataclass(slots=True)
class NodesInfoResponse:
    infos: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


class NodesInfoAction(
    TransportNodesAction[NodesInfoRequest, NodesInfoResponse, pb.NodesInfoNodeRequest, pb.NodesInfoNodeResponse]
):
    name = NODES_INFO
    node_request_type = pb.NodesInfoNodeRequest
    node_response_type = pb.NodesInfoNodeResponse

    def new_node_request(self, request: NodesInfoRequest) -> pb.NodesInfoNodeRequest:
        return pb.NodesInfoNodeRequest(metrics=list(request.metrics))

    async def node_operation(self, task: Task, request: pb.NodesInfoNodeRequest) -> pb.NodesInfoNodeResponse:
        info = local_node_info(
            self.services.config, self.local_node, list(request.metrics), self.services.started_at_millis
        )
        return pb.NodesInfoNodeResponse(info_json=json.dumps(info))

    def new_response(
        self,
        request: NodesInfoRequest,
        responses: Mapping[str, pb.NodesInfoNodeResponse],
        failures: list[FailedNodeError],
    ) -> NodesInfoResponse:
        return NodesInfoResponse({n: json.loads(r.info_json) for n, r in responses.items()}, failures)
