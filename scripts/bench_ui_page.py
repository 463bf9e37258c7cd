"""Benchmark: the live view's page alone, fed 20 nodes' event streams with 10,000 tasks, in headless chromium.

Usage: python scripts/bench_ui_page.py [--nodes 20] [--tasks 10000] [--json FILE]

`scripts/bench_ui.py` measures the page on a real cluster, where on a small machine twenty node processes and the
browser compete for the same cores. This one measures the page's own cost: it serves the page's files, replaces
`EventSource` with a stand-in the benchmark feeds, and plays what `--nodes` nodes would stream (snapshots, then the
events of `--tasks` test tasks starting, being cancelled and ending, in batches of at most 2,000 events per
message, as a node's 100 ms batches carry them in a burst). Prints a markdown table; `--json` writes the numbers.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_ui import (  # noqa: E402
    INTERACTION_PROBE,
    bench_main,
    browser_cpu_seconds,
    cancelling_rows,
    interactions,
    main_thread_seconds,
    measure_steady,
    page_cost_rows,
    spent_ms,
    table,
)
from tests.support.browser import CHROMIUM_ARGS, chromium_executable  # noqa: E402

STATIC = ROOT / "rest" / "ui_static"
BATCH = 2000
TEST = "cluster:admin/tasks/test"
FAKE_EVENT_SOURCE = """
window.__streams = [];
window.EventSource = class {
  static CLOSED = 2;
  constructor(url) { this.url = url; this.readyState = 1; this.listeners = {}; window.__streams.push(this); }
  addEventListener(type, listener) { (this.listeners[type] ||= []).push(listener); }
  close() { this.readyState = 2; }
  emit(type, data) { for (const listener of this.listeners[type] || []) listener({ data }); }
};
// Every node's heartbeat, once a second, as a live node sends it when it has nothing else to say.
setInterval(() => { for (const stream of window.__streams) stream.emit('heartbeat', '{}'); }, 1000);
window.__emit = ([address, type, data]) => {
  const stream = window.__streams.find((s) => s.url.includes(address)) || window.__streams[0];
  stream.emit(type, data);
};
"""


def serve_static() -> int:
    """Serves the page's files from a background thread; returns the port (bound by the server itself)."""
    app = web.Application()
    app.router.add_static("/_sim/ui/", STATIC)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    sock = socket.create_server(("127.0.0.1", 0))
    loop.run_until_complete(web.SockSite(runner, sock).start())
    threading.Thread(target=loop.run_forever, daemon=True).start()
    return int(sock.getsockname()[1])


