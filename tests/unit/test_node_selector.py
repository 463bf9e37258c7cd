"""The `nodes` selector (reference §5): tokens apply in order, starting from an empty set."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from node.cluster.node_selector import resolve_nodes
from node.cluster.state import ClusterState, DiscoveryNode
from node.common.regex import simple_match
from node.errors import IllegalArgumentError


def _node(i: int, roles: tuple[str, ...], **attrs: str) -> DiscoveryNode:
    return DiscoveryNode(
        id=f"id{i}",
        name=f"node-{i}",
        ephemeral_id=f"e{i}",
        host="127.0.0.1",
        transport_address=f"127.0.0.1:930{i}",
        http_address=f"127.0.0.1:920{i}",
        roles=roles,
        attributes=MappingProxyType(attrs),
    )


STATE = ClusterState(
    cluster_name="c",
    master_node_id="id1",
    nodes=MappingProxyType(
        {
            "id1": _node(1, ("data", "ingest", "master"), zone="a"),
            "id2": _node(2, ("data_hot", "ingest"), zone="b"),
            "id3": _node(3, (), zone="a", rack="r1"),
        }
    ),
)


def resolve(*tokens: str, local: str = "id2") -> list[str]:
    return resolve_nodes(STATE, local, list(tokens))


def test_no_selector_means_all_nodes() -> None:
    assert resolve() == ["id1", "id2", "id3"]


def test_local_and_master() -> None:
    assert resolve("_local") == ["id2"]
    assert resolve("_master") == ["id1"]


def test_exact_id_and_name_and_wildcard() -> None:
    assert resolve("id3") == ["id3"]
    assert resolve("node-2") == ["id2"]
    assert resolve("node-*") == ["id1", "id2", "id3"]


def test_host_address_matches_every_node_on_it() -> None:
    assert resolve("127.0.0.1") == ["id1", "id2", "id3"]


def test_unknown_names_resolve_to_nothing() -> None:
    assert resolve("nope") == []


def test_role_false_alone_selects_nothing_but_removes_after_all() -> None:
    assert resolve("master:false") == []
    assert resolve("_all", "master:false") == ["id2", "id3"]


def test_order_matters() -> None:
    assert resolve("master:false", "_all") == ["id1", "id2", "id3"]


def test_data_matches_every_data_role_and_data_hot_matches_data_too() -> None:
    assert resolve("data:true") == ["id1", "id2"]
    assert resolve("data_hot:true") == ["id1", "id2"]
    assert resolve("data_warm:true") == ["id1"]


def test_empty_boolean_means_true() -> None:
    assert resolve("ingest:") == ["id1", "id2"]


def test_coordinating_only() -> None:
    assert resolve("coordinating_only:true") == ["id3"]


def test_attribute_patterns() -> None:
    assert resolve("zone:a") == ["id1", "id3"]
    assert resolve("r*:r1") == ["id3"]


def test_bad_boolean_is_a_400() -> None:
    with pytest.raises(
        IllegalArgumentError, match=r"Failed to parse value \[yes\] as only \[true\] or \[false\] are allowed."
    ):
        resolve("master:yes")


def test_simple_match_is_case_sensitive_with_any_number_of_stars() -> None:
    assert simple_match("cluster:*/tasks/*", "cluster:monitor/tasks/lists[n]")
    assert not simple_match("Cluster:*", "cluster:monitor/tasks/lists")
    assert simple_match("cluster:monitor/tasks/lists", "cluster:monitor/tasks/lists")
    assert not simple_match("cluster:monitor/tasks/lists", "cluster:monitor/tasks/lists[n]")
