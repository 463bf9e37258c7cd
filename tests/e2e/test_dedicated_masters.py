"""Dedicated master-eligible nodes (`up --masters N`): the voting configuration is theirs, data nodes never vote.

As ES recommends for larger clusters: a few nodes with the `master` role only, the rest data nodes seeded with the
master-eligible ones. Killing a data node changes nothing in the voting configuration; killing the master elects
another of the dedicated ones.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from node.coordination.coordination_state import PersistedCoordination
from tests.e2e.conftest import ClusterFactory
from tests.support.http import call, wait_until

pytestmark = pytest.mark.e2e


def voting_config(cluster: LocalCluster, name: str) -> frozenset[str]:
    """The voting configuration a node last accepted, read (read-only) from its data directory."""
    database = cluster.node(name).data_dir / "node.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (value,) = connection.execute("SELECT value FROM meta WHERE key = 'coordination'").fetchone()
    return PersistedCoordination.from_json(json.loads(value)).last_accepted.voting_config


def master_of(cluster: LocalCluster, name: str) -> str | None:
    answer = call(f"http://{cluster.node(name).http_address}", "GET", "/_cat/master?format=json&local=true")
    return None if answer.json[0]["node"] in (None, "-") else str(answer.json[0]["node"])


def test_three_dedicated_masters_hold_the_votes_and_elect_among_themselves(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(5, masters=3, node_defaults=FAST_FAILURE_DETECTION)
    masters = {"node-1", "node-2", "node-3"}
    roles = {r.name: r.roles for r in cluster.nodes}
    assert roles == {"node-1": ("master",), "node-2": ("master",), "node-3": ("master",),
                     "node-4": ("data", "ingest"), "node-5": ("data", "ingest")}  # fmt: skip
    cat = call(f"http://{cluster.node('node-4').http_address}", "GET", "/_cat/nodes?h=name,node.role&format=json")
    assert {row["name"]: row["node.role"] for row in cat.json} == {
        "node-1": "m", "node-2": "m", "node-3": "m", "node-4": "di", "node-5": "di"
    }  # fmt: skip
    ids = {r.name: r.node_id for r in cluster.nodes}
    assert voting_config(cluster, "node-4") == frozenset(ids[n] for n in masters)

    old = master_of(cluster, "node-5")
    assert old in masters
    cluster.kill_node(old)
    survivors = [n for n in cluster.names if n != old]

    def elected() -> str | None:
        seen = {master_of(cluster, n) for n in survivors}
        return next(iter(seen)) if len(seen) == 1 and None not in seen and old not in seen else None

    assert wait_until(elected, 30.0, what="a new master") in masters - {old}
