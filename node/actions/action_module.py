"""Every action of a node, in one list (mirrors ES `ActionModule`).

Adding an action is one module with its request, response and operation, plus one line here. The composition root
(`node.server`) builds each with the node's services, lets it register its transport handlers, and hands it to the
`NodeClient`, through which REST handlers and other actions run it.
"""

from __future__ import annotations

from typing import Any

from node.actions.aliases import GetAliasesAction, IndicesAliasesAction
from node.actions.authenticate import AuthenticateAction
from node.actions.bulk import BulkAction, DeleteAction, IndexAction, ShardBulkAction, UpdateAction
from node.actions.cancel_tasks import CancelTasksAction
from node.actions.cluster_health import ClusterHealthAction
from node.actions.cluster_state import ClusterStateAction
from node.actions.cluster_stats import ClusterStatsAction
from node.actions.data_streams import GetDataStreamAction
from node.actions.get import GetAction, MultiGetAction
from node.actions.get_task import GetTaskAction
from node.actions.index_settings import (
    CloseIndexAction,
    GetMappingsAction,
    GetSettingsAction,
    OpenIndexAction,
    PutMappingAction,
    UpdateSettingsAction,
)
from node.actions.indices_admin import (
    AutoCreateIndexAction,
    ClusterGetSettingsAction,
    ClusterUpdateSettingsAction,
    CreateIndexAction,
    DeleteIndexAction,
    GetIndexAction,
)
from node.actions.indices_stats import IndicesStatsAction
from node.actions.list_tasks import ListTasksAction
from node.actions.main import MainAction
from node.actions.nodes_capabilities import NodesCapabilitiesAction
from node.actions.nodes_info import NodesInfoAction
from node.actions.nodes_stats import NodesStatsAction
from node.actions.refresh import RefreshAction, ShardRefreshAction
from node.actions.reindex import DeleteByQueryAction, ReindexAction, UpdateByQueryAction
from node.actions.rethrottle import RethrottleAction
from node.actions.search import ClearScrollAction, SearchAction, SearchScrollAction, SearchShardsAction
from node.actions.support.services import NodeServices
from node.actions.support.transport_action import TransportAction
from node.actions.test_tasks import TestTasksAction

__all__ = ["ACTIONS", "register_actions"]

ACTIONS: tuple[type[TransportAction[Any, Any]], ...] = (
    MainAction,
    # the tasks APIs
    ListTasksAction,
    GetTaskAction,
    CancelTasksAction,
    TestTasksAction,
    # cluster
    NodesInfoAction,
    NodesCapabilitiesAction,
    NodesStatsAction,
    ClusterHealthAction,
    ClusterStateAction,
    ClusterStatsAction,
    ClusterGetSettingsAction,
    ClusterUpdateSettingsAction,
    # indices
    CreateIndexAction,
    AutoCreateIndexAction,
    DeleteIndexAction,
    GetIndexAction,
    IndicesAliasesAction,
    GetAliasesAction,
    UpdateSettingsAction,
    GetSettingsAction,
    PutMappingAction,
    GetMappingsAction,
    CloseIndexAction,
    OpenIndexAction,
    IndicesStatsAction,
    GetDataStreamAction,
    RefreshAction,
    ShardRefreshAction,
    # documents
    BulkAction,
    IndexAction,
    DeleteAction,
    UpdateAction,
    ShardBulkAction,
    GetAction,
    MultiGetAction,
    # search
    SearchAction,
    SearchScrollAction,
    ClearScrollAction,
    SearchShardsAction,
    # reindex
    ReindexAction,
    UpdateByQueryAction,
    DeleteByQueryAction,
    RethrottleAction,
    # security
    AuthenticateAction,
)


def register_actions(services: NodeServices) -> None:
    """Builds every action, registers its transport handlers and makes it reachable through the node client."""
    for action_type in ACTIONS:
        action = action_type(services)
        action.register()
        services.client.register(action)
