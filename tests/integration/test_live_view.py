"""The live view's node side over real HTTP: the event stream, cross-origin access, the page itself (whole nodes in
one event loop)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.conftest import InProcessCluster

TEST = "cluster:admin/tasks/test"


async def sse(session: aiohttp.ClientSession, url: str) -> AsyncIterator[tuple[str, Any]]:
    """The (event, data) messages of a Server-Sent Events stream."""
    async with session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        assert response.headers["X-elastic-product"] == "Elasticsearch"
        event = ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                yield event, json.loads(line[len("data: ") :])


def url(c: InProcessCluster, name: str, path: str) -> str:
    return f"http://{c.nodes[name].local_node.http_address}{path}"


async def test_each_node_streams_a_snapshot_then_its_own_part_of_a_task_tree(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 3) as c, aiohttp.ClientSession() as session:
        streams = {name: sse(session, url(c, name, "/_sim/events")) for name in ("node-1", "node-2", "node-3")}
        for name, stream in streams.items():
            event, snapshot = await anext(stream)
            assert event == "snapshot"
            assert snapshot["node"]["name"] == name
            assert sorted(n["name"] for n in snapshot["cluster"]["nodes"]) == ["node-1", "node-2", "node-3"]
            assert snapshot["cluster"]["master_node_id"] is not None

        status, body = await c.post("node-2", "/_sim/tasks?wait_for_completion=false&duration=-1")
        assert status == 200
        root = body["task"]

        async def started_on(name: str) -> dict[str, Any]:
            async for event, data in streams[name]:
                for item in data if event == "events" else []:
                    if item["kind"] == "task_started" and item["task"]["action"].startswith(TEST):
                        return item["task"]
            raise AssertionError(f"the stream of {name} ended")

        on_1, on_2, on_3 = await asyncio.wait_for(asyncio.gather(*(started_on(n) for n in streams)), 10.0)
        assert (on_2["action"], f"{on_2['node']}:{on_2['id']}", on_2["parent_task_id"]) == (TEST, root, None)
        for child in (on_1, on_3):
            assert (child["action"], child["type"], child["parent_task_id"]) == (f"{TEST}[n]", "transport", root)

        status, _ = await c.post("node-1", f"/_tasks/{root}/_cancel")
        assert status == 200

        async def cancelled_on(name: str) -> dict[str, Any]:
            async for event, data in streams[name]:
                for item in data if event == "events" else []:
                    if item["kind"] == "task_cancelled" and item["action"].startswith(TEST):
                        return item
            raise AssertionError(f"the stream of {name} ended")

        cancelled = await asyncio.wait_for(asyncio.gather(*(cancelled_on(n) for n in streams)), 10.0)
        assert {item["reason"] for item in cancelled} == {"by user request"}
        for stream in streams.values():
            await stream.aclose()


async def test_a_stopping_node_ends_its_streams(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c, aiohttp.ClientSession() as session:
        stream = sse(session, url(c, "node-2", "/_sim/events"))
        assert (await anext(stream))[0] == "snapshot"
        await asyncio.wait_for(c.stop("node-2"), 10.0)  # without the streams ending, aiohttp would wait for them
        rest = [event async for event, _ in stream]
        assert "snapshot" not in rest


async def test_sim_endpoints_answer_pages_of_this_clusters_nodes_only(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 2) as c, aiohttp.ClientSession() as session:
        node_2 = c.nodes["node-2"].local_node.http_address
        page = f"http://{node_2}"
        localhost = "http://localhost:" + node_2.rsplit(":", 1)[1]

        async def cors(method: str, path: str, origin: str, **headers: str) -> dict[str, str]:
            async with session.request(method, url(c, "node-1", path), headers={"Origin": origin, **headers}) as r:
                return {k: v for k, v in r.headers.items() if k.startswith("Access-Control-")}

        assert await cors("GET", "/_sim/faults", page) == {"Access-Control-Allow-Origin": page}
        assert await cors("GET", "/_sim/faults", localhost) == {"Access-Control-Allow-Origin": localhost}
        assert await cors("GET", "/_sim/faults", "http://evil.example:80") == {}
        assert await cors("GET", "/_tasks", page) == {}  # the ES API keeps ES's default: no CORS
        preflight = await cors("OPTIONS", "/_sim/faults", page, **{"Access-Control-Request-Method": "POST"})
        assert preflight == {
            "Access-Control-Allow-Origin": page,
            "Access-Control-Allow-Methods": "GET,POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }


async def test_a_page_of_another_site_cannot_change_the_cluster(tmp_path: Path) -> None:
    """A form post or `no-cors` fetch from another site needs no preflight: it is refused before it acts."""
    async with InProcessCluster.formed(tmp_path, 2) as c, aiohttp.ClientSession() as session:
        page = f"http://{c.nodes['node-2'].local_node.http_address}"
        fault = b'{"kind":"blackhole","target":"node-2"}'
        foreign = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        async with session.post(url(c, "node-1", "/_sim/faults"), data=fault, headers=foreign) as refused:
            assert refused.status == 403
            error = (await refused.json())["error"]
            assert error["type"] == "security_exception"
        async with session.post(url(c, "node-1", "/_sim/tasks?wait_for_completion=false"), headers=foreign) as r:
            assert r.status == 403
        async with session.get(url(c, "node-1", "/_sim/faults")) as listed:
            assert (await listed.json())["faults"] == []
        own = {"Origin": page, "Content-Type": "application/json"}
        async with session.post(url(c, "node-1", "/_sim/faults/_heal"), headers=own) as healed:
            assert healed.status == 200


async def test_every_node_serves_the_page(tmp_path: Path) -> None:
    async with InProcessCluster.formed(tmp_path, 1) as c, aiohttp.ClientSession() as session:
        async with session.get(url(c, "node-1", "/_sim/ui"), allow_redirects=False) as response:
            assert (response.status, response.headers["Location"]) == (301, "/_sim/ui/")
        async with session.get(url(c, "node-1", "/_sim/ui/")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            page = await response.text()
        for asset in ("app.js", "app.css", "favicon.svg"):
            assert asset in page
            async with session.get(url(c, "node-1", f"/_sim/ui/{asset}")) as response:
                assert response.status == 200, asset
        assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
        status, body = await c.get("node-1", "/_sim/ui/node.log")
        assert status == 400 and body["error"] == "no handler found for uri [/_sim/ui/node.log] and method [GET]"
