"""`cluster:monitor/main`: what `GET /` answers (mirrors ES `TransportMainAction`)."""

from __future__ import annotations

from dataclasses import dataclass

from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import MAIN
from node.tasks.task import Task

__all__ = ["MainAction", "MainRequest"]


@dataclass(frozen=True, slots=True)
class MainRequest:
    pass


class MainAction(TransportAction[MainRequest, ClusterState]):
    """The applied state, from which `GET /` reads the cluster name and uuid."""

    name = MAIN

    async def execute(self, task: Task, request: MainRequest) -> ClusterState:
        return self.cluster.state()
