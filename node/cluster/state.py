"""The cluster state and the nodes in it, as immutable values (DESIGN §3).

Only the coordinator creates new `ClusterState`s; every other component reads the one last applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from node.transport.pb import transport_pb2 as pb

__all__ = ["ClusterState", "DiscoveryNode"]


@dataclass(frozen=True, slots=True)
class DiscoveryNode:
    """A node as the cluster knows it (ES `DiscoveryNode`)."""

    id: str
    name: str
    ephemeral_id: str
    host: str
    transport_address: str
    http_address: str
    roles: tuple[str, ...]
    attributes: Mapping[str, str] = field(default_factory=dict)
    version: str = ""

    @property
    def ip(self) -> str:
        return self.transport_address.rpartition(":")[0]

    @property
    def transport_port(self) -> int:
        return int(self.transport_address.rpartition(":")[2])

    @property
    def is_master_eligible(self) -> bool:
        return "master" in self.roles

    @property
    def is_data(self) -> bool:
        return any(r == "data" or r.startswith("data_") for r in self.roles)

    def to_proto(self) -> pb.DiscoveryNode:
        return pb.DiscoveryNode(
            id=self.id,
            name=self.name,
            ephemeral_id=self.ephemeral_id,
            host=self.host,
            transport_address=self.transport_address,
            http_address=self.http_address,
            roles=list(self.roles),
            attributes=dict(self.attributes),
            version=self.version,
        )

    @classmethod
    def from_proto(cls, msg: pb.DiscoveryNode) -> DiscoveryNode:
        return cls(
            id=msg.id,
            name=msg.name,
            ephemeral_id=msg.ephemeral_id,
            host=msg.host,
            transport_address=msg.transport_address,
            http_address=msg.http_address,
            roles=tuple(msg.roles),
            attributes=MappingProxyType(dict(msg.attributes)),
            version=msg.version,
        )


@dataclass(frozen=True, slots=True)
class ClusterState:
    """One version of the cluster state.

    `metadata` holds what survives a full-cluster restart besides the voting configuration (persistent cluster
    settings and, with the data plane, indices); it is a plain JSON-compatible dict treated as immutable.
    """

    cluster_name: str
    cluster_uuid: str = "_na_"
    term: int = 0
    version: int = 0
    master_node_id: str | None = None
    nodes: Mapping[str, DiscoveryNode] = field(default_factory=dict)
    voting_config: frozenset[str] = frozenset()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def master(self) -> DiscoveryNode | None:
        return self.nodes.get(self.master_node_id) if self.master_node_id else None

    def nodes_sorted(self) -> list[DiscoveryNode]:
        """Nodes by name: the deterministic order simcluster renders them in."""
        return sorted(self.nodes.values(), key=lambda n: (n.name, n.id))

    def node_by_name(self, name: str) -> DiscoveryNode | None:
        return next((n for n in self.nodes.values() if n.name == name), None)

    def with_nodes(self, nodes: Iterable[DiscoveryNode]) -> ClusterState:
        return replace(self, nodes=MappingProxyType({n.id: n for n in nodes}))

    def with_changes(self, **changes: Any) -> ClusterState:
        return replace(self, **changes)

    def to_proto(self) -> pb.ClusterStateMessage:
        return pb.ClusterStateMessage(
            cluster_name=self.cluster_name,
            cluster_uuid=self.cluster_uuid,
            term=self.term,
            version=self.version,
            master_node_id=self.master_node_id or "",
            nodes=[n.to_proto() for n in self.nodes.values()],
            voting_config=sorted(self.voting_config),
            metadata_json=json.dumps(self.metadata, separators=(",", ":")),
        )

    @classmethod
    def from_proto(cls, msg: pb.ClusterStateMessage) -> ClusterState:
        return cls(
            cluster_name=msg.cluster_name,
            cluster_uuid=msg.cluster_uuid,
            term=msg.term,
            version=msg.version,
            master_node_id=msg.master_node_id or None,
            nodes=MappingProxyType({n.id: DiscoveryNode.from_proto(n) for n in msg.nodes}),
            voting_config=frozenset(msg.voting_config),
            metadata=json.loads(msg.metadata_json) if msg.metadata_json else {},
        )

    def to_persisted(self) -> dict[str, Any]:
        """What a node writes to disk: everything but the nodes and the master, as ES persists metadata only."""
        return {
            "cluster_name": self.cluster_name,
            "cluster_uuid": self.cluster_uuid,
            "term": self.term,
            "version": self.version,
            "voting_config": sorted(self.voting_config),
            "metadata": self.metadata,
        }

    @classmethod
    def from_persisted(cls, data: Mapping[str, Any]) -> ClusterState:
        return cls(
            cluster_name=data["cluster_name"],
            cluster_uuid=data["cluster_uuid"],
            term=data["term"],
            version=data["version"],
            voting_config=frozenset(data["voting_config"]),
            metadata=data.get("metadata") or {},
        )
