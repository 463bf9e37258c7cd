"""The data plane with whole nodes in one event loop: allocation, the write path's task tree, replica promotion and
search cancellation (reference §15)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from node.data.doc_routing import shard_id
from tests.integration.conftest import InProcessCluster


async def create_green(c: InProcessCluster, index: str, shards: int = 3, replicas: int = 1) -> None:
    body = {"settings": {"number_of_shards": shards, "number_of_replicas": replicas}}
    assert (await c.request("node-1", "PUT", f"/{index}", body))[0] == 200
    status, health = await c.request("node-1", "GET", f"/_cluster/health/{index}?wait_for_status=green&timeout=10s")
    assert status == 200 and health["status"] == "green", health


async def shards(c: InProcessCluster, index: str) -> list[dict[str, str]]:
    status, rows = await c.request("node-1", "GET", f"/_cat/shards/{index}?format=json&h=shard,prirep,state,node,docs")
    assert status == 200
    return rows  # type: ignore[no-any-return]


async def test_copies_spread_two_per_node_and_never_share_a_node(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        await create_green(c, "logs")
        rows = await shards(c, "logs")
        assert Counter(r["node"] for r in rows) == {"node-1": 2, "node-2": 2, "node-3": 2}
        for shard in ("0", "1", "2"):
            holders = [r["node"] for r in rows if r["shard"] == shard]
            assert len(set(holders)) == 2
        assert {r["prirep"] for r in rows if r["node"] == "node-1"} == {"p", "r"}


async def test_a_write_makes_the_es_shard_task_tree_across_three_nodes(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        await create_green(c, "logs")
        rows = await shards(c, "logs")
        primary_on_2 = next(r["shard"] for r in rows if r["prirep"] == "p" and r["node"] == "node-2")
        replica_node = next(r["node"] for r in rows if r["prirep"] == "r" and r["shard"] == primary_on_2)
        doc_id = next(str(i) for i in range(1000) if str(shard_id(str(i), 3)) == primary_on_2)
        await c.request("node-1", "PUT", "/_cluster/settings", {"transient": {"sim.write.doc_time": "400ms"}})
        write = asyncio.ensure_future(
            c.request("node-1", "POST", "/_bulk", b'{"index":{"_index":"logs","_id":"%s"}}\n{}\n' % doc_id.encode())
        )
        tasks: list[dict[str, Any]] = []
        for _ in range(200):
            _, listed = await c.request(
                "node-1", "GET", "/_tasks?detailed&group_by=none&actions=indices:data/write/bulk*"
            )
            tasks = listed["tasks"]
            # A task is listed from its registration on; its handler reports its phase once it runs.
            if any(t["action"].endswith("[s][r]") and "status" in t for t in tasks):
                break
            await asyncio.sleep(0.02)
        status, response = await write
        assert status == 200 and response["errors"] is False
        ids = {name: node.node_id for name, node in c.nodes.items()}
        by_action: dict[str, list[dict[str, Any]]] = {}
        for t in tasks:
            by_action.setdefault(t["action"], []).append(t)
        (bulk,) = by_action["indices:data/write/bulk"]
        assert (bulk["node"], bulk["type"], bulk["description"]) == (
            ids["node-1"],
            "transport",
            "requests[1], indices[logs]",
        )
        shard_tasks = {t["node"]: t for t in by_action["indices:data/write/bulk[s]"]}
        coordinating, rerouted = shard_tasks[ids["node-1"]], shard_tasks[ids["node-2"]]
        assert coordinating["parent_task_id"] == f"{bulk['node']}:{bulk['id']}"
        assert rerouted["type"] == "transport"
        assert rerouted["parent_task_id"] == f"{coordinating['node']}:{coordinating['id']}"
        assert coordinating["status"] == {"phase": "rerouted"}
        (primary,) = by_action["indices:data/write/bulk[s][p]"]
        assert (primary["node"], primary["type"]) == (ids["node-2"], "direct")
        assert primary["parent_task_id"] == f"{rerouted['node']}:{rerouted['id']}"
        (replica,) = by_action["indices:data/write/bulk[s][r]"]
        assert (replica["node"], replica["type"]) == (ids[replica_node], "transport")
        assert replica["parent_task_id"] == f"{rerouted['node']}:{rerouted['id']}"
        assert replica["description"] == f"requests[1], index[logs][{primary_on_2}]"
        assert primary["status"] == {"phase": "replicating"} and replica["status"] == {"phase": "replica"}


async def test_a_stopped_node_s_replicas_are_promoted_and_no_acknowledged_write_is_lost(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        await create_green(c, "logs")
        acknowledged: set[str] = set()

        async def write(batch: int) -> None:
            ids = [f"{batch}-{i}" for i in range(20)]
            body = b"".join(b'{"index":{"_id":"%s"}}\n{}\n' % i.encode() for i in ids)
            status, response = await c.request("node-1", "POST", "/logs/_bulk", body)
            assert status == 200, response
            acknowledged.update(item["index"]["_id"] for item in response["items"] if "error" not in item["index"])

        for batch in range(5):
            await write(batch)
        stopping = asyncio.ensure_future(c.stop("node-3"))
        for batch in range(5, 15):
            await write(batch)
        await stopping
        _, health = await c.request(
            "node-1", "GET", "/_cluster/health?wait_for_status=green&wait_for_nodes=2&timeout=10s"
        )
        assert health["status"] == "green"
        _, counted = await c.request("node-1", "GET", "/logs/_count")
        assert counted["count"] == len(acknowledged) == 300
        assert all(r["node"] in ("node-1", "node-2") for r in await shards(c, "logs"))


async def test_a_cancelled_search_fails_and_its_shard_tasks_notice_their_ban(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        await create_green(c, "logs")
        await c.request("node-1", "PUT", "/_cluster/settings", {"transient": {"sim.search.shard_query_time": "30s"}})
        search = asyncio.ensure_future(c.request("node-2", "GET", "/logs/_search"))
        for _ in range(200):
            _, listed = await c.request("node-1", "GET", "/_tasks?group_by=none&actions=indices:data/read/search*")
            if len(listed["tasks"]) == 4:
                break
            await asyncio.sleep(0.02)
        status, _ = await c.request("node-1", "POST", "/_tasks/_cancel?actions=indices:data/read/search")
        assert status == 200
        status, body = await asyncio.wait_for(search, 5)
        assert status == 400
        assert body["error"]["type"] == "task_cancelled_exception"
        assert body["error"]["reason"] == "task cancelled [by user request]"
        for _ in range(200):  # the shard tasks notice the ban at their next check and finish
            _, listed = await c.request("node-1", "GET", "/_tasks?group_by=none&actions=indices:data/read/search*")
            if not listed["tasks"]:
                break
            await asyncio.sleep(0.02)
        assert listed["tasks"] == []
