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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.names import NODES_INFO_NODE
from node.actions.node_selector import resolve_nodes
from node.config import NodeConfig
from node.coordination.state import ClusterState, DiscoveryNode
from node.errors import FailedNodeError
from node.tasks.manager import TaskManager
from node.tasks.task import Task
from node.transport.fan_out import fan_out
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["ALLOWED_METRICS", "NodesInfoAction", "NodesInfoResult", "build_hash", "local_node_info"]

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
    """This node's entry of a nodes-info response, limited to `metrics` (`_all` when empty)."""
    wanted = set(metrics) if metrics and "_all" not in metrics else set(ALLOWED_METRICS)
    info: dict[str, Any] = {
        "name": node.name,
        "transport_address": node.transport_address,
        "host": node.host,
        "ip": node.ip,
        "version": node.version,
        "build_flavor": "default",
        "build_type": "tar",
        "build_hash": build_hash(node.version),
        "roles": sorted(node.roles),
        "attributes": dict(node.attributes),
    }
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
    return info


@dataclass(slots=True)
class NodesInfoResult:
    infos: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[FailedNodeError] = field(default_factory=list)


class NodesInfoAction:
    def __init__(
        self,
        transport: TransportService,
        task_manager: TaskManager,
        cluster_state: Callable[[], ClusterState],
        local_node_id: str,
        local_info: Callable[[Sequence[str]], dict[str, Any]],
    ) -> None:
        self._transport = transport
        self._task_manager = task_manager
        self._cluster_state = cluster_state
        self._local_node_id = local_node_id
        self._local_info = local_info
        transport.register_action(
            NODES_INFO_NODE, pb.NodesInfoNodeRequest, pb.NodesInfoNodeResponse, self._node_operation, cancellable=True
        )

    async def execute(
        self, task: Task, selectors: Sequence[str], metrics: Sequence[str], timeout: float | None
    ) -> NodesInfoResult:
        state = self._cluster_state()
        node_ids = resolve_nodes(state, self._local_node_id, selectors)
        request = pb.NodesInfoNodeRequest(metrics=list(metrics))
        nodes = await fan_out(
            self._transport, self._task_manager, state, node_ids, NODES_INFO_NODE, request, parent=task, timeout=timeout
        )
        result = NodesInfoResult(failures=nodes.failures)
        for node_id, response in nodes.responses.items():
            result.infos[node_id] = json.loads(response.info_json)
        return result

    async def _node_operation(self, task: Task, request: pb.NodesInfoNodeRequest) -> pb.NodesInfoNodeResponse:
        return pb.NodesInfoNodeResponse(info_json=json.dumps(self._local_info(list(request.metrics))))
