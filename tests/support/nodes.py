"""Addresses and ids of the nodes of a `LocalCluster`, for tests that talk to them."""

from __future__ import annotations

from cluster.launcher import LocalCluster

__all__ = ["node_id", "url"]


def url(cluster: LocalCluster, name: str) -> str:
    """The HTTP base URL of a started node, e.g. `http://127.0.0.1:41234`."""
    record = cluster.node(name)
    assert record.http_url is not None, f"{name} has not been started"
    return record.http_url


def node_id(cluster: LocalCluster, name: str) -> str:
    """The persistent node id a started node reported in its ready line."""
    record = cluster.node(name)
    assert record.node_id is not None, f"{name} has not been started"
    return record.node_id
