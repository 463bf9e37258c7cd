"""Errors of the launcher and the `simcluster` CLI.

These are the failures of *managing* processes, not Elasticsearch errors (those live in `node.errors`). The CLI
turns every one of them into a single line on stderr; tests see them as ordinary exceptions whose message already
says what to do next.

```
ClusterError
├── NoClusterError          the home has no cluster.json
├── ClusterRunningError     `up` on a home whose nodes are still alive
├── ClusterStateError       cluster.json exists but cannot be read, or does not match what was asked for
├── UnknownNodeError        a node name that is not in the cluster
├── NodeStateError          a node verb its state does not allow (pausing a node that is down)
├── FaultError              a fault that cannot be expressed, or that some node did not accept
└── NodeStartError          a node exited or stayed silent before printing its ready line
    └── ClusterFormationError   every node started, but they did not form one cluster in time
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "ClusterError",
    "ClusterFormationError",
    "ClusterRunningError",
    "ClusterStateError",
    "FaultError",
    "NoClusterError",
    "NodeStartError",
    "NodeStateError",
    "UnknownNodeError",
]


class ClusterError(Exception):
    """Base of every launcher error; `str()` is one line meant for a human.

    Attributes:
        log_tails: the last lines of the logs of the nodes involved, by node name, so a failure to start says *why*
            without the user hunting for log files. Empty when logs would not help.
    """

    def __init__(self, message: str, log_tails: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.log_tails: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in (log_tails or {}).items()}

    @property
    def message(self) -> str:
        return str(self.args[0])

    def describe(self) -> str:
        """The message followed by the log tails, for test reports and CLI error output."""
        parts = [self.message]
        for name, lines in self.log_tails.items():
            parts.append(f"--- last {len(lines)} lines of the log of {name} ---")
            parts.extend(lines)
        return "\n".join(parts)


class NoClusterError(ClusterError):
    """The home directory holds no cluster (no `cluster.json`)."""


class ClusterRunningError(ClusterError):
    """Starting a cluster whose nodes are still running would give two processes the same data directory."""


class ClusterStateError(ClusterError):
    """`cluster.json` is unreadable, or describes a different cluster than the one asked for."""


class UnknownNodeError(ClusterError):
    """A node name that the cluster does not have."""


class FaultError(ClusterError):
    """A network fault that makes no sense (a node on both sides of a partition), or that a node refused."""


class NodeStateError(ClusterError):
    """A node verb that the node's current state does not allow, e.g. pausing or resuming a node that is down."""


class NodeStartError(ClusterError):
    """A node process exited, or printed nothing, before it was ready."""


class ClusterFormationError(NodeStartError):
    """The node processes are up but did not form one cluster with all of them before the deadline."""
