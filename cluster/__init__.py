"""The cluster seen from outside: the `simcluster` CLI, the local launcher, the cluster home, and the chaos toolkit
(network faults through the nodes' `/_sim/faults`, seeded chaos runs).

Node processes never import this package; it imports only `node.config` from the node side.
"""

from cluster.chaos import ChaosOutcome, ChaosRunner
from cluster.chaos_plan import ChaosEvent, plan_chaos
from cluster.errors import (
    ClusterError,
    ClusterFormationError,
    ClusterRunningError,
    ClusterStateError,
    FaultError,
    NoClusterError,
    NodeStartError,
    NodeStateError,
    UnknownNodeError,
)
from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from cluster.process import StopOutcome
from cluster.state import ClusterHome, ClusterStatus, NodeRecord, NodeState, NodeStatus

__all__ = [
    "FAST_FAILURE_DETECTION",
    "ChaosEvent",
    "ChaosOutcome",
    "ChaosRunner",
    "ClusterError",
    "ClusterFormationError",
    "ClusterHome",
    "ClusterRunningError",
    "ClusterStateError",
    "ClusterStatus",
    "FaultError",
    "LocalCluster",
    "NoClusterError",
    "NodeRecord",
    "NodeStartError",
    "NodeState",
    "NodeStateError",
    "NodeStatus",
    "StopOutcome",
    "UnknownNodeError",
    "plan_chaos",
]
