"""The live view in a real headless browser: Debian's chromium, driven by Playwright, on a cluster of real processes.

The page is opened as `simcluster ui` opens it (the node's `/_sim/ui/` with the launcher's control endpoint in the
fragment). It must show the cluster, draw a test task's tree across the nodes as it starts, start another from its
own form, show the cancellation running down a tree until it is gone, and mark a node killed from the page as gone.

With `SIMCLUSTER_SCREENSHOT=path.png` the test saves a screenshot of the page with the tree on it (the README's).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from cluster.state import NodeState
from cluster.ui_control import ControlServer, page_url
from tests.e2e.conftest import ClusterFactory
from tests.support.browser import CHROMIUM_ARGS, chromium_executable, missing_browser_reason
from tests.support.http import call, wait_until
from tests.support.nodes import url

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(missing_browser_reason() is not None, reason=str(missing_browser_reason())),
]

TEST = "cluster:admin/tasks/test"
UI_OPAQUE_ID = "simcluster-ui"  # what the page sends with its own requests
UI_TIMEOUT_MS = 15_000


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(UI_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


@pytest.fixture
def control(cluster_factory: ClusterFactory) -> Iterator[ControlServer]:
    """A 3-node cluster and the control endpoint `simcluster ui` would serve for it, on the same home."""
    cluster = cluster_factory(3)
    server = ControlServer(LocalCluster.attach(cluster.home.root))
    server.start()
    try:
        yield server
    finally:
        server.close()


def rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        ".task[data-task]:not([hidden])",
        """rows => rows.map(r => ({key: r.dataset.task, action: r.dataset.action,
            node: r.querySelector('.node-name').textContent, type: r.querySelector('.type').textContent,
            opaque: r.querySelector('.opaque').textContent, state: r.querySelector('.state-cell').textContent}))""",
    )


def test_the_live_view_follows_a_task_tree_its_cancellation_and_a_killed_node(
    control: ControlServer, browser_page: Any
) -> None:
    cluster, page = control.cluster, browser_page
    node_1, node_2 = url(cluster, "node-1"), url(cluster, "node-2")
    body = json.dumps({"settings": {"number_of_shards": 3, "number_of_replicas": 1}}).encode()
    created = call(node_1, "PUT", "/logs", headers={"Content-Type": "application/json"}, body=body)
    assert created.status == 200, created.text
    assert call(node_1, "GET", "/_cluster/health?wait_for_status=green&timeout=20s").json["status"] == "green"

    page.goto(page_url(node_1, control.url, control.token))
    page.wait_for_function("document.querySelectorAll('.node[data-state=\"up\"]').length === 3")
    assert page.locator(".node .star:not([hidden])").count() == 1
    assert page.locator("#health").text_content() == "green"
    assert page.locator("#shards .shard").count() == 6

    started = call(
        node_2, "POST", "/_sim/tasks?wait_for_completion=false&duration=2m&depth=2", headers={"X-Opaque-Id": "ui-e2e"}
    )
    root = started.json["task"]
    page.wait_for_function(f"document.querySelectorAll('.task[data-action^=\"{TEST}\"]:not([hidden])').length === 7")
    tree = [r for r in rows(page) if r["action"].startswith(TEST)]
    assert tree[0]["key"] == root and tree[0]["action"] == TEST and tree[0]["node"] == "node-2"
    children = [r for r in tree if r["action"] == f"{TEST}[n]"]
    assert sorted((r["node"], r["type"]) for r in children) == [
        ("node-1", "transport"),
        ("node-2", "direct"),
        ("node-3", "transport"),
    ]
    assert len([r for r in tree if r["action"] == f"{TEST}[n][n]"]) == 3
    assert {r["opaque"] for r in tree} == {"ui-e2e"}
    assert {r["state"] for r in tree} == {"running"}

    page.fill("#start-task input[name=duration]", "2m")
    page.select_option("#start-task select[name=depth]", "1")
    page.click("#start-task button")
    page.wait_for_function(f"document.querySelectorAll('.task[data-action^=\"{TEST}\"]:not([hidden])').length === 11")
    from_form = [r for r in rows(page) if r["opaque"] == UI_OPAQUE_ID]
    assert [r["action"] for r in from_form] == [TEST, f"{TEST}[n]", f"{TEST}[n]", f"{TEST}[n]"]
    screenshot = os.environ.get("SIMCLUSTER_SCREENSHOT")
    if screenshot:
        page.wait_for_timeout(1500)  # running times tick past zero, the timeline settles
        page.screenshot(path=str(Path(screenshot)))

    page.locator(f'.task[data-task="{root}"] button[data-verb="cancel"]').click()
    assert page.locator("#confirm-api").text_content() == f"POST /_tasks/{root}/_cancel"
    page.click("#confirm-ok")
    page.wait_for_selector(f'.task[data-task="{root}"].cancelled, .task[data-task="{root}"].ended', state="attached")
    page.wait_for_function(f"document.querySelectorAll('.task[data-action^=\"{TEST}\"]:not([hidden])').length === 4")
    assert {r["opaque"] for r in rows(page)} == {UI_OPAQUE_ID}
    left = call(node_1, "GET", f"/_tasks?actions={TEST}*&detailed").json
    assert {t["headers"]["X-Opaque-Id"] for n in left["nodes"].values() for t in n["tasks"].values()} == {UI_OPAQUE_ID}

    page.click('.node[data-node="node-3"] button[data-verb="kill"]')
    assert page.locator("#confirm-api").text_content() == "simcluster node kill node-3"
    page.click("#confirm-ok")
    page.wait_for_selector('.node[data-node="node-3"][data-state="gone"]')
    page.wait_for_function(
        "[...document.querySelectorAll('#timeline li')].some(li => li.textContent.includes('node-3 left the cluster'))"
    )
    assert cluster.status().node("node-3").state is NodeState.DOWN
    wait_until(lambda: page.locator("#summary").text_content().startswith("2 nodes"), 10, what="2 nodes in the header")
