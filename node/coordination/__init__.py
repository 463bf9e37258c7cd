"""Cluster coordination (DESIGN §3): discovery, elections, publication and fault detection, as ES's Zen2."""

from node.coordination.coordinator import Coordinator

__all__ = ["Coordinator"]
