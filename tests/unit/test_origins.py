"""Which browser pages count as served from the cluster's hosts (`node.common.origins`)."""

from __future__ import annotations

import pytest

from node.common.origins import is_cluster_origin

NODES = ("127.0.0.1:9200", "10.0.0.7:9201")


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9200",
        "http://localhost:9200",
        "http://[::1]:9200",
        "http://10.0.0.7:9201",
        "http://127.0.0.1:41234",  # a node restarted on another port
        "http://10.0.0.7:9200",
    ],
)
def test_pages_from_the_hosts_of_the_nodes(origin: str) -> None:
    assert is_cluster_origin(origin, NODES)


@pytest.mark.parametrize(
    "origin",
    ["https://127.0.0.1:9200", "null", "http://127.0.0.1:notaport", "http://evil.example:9200", "http://10.0.0.8:9201"],
)
def test_other_pages(origin: str) -> None:
    assert not is_cluster_origin(origin, NODES)


def test_loopback_names_are_one_host_only_for_loopback_nodes() -> None:
    assert not is_cluster_origin("http://localhost:9201", ["10.0.0.7:9201"])
