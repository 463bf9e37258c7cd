"""What every action may use, handed to its constructor as one value (mirrors ES `Plugin.PluginServices`).

ES injects the services an action's constructor names; here every action takes the same `NodeServices` and keeps
what it uses, so adding an action never changes the composition root beyond one line of the action list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from node.cluster.master_requests import MasterRequests
from node.cluster.service import ClusterService
from node.common.rest_capabilities import RestCapabilities
from node.config import NodeConfig
from node.data.bulk_by_scroll import BulkByScrollTasks
from node.events.journal import EventJournal
from node.indices.local_shards import LocalShards
from node.indices.search_contexts import SearchContexts
from node.indices.shard_state import ShardStateAction
from node.monitor.service import MonitorService
from node.tasks.cancellation import TaskCancellationService
from node.tasks.manager import TaskManager
from node.transport.service import TransportService

if TYPE_CHECKING:
    from node.actions.client import NodeClient
    from node.actions.task_results import TaskResultsService

__all__ = ["NodeServices"]


@dataclass(frozen=True, slots=True)
class NodeServices:
    """The services of one node, built once by the composition root (`node.server`)."""

    config: NodeConfig
    cluster: ClusterService
    transport: TransportService
    cancellation: TaskCancellationService
    task_results: TaskResultsService
    master_requests: MasterRequests
    shards: LocalShards
    shard_state: ShardStateAction
    bulk_by_scroll: BulkByScrollTasks
    client: NodeClient
    started_at_millis: int
    monitor: MonitorService
    search_contexts: SearchContexts
    events: EventJournal
    rest_capabilities: RestCapabilities = field(default_factory=RestCapabilities)

    @property
    def task_manager(self) -> TaskManager:
        return self.transport.task_manager
