"""The cluster seen from outside: the `simcluster` CLI, the local launcher and the cluster home.

Node processes never import this package; it imports only `node.config` from the node side.
"""

from cluster.errors import (
    ClusterError,
    ClusterFormationError,
    ClusterRunningError,
    ClusterStateError,
    NoClusterError,
    NodeStartError,
    UnknownNodeError,
)
from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from cluster.process import StopOutcome
from cluster.state import ClusterHome, ClusterStatus, NodeRecord, NodeState, NodeStatus

__all__ = [
    "FAST_FAILURE_DETECTION",
    "ClusterError",
    "ClusterFormationError",
    "ClusterHome",
    "ClusterRunningError",
    "ClusterStateError",
    "ClusterStatus",
    "LocalCluster",
    "NoClusterError",
    "NodeRecord",
    "NodeStartError",
    "NodeState",
    "NodeStatus",
    "StopOutcome",
    "UnknownNodeError",
]