class Streams:
    """What `nodes` nodes would stream: their snapshots, and the events of test trees (a root, a child per node)."""

    def __init__(self, nodes: int, tasks: int, page_port: int) -> None:
        self.now = int(time.time() * 1000)
        self.nodes = [
            {
                "id": f"node-id-{i}",
                "name": f"node-{i}",
                "ephemeral_id": f"ephemeral-{i}",
                "roles": ["data", "ingest", "master"],
                "transport_address": f"127.0.0.1:{19300 + i}",
                "http_address": f"127.0.0.1:{page_port}" if i == 1 else f"127.0.0.1:{19200 + i}",
                "attributes": {},
                "version": "9.1.0",
            }
            for i in range(1, nodes + 1)
        ]
        self.cluster = {
            "cluster_name": "simcluster", "cluster_uuid": "uuid", "term": 1, "version": 5,
            "master_node_id": "node-id-1", "nodes": self.nodes, "indices": [],
            "health": {
                "status": "green", "number_of_nodes": nodes, "number_of_data_nodes": nodes,
                "active_primary_shards": 0, "active_shards": 0, "initializing_shards": 0, "unassigned_shards": 0,
            },
        }  # fmt: skip
        self._seq: collections.Counter[int] = collections.Counter()
        self._ids: collections.Counter[int] = collections.Counter()
        self.started: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        self.ended: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        self.count = 0
        for tree in range(max(1, tasks // (nodes + 1))):
            root_node = tree % nodes + 1
            root = self._task(root_node, TEST, None, "transport")
            for node in range(1, nodes + 1):
                self._task(node, f"{TEST}[n]", root, "direct" if node == root_node else "transport")

    def snapshot(self, i: int) -> dict[str, Any]:
        return {
            "node": self.nodes[i - 1],
            "time": self.now,
            "cluster": self.cluster,
            "tasks": [],
            "faults": [],
            "recent": [],
        }

    def _event(self, node: int, kind: str, **fields: Any) -> dict[str, Any]:
        self._seq[node] += 1
        return {"seq": self._seq[node], "time": self.now, "node": f"node-id-{node}", "kind": kind, **fields}

    def _task(self, node: int, action: str, parent: str | None, task_type: str) -> str:
        self._ids[node] += 1
        task_id = self._ids[node]
        self.count += 1
        task = {
            "node": f"node-id-{node}", "id": task_id, "type": task_type, "action": action,
            "description": "test task", "start_time_in_millis": self.now, "cancellable": True, "cancelled": False,
            "cancel_reason": None, "parent_task_id": parent, "headers": {"X-Opaque-Id": "bench"},
        }  # fmt: skip
        self.started[node].append(self._event(node, "task_started", task=task))
        reason = "by user request"
        self.ended[node].append(self._event(node, "task_cancelled", id=task_id, action=action, reason=reason))
        self.ended[node].append(
            self._event(
                node, "task_finished", id=task_id, outcome="cancelled", action=action, running_time_in_nanos=10**9
            )
        )
        return f"node-id-{node}:{task_id}"


def play(page: Any, streams: Streams, batches: dict[int, list[dict[str, Any]]], *, click: bool = False) -> None:
    """Sends every node's events, each node in turn one batch at a time, as the streams would interleave them;
    with `click`, clicks "expand all" after every batch, as a user might while the page is busy."""
    pending = {node: [events[k : k + BATCH] for k in range(0, len(events), BATCH)] for node, events in batches.items()}
    while any(pending.values()):
        for node, chunks in pending.items():
            if chunks:
                address = streams.nodes[node - 1]["http_address"]
                page.evaluate("window.__emit", [address, "events", json.dumps(chunks.pop(0))])
                if click:
                    page.click("#expand-all")


def tasks_in_page(page: Any) -> int:
    return int(page.evaluate("window.__simclusterUi.tasks.size"))


def run(nodes: int, tasks: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    port = serve_static()
    streams = Streams(nodes, tasks, port)
    results: dict[str, Any] = {"nodes": nodes, "tasks": streams.count}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.add_init_script(FAKE_EVENT_SOURCE)
            page.add_init_script(INTERACTION_PROBE)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(f"http://127.0.0.1:{port}/_sim/ui/index.html")
            page.wait_for_function("window.__streams.length === 1")
            page.evaluate(
                "window.__emit", [streams.nodes[0]["http_address"], "snapshot", json.dumps(streams.snapshot(1))]
            )
            page.wait_for_function(f"window.__streams.length === {nodes}")
            for i in range(2, nodes + 1):
                page.evaluate(
                    "window.__emit", [streams.nodes[i - 1]["http_address"], "snapshot", json.dumps(streams.snapshot(i))]
                )
            up = f"document.querySelectorAll('.node[data-state=\"up\"]').length === {nodes}"
            page.wait_for_function(up)

            before = main_thread_seconds(cdp)
            cpu = browser_cpu_seconds()
            started = time.monotonic()
            play(page, streams, streams.started)
            page.wait_for_function(f"window.__simclusterUi.stats.rows === {streams.count}")
            results["all_tasks_drawn_s"] = round(time.monotonic() - started, 2)
            results["main_thread_while_starting_ms"] = spent_ms(before, main_thread_seconds(cdp))
            results["browser_cpu_while_starting_s"] = round(browser_cpu_seconds() - cpu, 2)

            results.update(measure_steady(page, cdp))

            interactions(page)
            before = main_thread_seconds(cdp)
            cpu = browser_cpu_seconds()
            cancelling = time.monotonic()
            play(page, streams, streams.ended, click=True)
            results["events_delivered_s"] = round(time.monotonic() - cancelling, 2)
            page.wait_for_function("window.__simclusterUi.tasks.size === 0", timeout=60_000)
            results["cancel_until_page_shows_none_s"] = round(time.monotonic() - cancelling, 2)
            results["main_thread_while_cancelling_ms"] = spent_ms(before, main_thread_seconds(cdp))
            results["browser_cpu_while_cancelling_s"] = round(browser_cpu_seconds() - cpu, 2)
            results["clicks_while_cancelling"] = interactions(page)
        finally:
            browser.close()
    return results


def markdown(results: dict[str, Any]) -> str:
    rows = [
        ("nodes / tasks (page alone)", f"{results['nodes']} / {results['tasks']:,}"),
        ("every task's start delivered → all drawn", f"{results['all_tasks_drawn_s']} s"),
        *page_cost_rows(results, "tasks start"),
        ("every cancel and end delivered → page shows none (1.5 s of it is ended rows lingering)", f"{results['cancel_until_page_shows_none_s']} s"),
        *cancelling_rows(results),
    ]  # fmt: skip
    return table(rows)


def main() -> None:
    bench_main(__doc__.splitlines()[0], lambda args: run(args.nodes, args.tasks), markdown)


if __name__ == "__main__":
    main()
