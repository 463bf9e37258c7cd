"""`cluster:monitor/state`, reduced to what `_cat/master` reads: the elected master as the master sees it (mirrors
ES `TransportClusterStateAction`, a `TransportMasterNodeReadAction`).

Without `local` the request goes to the elected master, waiting up to `master_timeout` for one, so a node that has
no master answers ES's `master_not_discovered_exception` (503) once that time is up instead of an empty row; with
`local` the receiving node answers from its own applied state at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.actions.support.master_node_action import MasterNodeRequest, TransportMasterNodeAction
from node.common.action_names import CLUSTER_STATE
from node.tasks.task import Task

__all__ = ["ClusterStateAction", "ClusterStateRequest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterStateRequest(MasterNodeRequest):
    local: bool = False


class ClusterStateAction(TransportMasterNodeAction[ClusterStateRequest]):
    """`{"master_node": {"id", "host", "ip", "name"} | null}`."""

    name = CLUSTER_STATE
    request_type = ClusterStateRequest

    async def execute(self, task: Task, request: ClusterStateRequest) -> dict[str, Any]:
        if request.local:
            return dict(self._master_node())
        return await super().execute(task, request)

    async def master_operation(self, task: Task | None, request: ClusterStateRequest) -> Mapping[str, Any]:
        return self._master_node()

    def _master_node(self) -> Mapping[str, Any]:
        master = self.cluster.state().master
        if master is None:
            return {"master_node": None}
        return {"master_node": {"id": master.id, "host": master.host, "ip": master.ip, "name": master.name}}
