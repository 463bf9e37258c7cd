"""List-tasks fan-out semantics with whole nodes in one event loop (reference §6, §9)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import InProcessCluster

LIST = "cluster:monitor/tasks/lists"
LIST_N = "cluster:monitor/tasks/lists[n]"


async def test_the_list_tree_spans_every_node(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        status, body = await c.get("node-2", "/_tasks?group_by=parents&actions=cluster:monitor/tasks/*")
        assert status == 200
        (group,) = body["tasks"].values()
        assert group["action"] == LIST and group["node"] == c.nodes["node-2"].node_id
        types = {child["node"]: child["type"] for child in group["children"]}
        assert types == {
            c.nodes["node-1"].node_id: "transport",
            c.nodes["node-2"].node_id: "direct",
            c.nodes["node-3"].node_id: "transport",
        }


async def test_a_stopped_node_becomes_a_node_failure_or_disappears(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c:
        gone = c.nodes["node-3"].node_id
        await c.stop("node-3")
        status, body = await c.get("node-1", "/_tasks?timeout=2s")
        assert status == 200
        assert gone not in body.get("nodes", {})
        if "node_failures" in body:  # answered before the node was removed from the cluster state
            assert [f["node_id"] for f in body["node_failures"]] == [gone]
        await c.wait_until(lambda: all(gone not in n.state.nodes for n in c.running()))
        status, body = await c.get("node-2", "/_tasks")
        assert status == 200 and "node_failures" not in body
        assert set(body["nodes"]) == {c.nodes["node-1"].node_id, c.nodes["node-2"].node_id}


async def test_wait_for_completion_with_nothing_to_wait_for_returns_at_once(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        # coordination traffic (publish, checks) registers short tasks too, so only list tasks are selected: a list
        # request never waits for list tasks (reference §9.4), so there is nothing to wait for
        query = "wait_for_completion=true&timeout=5s&group_by=none&actions=cluster:monitor/tasks/*"
        status, body = await c.get("node-1", f"/_tasks?{query}")
        assert status == 200
        assert {t["action"] for t in body["tasks"]} == {LIST, LIST_N}


async def test_explicitly_unknown_nodes_resolve_to_nothing(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c:
        assert await c.get("node-1", "/_tasks?nodes=nope") == (200, {"nodes": {}})
