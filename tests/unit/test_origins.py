"""Which browser pages count as served by a node of the cluster (`node.common.origins`)."""

from __future__ import annotations

import pytest

from node.common.origins import is_node_origin

NODES = ("127.0.0.1:9200", "10.0.0.7:9201")


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:9200", "http://localhost:9200", "http://[::1]:9200", "http://10.0.0.7:9201"],
)
def test_pages_of_the_nodes(origin: str) -> None:
    assert is_node_origin(origin, NODES)


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9201",  # a port no node serves on that host
        "http://localhost:9201",
        "http://10.0.0.7:9200",
        "https://127.0.0.1:9200",
        "http://127.0.0.1",
        "null",
        "http://127.0.0.1:notaport",
        "http://evil.example:9200",
    ],
)
def test_other_pages(origin: str) -> None:
    assert not is_node_origin(origin, NODES)
